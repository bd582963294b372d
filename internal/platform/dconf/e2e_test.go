package dconf

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// These tests run the real dconf-service on a private session bus (see
// dconftest) and cross-check this package against the dconf and gsettings
// command-line tools, which use GLib's own implementation.

const colorScheme = "/org/gnome/desktop/interface/color-scheme"

func newBusClient(t *testing.T) (*dconftest.Bus, *Client, context.Context) {
	t.Helper()
	bus := dconftest.StartSessionBus(t)
	c := NewClient(bus.Conn(t), Options{ConfigHome: bus.ConfigHome, DataDirs: bus.DataDirs()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return bus, c, ctx
}

// requireSchema skips tests that need the GNOME desktop schemas.
func requireSchema(t *testing.T, c *Client, ctx context.Context) {
	t.Helper()
	if _, err := c.Key(ctx, "org.gnome.desktop.interface", "color-scheme"); err != nil {
		t.Skipf("GNOME desktop schemas unavailable: %v", err)
	}
}

func TestE2EWriteColorScheme(t *testing.T) {
	bus, c, ctx := newBusClient(t)
	requireSchema(t, c, ctx)

	before, set, err := c.Effective(ctx, "org.gnome.desktop.interface", "color-scheme")
	if err != nil || set || !before.Equal(String("default")) {
		t.Fatalf("fresh Effective = %s, %v, %v; want 'default', false", before, set, err)
	}
	if err := c.Write(ctx, colorScheme, String("prefer-dark")); err != nil {
		t.Fatal(err)
	}
	// dconf-service has written the file before replying.
	v, set, err := c.Read(ctx, colorScheme)
	if err != nil || !set || !v.Equal(String("prefer-dark")) {
		t.Fatalf("Read = %s, %v, %v; want 'prefer-dark'", v, set, err)
	}
	if got := bus.Run(t, "gsettings", "get", "org.gnome.desktop.interface", "color-scheme"); got != "'prefer-dark'" {
		t.Fatalf("gsettings get = %s", got)
	}
	if got := bus.Run(t, "dconf", "read", colorScheme); got != "'prefer-dark'" {
		t.Fatalf("dconf read = %s", got)
	}
	eff, set, err := c.Effective(ctx, "org.gnome.desktop.interface", "color-scheme")
	if err != nil || !set || !eff.Equal(String("prefer-dark")) {
		t.Fatalf("Effective = %s, %v, %v", eff, set, err)
	}
	t.Logf("color-scheme: %s → %s", before, eff)

	if err := c.Reset(ctx, colorScheme); err != nil {
		t.Fatal(err)
	}
	if v, set, err := c.Read(ctx, colorScheme); err != nil || set {
		t.Fatalf("Read after Reset = %s, %v, %v; want unset", v, set, err)
	}
	eff, set, err = c.Effective(ctx, "org.gnome.desktop.interface", "color-scheme")
	if err != nil || set || !eff.Equal(String("default")) {
		t.Fatalf("Effective after Reset = %s, %v, %v; want 'default'", eff, set, err)
	}
	if got := bus.Run(t, "gsettings", "get", "org.gnome.desktop.interface", "color-scheme"); got != "'default'" {
		t.Fatalf("gsettings get after Reset = %s", got)
	}
	if got := bus.Run(t, "dconf", "read", colorScheme); got != "" {
		t.Fatalf("dconf read after Reset = %q, want nothing", got)
	}
}

// settingCases are schema keys of each common type with a non-default
// value, in the text format gsettings prints.
var settingCases = []struct {
	schema, key, text string
}{
	{"org.gnome.desktop.interface", "gtk-theme", "'Adwaita-dark'"},
	{"org.gnome.desktop.interface", "color-scheme", "'prefer-light'"},
	{"org.gnome.desktop.interface", "clock-show-seconds", "true"},
	{"org.gnome.desktop.interface", "cursor-size", "48"},
	{"org.gnome.desktop.session", "idle-delay", "uint32 900"},
	{"org.gnome.desktop.interface", "text-scaling-factor", "1.25"},
	{"org.gnome.desktop.input-sources", "xkb-options", "['caps:escape', 'compose:ralt']"},
	{"org.gnome.desktop.input-sources", "sources", "[('xkb', 'us'), ('xkb', 'de')]"},
}

// TestE2ESettingTypes writes one key of each type through Change and reads
// it with the GVDB reader and gsettings; then writes with gsettings and
// dconf and reads with the GVDB reader.
func TestE2ESettingTypes(t *testing.T) {
	bus, c, ctx := newBusClient(t)
	requireSchema(t, c, ctx)
	for _, tc := range settingCases {
		t.Run(tc.key, func(t *testing.T) {
			k, err := c.Key(ctx, tc.schema, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			v, err := ParseAs(k.Type, tc.text)
			if err != nil {
				t.Fatal(err)
			}

			// This package writes; GLib reads.
			if err := c.Set(ctx, tc.schema, tc.key, v); err != nil {
				t.Fatal(err)
			}
			if got, set, err := c.Read(ctx, k.Path); err != nil || !set || !got.Equal(v) {
				t.Fatalf("Read = %s, %v, %v; want %s", got, set, err, v)
			}
			if got := bus.Run(t, "gsettings", "get", tc.schema, tc.key); got != tc.text {
				t.Fatalf("gsettings get = %s, want %s", got, tc.text)
			}
			if got := bus.Run(t, "dconf", "read", k.Path); got != tc.text {
				t.Fatalf("dconf read = %s, want %s", got, tc.text)
			}

			// GLib writes; this package reads.
			bus.Run(t, "gsettings", "reset", tc.schema, tc.key)
			if _, set, err := c.Read(ctx, k.Path); err != nil || set {
				t.Fatalf("after gsettings reset: set=%v err=%v", set, err)
			}
			if eff, set, err := c.Effective(ctx, tc.schema, tc.key); err != nil || set || !eff.Equal(k.Default) {
				t.Fatalf("Effective after reset = %s, %v, %v; want default %s", eff, set, err, k.Default)
			}
			if got := bus.Run(t, "gsettings", "get", tc.schema, tc.key); got != k.Default.String() {
				t.Fatalf("gsettings get of default = %s, schema default parsed as %s", got, k.Default)
			}
			bus.Run(t, "gsettings", "set", tc.schema, tc.key, tc.text)
			if got, set, err := c.Read(ctx, k.Path); err != nil || !set || !got.Equal(v) {
				t.Fatalf("after gsettings set: Read = %s, %v, %v; want %s", got, set, err, v)
			}
			bus.Run(t, "dconf", "reset", k.Path)
			bus.Run(t, "dconf", "write", k.Path, tc.text)
			if got, set, err := c.Read(ctx, k.Path); err != nil || !set || !got.Equal(v) {
				t.Fatalf("after dconf write: Read = %s, %v, %v; want %s", got, set, err, v)
			}
		})
	}
}

// TestE2EVendorOverride checks a default that a Debian vendor override
// changes, against gsettings.
func TestE2EVendorOverride(t *testing.T) {
	bus, c, ctx := newBusClient(t)
	requireSchema(t, c, ctx)
	for _, key := range []string{"monospace-font-name", "font-name", "gtk-theme", "icon-theme", "cursor-theme"} {
		eff, set, err := c.Effective(ctx, "org.gnome.desktop.interface", key)
		if err != nil || set {
			t.Fatalf("Effective(%s) = %s, %v, %v", key, eff, set, err)
		}
		if got := bus.Run(t, "gsettings", "get", "org.gnome.desktop.interface", key); got != eff.String() {
			t.Errorf("%s: gsettings get = %s, Effective = %s", key, got, eff)
		}
	}
}

// TestE2EInvalidStoredValue stores a value GSettings must ignore: dconf
// accepts anything, but a nick outside the enum falls back to the default.
func TestE2EInvalidStoredValue(t *testing.T) {
	bus, c, ctx := newBusClient(t)
	requireSchema(t, c, ctx)
	if err := c.Set(ctx, "org.gnome.desktop.interface", "color-scheme", String("purple")); err == nil {
		t.Fatal("Set accepted a value outside the enum")
	}
	if err := c.Set(ctx, "org.gnome.desktop.interface", "color-scheme", Int32(1)); err == nil {
		t.Fatal("Set accepted a value of the wrong type")
	}
	if err := c.Write(ctx, colorScheme, String("purple")); err != nil {
		t.Fatal(err)
	}
	eff, set, err := c.Effective(ctx, "org.gnome.desktop.interface", "color-scheme")
	if err != nil || set || !eff.Equal(String("default")) {
		t.Fatalf("Effective = %s, %v, %v; want the default", eff, set, err)
	}
	if got := bus.Run(t, "gsettings", "get", "org.gnome.desktop.interface", "color-scheme"); got != "'default'" {
		t.Fatalf("gsettings get = %s, want 'default'", got)
	}
}

// TestE2ERandomValues writes random values of random types in one
// changeset and has dconf print them: GLib must decode exactly what this
// package encoded. Then it loads the printed text back through "dconf
// load" and reads GLib's encoding with the GVDB reader.
func TestE2ERandomValues(t *testing.T) {
	bus, c, ctx := newBusClient(t)
	r := rand.New(rand.NewPCG(7, 11))
	var changes []Change
	want := map[string]Value{}
	for i := 0; i < 200; i++ {
		v := randValue(t, r, randType(r, 3))
		path := fmt.Sprintf("/noema/random/k%03d", i)
		changes = append(changes, SetKey(path, v))
		want[path] = v
	}
	// Edge cases of the text format that random values rarely hit.
	for i, v := range []Value{
		Double(math.Copysign(0, -1)),
		Double(math.Float64frombits(quietNaN | 1<<63)),
		Double(math.Inf(1)),
		Double(5e-324),
		Double(1e300),
		String("\u00a0no-break space"),
		String("zero\u200bwidth"),
		String("ctl\x01\x1f\x7f"),
		String("both ' and \""),
		mustArray(t, "y", Byte('a'), Byte(0)),
		mustArray(t, "y", Byte(0), Byte(1)),
		mustArray(t, "ay", mustArray(t, "y", Byte('a'), Byte(0)), mustArray(t, "y", Byte(2))),
		Int64(math.MinInt64),
		Just(mustNothing(t, "s")),
		mustArray(t, "ms", mustNothing(t, "s"), Just(String("x"))),
	} {
		path := fmt.Sprintf("/noema/random/edge%02d", i)
		changes = append(changes, SetKey(path, v))
		want[path] = v
	}
	if err := c.Apply(ctx, changes...); err != nil {
		t.Fatal(err)
	}
	dump := bus.Run(t, "dconf", "dump", "/noema/random/")
	printed := map[string]string{}
	for _, line := range strings.Split(dump, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "[") {
			printed["/noema/random/"+k] = v
		}
	}
	for path, v := range want {
		if printed[path] != v.String() {
			t.Errorf("%s: dconf printed %s, want %s (type %s)", path, short(printed[path]), short(v.String()), v.Type())
		}
	}

	bus.Run(t, "dconf", "reset", "-f", "/noema/random/")
	if db, err := c.Snapshot(ctx); err != nil || len(db.Keys()) != 0 {
		t.Fatalf("after reset -f: %v, %v", db, err)
	}
	var load strings.Builder
	load.WriteString("[/]\n")
	for path, v := range want {
		if f, ok := v.Float(); ok && f != 0 && math.Abs(f) < 0x1p-1022 {
			// GLib prints subnormal doubles but refuses to parse them:
			// strtod reports ERANGE, which g_variant_parse treats as
			// "number too big for any type".
			delete(want, path)
			continue
		}
		fmt.Fprintf(&load, "%s=%s\n", strings.TrimPrefix(path, "/noema/random/"), v)
	}
	cmd := bus.Command(ctx, "dconf", "load", "/noema/random/")
	cmd.Stdin = strings.NewReader(load.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dconf load: %v\n%s", err, out)
	}
	db, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for path, v := range want {
		got, ok, err := db.Lookup(path)
		if err != nil || !ok || !got.Equal(v) {
			t.Errorf("%s: after dconf load of %s: got %s, %v, %v", path, short(v.String()), short(got.String()), ok, err)
			continue
		}
		raw, _ := db.raw(path)
		enc, _ := Marshal(Variant(v))
		if string(raw) != string(enc) {
			t.Errorf("%s: GLib stored % x, Marshal gives % x", path, raw, enc)
		}
	}
}

func TestE2EApplyAndResetDirectory(t *testing.T) {
	bus, c, ctx := newBusClient(t)
	w := NewWriter(bus.Conn(t))
	tag, err := w.Change(ctx,
		SetKey("/noema/dir/a", String("x")),
		SetKey("/noema/dir/sub/b", Bool(true)),
		SetKey("/noema/other", Int32(1)))
	if err != nil {
		t.Fatal(err)
	}
	if tag == "" {
		t.Error("Change returned an empty tag")
	}
	db, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(db.Keys(), " "); got != "/noema/dir/a /noema/dir/sub/b /noema/other" {
		t.Fatalf("Keys = %s", got)
	}
	if got := strings.Join(db.List("/noema/dir/"), " "); got != "a sub/" {
		t.Fatalf("List = %s", got)
	}
	if err := c.Reset(ctx, "/noema/dir/"); err != nil {
		t.Fatal(err)
	}
	db, err = c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(db.Keys(), " "); got != "/noema/other" {
		t.Fatalf("Keys after resetting /noema/dir/ = %s", got)
	}
}

func TestE2EErrors(t *testing.T) {
	bus, c, ctx := newBusClient(t)
	if err := c.Write(ctx, "/noema/dir/", Int32(1)); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Write to a directory: %v", err)
	}
	if err := c.Write(ctx, "noema", Int32(1)); err == nil {
		t.Error("Write to a relative path succeeded")
	}
	if err := c.Write(ctx, "/a//b", Int32(1)); err == nil {
		t.Error("Write to a path with // succeeded")
	}
	if err := c.Apply(ctx, SetKey("/a", Int32(1)), ResetKey("/a")); err == nil {
		t.Error("Apply with a duplicate path succeeded")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Write(canceled, "/noema/x", Int32(1)); err == nil {
		t.Error("Write with a canceled context succeeded")
	}
	if _, _, err := NewClient(nil, Options{ConfigHome: bus.ConfigHome}).Read(canceled, "/noema/x"); err == nil {
		t.Error("Read with a canceled context succeeded")
	}
	if err := NewClient(nil, Options{}).Write(ctx, "/noema/x", Int32(1)); err == nil {
		t.Error("Write without a connection succeeded")
	}

	// A corrupt database is an error, not an empty result.
	if err := c.Write(ctx, "/noema/x", Int32(1)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bus.DatabasePath(), []byte("GVariant but then garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx, "/noema/x"); err == nil || !strings.Contains(err.Error(), "corrupt GVDB file") {
		t.Errorf("Read of a corrupt database: %v", err)
	}
}

func TestE2EConnectSession(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ConnectSession(ctx, Options{BusAddress: bus.Address, ConfigHome: bus.ConfigHome})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Write(ctx, "/noema/connected", Bool(true)); err != nil {
		t.Fatal(err)
	}
	if got := bus.Run(t, "dconf", "read", "/noema/connected"); got != "true" {
		t.Fatalf("dconf read = %s", got)
	}
	if _, err := ConnectSession(ctx, Options{BusAddress: "unix:path=/nonexistent/bus"}); err == nil {
		t.Fatal("ConnectSession to a missing bus succeeded")
	}
}
