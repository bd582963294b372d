package cognition

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Breaker stops calling a model server that keeps failing, for a while,
// so that a dead server costs one timeout rather than one per request.
// Its state is kept in a small file so short-lived CLI processes share it.
type Breaker struct {
	mu        sync.Mutex
	path      string
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	st        breakerState
}

type breakerState struct {
	Failures  int       `json:"failures"`
	OpenUntil time.Time `json:"open_until"`
}

// NewBreaker keeps state in path ("" keeps it in memory).
func NewBreaker(path string, threshold int, cooldown time.Duration) *Breaker {
	b := &Breaker{path: path, threshold: threshold, cooldown: cooldown, now: time.Now}
	if path != "" {
		if data, err := os.ReadFile(path); err == nil {
			json.Unmarshal(data, &b.st)
		}
	}
	return b
}

// Open reports whether calls should be skipped now.
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now().Before(b.st.OpenUntil)
}

// Result records a call's outcome.
func (b *Breaker) Result(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		if b.st.Failures == 0 && b.st.OpenUntil.IsZero() {
			return
		}
		b.st = breakerState{}
	} else {
		b.st.Failures++
		if b.st.Failures >= b.threshold {
			b.st.OpenUntil = b.now().Add(b.cooldown)
			b.st.Failures = 0
		}
	}
	if b.path != "" {
		data, _ := json.Marshal(b.st)
		os.MkdirAll(filepath.Dir(b.path), 0o700)
		tmp := b.path + ".tmp"
		if os.WriteFile(tmp, data, 0o600) == nil {
			os.Rename(tmp, b.path)
		}
	}
}
