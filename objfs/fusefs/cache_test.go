package fusefs

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTTLCache(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	c := newTTLCache[int](time.Second, 2, func() time.Time { return now })
	loads := 0
	load := func(v int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { loads++; return v, nil }
	}
	if v, _ := c.get(ctx, "a", load(1)); v != 1 {
		t.Fatal(v)
	}
	if v, _ := c.get(ctx, "a", load(2)); v != 1 || loads != 1 {
		t.Fatalf("fresh entry reloaded: %d after %d loads", v, loads)
	}
	now = now.Add(time.Second)
	if v, _ := c.get(ctx, "a", load(3)); v != 3 {
		t.Fatalf("stale entry kept: %d", v)
	}
	// Errors are not kept.
	if _, err := c.get(ctx, "b", func(context.Context) (int, error) { return 0, errors.New("boom") }); err == nil {
		t.Fatal("no error")
	}
	if v, _ := c.get(ctx, "b", load(4)); v != 4 {
		t.Fatalf("after an error: %d", v)
	}
	// At most two entries.
	c.get(ctx, "c", load(5))
	if len(c.m) != 2 {
		t.Fatalf("%d entries kept", len(c.m))
	}
}
