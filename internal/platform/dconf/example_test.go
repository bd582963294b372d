package dconf_test

import (
	"context"
	"fmt"
	"log"

	"github.com/noema-project/noema/internal/platform/dconf"
)

// Change a desktop setting and prove the effect by reading it back the
// way GSettings clients see it.
func Example() {
	ctx := context.Background()
	client, err := dconf.ConnectSession(ctx, dconf.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	const schema, key = "org.gnome.desktop.interface", "color-scheme"
	before, _, err := client.Effective(ctx, schema, key)
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Set(ctx, schema, key, dconf.String("prefer-dark")); err != nil {
		log.Fatal(err)
	}
	after, _, err := client.Effective(ctx, schema, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s → %s\n", key, before, after)
}

func ExampleParseAs() {
	v, err := dconf.ParseAs("u", "5")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v, "|", v.Print(false), "|", v.Type())
	// Output: uint32 5 | 5 | u
}

func ExampleMarshal() {
	b, err := dconf.Marshal(dconf.StringArray([]string{"a", "b"}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("% x\n", b)
	// Output: 61 00 62 00 02 04
}
