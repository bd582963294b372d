// Package memory owns long-term memory as typed actions: memory.remember
// stores a fact, memory.recall finds facts by full-text search (SQLite
// FTS5, BM25 ranking), memory.forget sets one aside. Forgetting keeps the
// text for a while so that it can be undone, then purges it.
//
// What memory returns was written earlier, possibly from untrusted text,
// so recall results carry "untrusted": true: the cognition layer must
// taint any plan made while they are in a model's context.
package memory

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/clock"
	"github.com/noema-project/noema/verify"
)

// Options configure the memory adapter.
type Options struct {
	// Home is $NOEMA_HOME, for the default DBPath.
	Home string
	// DBPath is the memory database (default Home/memory.db).
	DBPath string
	// KeepForgotten is how long a forgotten memory's text is kept so that
	// forgetting can be undone (default 30 days).
	KeepForgotten time.Duration
	// Clock tells the time (default the system clock).
	Clock clock.Clock
}

// Module is the memory adapter.
type Module struct {
	opts Options

	mu sync.Mutex
	db *sql.DB
}

// New returns the memory module; the database opens on first use.
func New(opts Options) *Module {
	if opts.DBPath == "" {
		opts.DBPath = filepath.Join(opts.Home, "memory.db")
	}
	if opts.KeepForgotten <= 0 {
		opts.KeepForgotten = 30 * 24 * time.Hour
	}
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	return &Module{opts: opts}
}

// Close releases the database.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.db == nil {
		return nil
	}
	err := m.db.Close()
	m.db = nil
	return err
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{&rememberH{m}, &recallH{m}, &forgetH{m}}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{
		"memory.exists":    verify.ProberFunc(m.probeExists),
		"memory.absent":    verify.ProberFunc(m.probeAbsent),
		"memory.forgotten": verify.ProberFunc(m.probeForgotten),
		"memory.contains":  verify.ProberFunc(m.probeContains),
		"memory.store.ok":  verify.ProberFunc(m.probeStoreOK),
	}
}

func (m *Module) store(ctx context.Context) (*store, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.db == nil {
		if !filepath.IsAbs(m.opts.DBPath) {
			return nil, fmt.Errorf("memory: database path %q is not absolute (set Home or DBPath)", m.opts.DBPath)
		}
		db, err := openStore(ctx, m.opts.DBPath)
		if err != nil {
			return nil, err
		}
		m.db = db
	}
	return &store{db: m.db}, nil
}

// cleanText keeps line breaks and tabs and drops other control characters.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func decodeArgs(name string, raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("%s: probe arguments missing", name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: probe arguments: %w", name, err)
	}
	return nil
}

// IDsArgs name memories.
type IDsArgs struct {
	IDs []string `json:"ids"`
}

// IDArgs name one memory.
type IDArgs struct {
	ID string `json:"id"`
}

// TextArgs give a memory's exact text.
type TextArgs struct {
	Text string `json:"text"`
}

// probeExists passes when every id is remembered (not forgotten) and the
// full-text index finds it.
func (m *Module) probeExists(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a IDsArgs
	if err := decodeArgs("memory.exists", raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	for _, id := range a.IDs {
		r, err := st.get(ctx, id)
		if err != nil {
			return verify.Observation{Pass: false, Detail: err.Error()}, nil
		}
		if !r.Forgotten.IsZero() {
			return verify.Observation{Pass: false, Observed: id, Detail: fmt.Sprintf("memory %s is forgotten", id)}, nil
		}
		found, ok, err := st.indexed(ctx, r)
		if err != nil {
			return verify.Observation{}, err
		}
		if ok && !found {
			return verify.Observation{Pass: false, Observed: id, Detail: fmt.Sprintf("memory %s is stored but the search index does not find it", id)}, nil
		}
	}
	return verify.Observation{Pass: true, Observed: len(a.IDs), Detail: fmt.Sprintf("%d memories stored and searchable", len(a.IDs))}, nil
}

func (m *Module) probeAbsent(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a IDArgs
	if err := decodeArgs("memory.absent", raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	if _, err := st.get(ctx, a.ID); err == nil {
		return verify.Observation{Pass: false, Detail: fmt.Sprintf("memory %s is still stored", a.ID)}, nil
	}
	return verify.Observation{Pass: true, Detail: fmt.Sprintf("memory %s is not stored", a.ID)}, nil
}

// probeForgotten passes when the memory is marked forgotten and the
// search index no longer finds it.
func (m *Module) probeForgotten(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a IDArgs
	if err := decodeArgs("memory.forgotten", raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	r, err := st.get(ctx, a.ID)
	if err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	if r.Forgotten.IsZero() {
		return verify.Observation{Pass: false, Detail: fmt.Sprintf("memory %s is still remembered", a.ID)}, nil
	}
	found, _, err := st.indexed(ctx, r)
	if err != nil {
		return verify.Observation{}, err
	}
	if found {
		return verify.Observation{Pass: false, Detail: fmt.Sprintf("memory %s is marked forgotten but search still finds it", a.ID)}, nil
	}
	return verify.Observation{Pass: true, Detail: fmt.Sprintf("memory %s is forgotten and out of the search index", a.ID)}, nil
}

func (m *Module) probeContains(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a TextArgs
	if err := decodeArgs("memory.contains", raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	r, ok, err := st.active(ctx, a.Text)
	if err != nil {
		return verify.Observation{}, err
	}
	if !ok {
		return verify.Observation{Pass: false, Detail: "no remembered memory has that text"}, nil
	}
	return verify.Observation{Pass: true, Observed: r.ID, Detail: "memory " + r.ID + " has that text"}, nil
}

func (m *Module) probeStoreOK(ctx context.Context, _ json.RawMessage) (verify.Observation, error) {
	st, err := m.store(ctx)
	if err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	if err := st.check(ctx); err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	return verify.Observation{Pass: true, Detail: m.opts.DBPath + " opens and its search index is consistent"}, nil
}
