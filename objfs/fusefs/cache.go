package fusefs

import (
	"context"
	"sync"
	"time"
)

// ttlCache keeps loaded values for a short time. A FUSE listing is read
// once for the directory and then looked up entry by entry (READDIRPLUS
// does that for every name), so without it one `ls` would run the same
// query once per file.
type ttlCache[V any] struct {
	ttl time.Duration
	max int // entries kept; the oldest goes first
	now func() time.Time

	mu sync.Mutex
	m  map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	at time.Time
	v  V
}

func newTTLCache[V any](ttl time.Duration, max int, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, max: max, now: now, m: make(map[string]ttlEntry[V])}
}

// get returns the value for key, loading it when it is missing or older
// than the cache's lifetime. Errors are not kept: the next call tries
// again.
func (c *ttlCache[V]) get(ctx context.Context, key string, load func(context.Context) (V, error)) (V, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.v, nil
	}
	v, err := load(ctx)
	if err != nil {
		var zero V
		return zero, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		c.evictLocked(now)
	}
	c.m[key] = ttlEntry[V]{at: now, v: v}
	return v, nil
}

// evictLocked drops expired entries, and the oldest one when none had
// expired.
func (c *ttlCache[V]) evictLocked(now time.Time) {
	var oldest string
	var oldestAt time.Time
	found := false
	for k, e := range c.m {
		if now.Sub(e.at) >= c.ttl {
			delete(c.m, k)
			continue
		}
		if !found || e.at.Before(oldestAt) {
			oldest, oldestAt, found = k, e.at, true
		}
	}
	if len(c.m) >= c.max && found {
		delete(c.m, oldest)
	}
}
