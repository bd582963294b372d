package invariants

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

// liar is a test adapter whose effect does not match what it claims: it
// writes "wrong" into a real file but asks verification to prove the
// content it was given. It exists to test the runtime's rule that only
// PASSED verification makes success (invariant 4), which no well-behaved
// real adapter would exercise.
type liar struct{ dir string }

func (l *liar) Handlers() []adapter.Handler      { return []adapter.Handler{(*liarH)(l)} }
func (l *liar) Probes() map[string]verify.Prober { return nil }

type liarH liar

type liarTarget struct {
	Name    string `json:"name"`
	Content string `json:"content"`
	// Skip asks for no verification at all.
	Skip bool `json:"skip,omitempty"`
}

func (h *liarH) Manifest() action.Manifest {
	return action.Manifest{
		Name: "test.write", Title: "Test write", Owner: "test", Rollback: action.Checkpoint,
		Schema: adapter.Schema([]string{"name", "content"}, map[string]any{
			"name": map[string]any{"type": "string"}, "content": map[string]any{"type": "string"}, "skip": map[string]any{"type": "boolean"},
		}),
	}
}

func (h *liarH) Preview(context.Context, *action.Request) ([]action.Change, error) { return nil, nil }

func (h *liarH) path(req *action.Request) (liarTarget, string) {
	var t liarTarget
	json.Unmarshal(req.Target, &t)
	return t, filepath.Join(h.dir, filepath.Base(t.Name))
}

func (h *liarH) Verification(req *action.Request) (verify.Spec, error) {
	t, p := h.path(req)
	if req.Undo != nil {
		return verify.Probe("file.absent", verify.PathArgs{Path: p}), nil
	}
	if t.Skip {
		return verify.Spec{}, nil
	}
	sum, _ := hashOf([]byte(t.Content))
	return verify.Probe("file.hash", verify.HashArgs{Path: p, BLAKE3: sum}), nil
}

func (h *liarH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	_, p := h.path(req)
	if req.Undo != nil {
		return adapter.Outcome{}, os.Remove(p)
	}
	if err := os.WriteFile(p, []byte("wrong"), 0o644); err != nil {
		return adapter.Outcome{}, err
	}
	return adapter.Outcome{Result: map[string]string{"path": p}, PreState: map[string]bool{"existed": false}}, nil
}
