package state

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
)

func TestCompareAndSetAndCorruption(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := &action.Envelope{
		Identity:    action.Identity{ActionID: "act_1", CreatedAt: time.Now(), CorrelationID: "cor_1", IdempotencyKey: "k"},
		Request:     action.Request{Action: "fs.read"},
		RequestHash: "h",
		Execution:   action.Execution{State: action.Created},
	}
	if err := s.Insert(ctx, env); err != nil {
		t.Fatal(err)
	}
	dup := *env
	dup.Identity.ActionID = "act_2"
	if err := s.Insert(ctx, &dup); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("duplicate key: %v", err)
	}
	env.Execution.State = action.PolicyPending
	if err := s.Update(ctx, env, action.Created); err != nil {
		t.Fatal(err)
	}
	// A second writer that read CREATED loses.
	if err := s.Update(ctx, env, action.Created); !errors.Is(err, ErrStale) {
		t.Fatalf("stale update: %v", err)
	}
	// A corrupt row is a clear error, not a panic or a zero envelope.
	s.db.Exec(`UPDATE actions SET envelope = '{"identity":' WHERE id = 'act_1'`)
	if _, err := s.Get(ctx, "act_1"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt envelope: %v", err)
	}
	if _, err := s.Get(ctx, "act_9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
