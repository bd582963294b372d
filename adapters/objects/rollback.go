package objects

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/objfs"
	"github.com/noema-project/noema/verify"
)

const (
	maxSteps    = 10000
	planTimeout = 30 * time.Second
)

type rollbackH struct{ m *Module }

type rollbackTarget struct {
	Path  string `json:"path"`
	Steps int    `json:"steps,omitempty"`
}

// rollbackState is what undo restores: the version that was current
// before, which a pointer keeps in the store.
type rollbackState struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Hash    string `json:"hash"`
	Deleted bool   `json:"deleted,omitempty"`
}

func (h *rollbackH) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "fs.rollback",
		Title: "Roll a file back to an earlier version",
		Description: "Restore the version of a file that lies the given number of steps back in its history (1 = the " +
			"previous one). Nothing is lost: unsaved changes are kept as a version first, and the version rolled back " +
			"from stays in the store under a pointer, so undo brings it back.",
		Schema: adapter.Schema([]string{"path"}, pathSchema("the file to roll back", map[string]any{
			"steps": map[string]any{"type": "integer", "minimum": 1, "maximum": maxSteps, "description": "how many versions back (default 1)"},
		})),
		Verification: "the file's BLAKE3 hash equals the restored version's hash, and the store's current pointer names that version",
		Rollback:     action.IdempotentReverse,
		RollbackNote: "undo restores the version the rollback replaced, which a displaced/N pointer keeps",
		PathFields:   []string{"path"},
		Utterances: []string{
			"(roll back|rollback) {path} [by] {steps} (version|versions|step|steps)",
			"(roll back|rollback) {path} to [its] (previous|earlier) {steps} (version|versions)",
			"(revert|restore) {path} to [what it was] {steps} (version|versions|edits|changes) ago",
			"(undo|take back) the last {steps} (changes|edits|versions) (to|of|in) {path}",
			"(roll back|rollback|revert|restore) {path} to [its|the] (previous|last|earlier|prior) version",
			"go back {steps} (version|versions) (of|for|on) {path}",
		},
		Examples: []action.Example{
			{Text: "roll back shopping.txt by 2 versions", Target: json.RawMessage(`{"path":"shopping.txt","steps":2}`)},
			{Text: "revert thesis.md to its previous version", Target: json.RawMessage(`{"path":"thesis.md","steps":1}`)},
			{Text: "undo the last 3 changes to plan.org", Target: json.RawMessage(`{"path":"plan.org","steps":3}`)},
		},
		Aliases: []string{"rollback", "roll back", "revert file", "restore old version", "go back to a previous version"},
		Owner:   "objects",
	}
}

func (h *rollbackH) Risk(req *action.Request) action.Risk {
	var t rollbackTarget
	adapter.DecodeTarget(req, &t)
	return h.m.risk(h.Manifest().Risk, t.Path)
}

func (h *rollbackH) target(req *action.Request) (rollbackTarget, error) {
	var t rollbackTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	p, err := absPath("path", t.Path)
	if err != nil {
		return t, err
	}
	t.Path = p
	if t.Steps == 0 {
		t.Steps = 1
	}
	if t.Steps < 1 || t.Steps > maxSteps {
		return t, fmt.Errorf("fs.rollback: steps %d is outside 1..%d", t.Steps, maxSteps)
	}
	return t, nil
}

func (h *rollbackH) plan(req *action.Request) (objfs.RollbackPlan, error) {
	t, err := h.target(req)
	if err != nil {
		return objfs.RollbackPlan{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), planTimeout)
	defer cancel()
	st, err := h.m.Store(ctx)
	if err != nil {
		return objfs.RollbackPlan{}, err
	}
	p, err := st.PlanRollback(ctx, t.Path, t.Steps)
	if err != nil {
		return objfs.RollbackPlan{}, fmt.Errorf("fs.rollback: %w", err)
	}
	return p, nil
}

func describe(v objfs.Version) string {
	if v.ID == "" {
		return fmt.Sprintf("unsaved content %s", short(v.Hash))
	}
	if v.Deleted {
		return fmt.Sprintf("version %d (deleted %s)", v.Seq, v.CreatedAt.Local().Format(time.DateTime))
	}
	return fmt.Sprintf("version %d of %s, %d bytes, %s", v.Seq, v.CreatedAt.Local().Format(time.DateTime), v.Size, short(v.Hash))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func (h *rollbackH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var st rollbackState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		return []action.Change{{Subject: st.Path, New: "restore " + st.Version + " (" + short(st.Hash) + ")"}}, nil
	}
	p, err := h.plan(req)
	if err != nil {
		return nil, err
	}
	from := p.From
	if p.Unsaved {
		from = objfs.Version{Hash: p.DiskHash}
	}
	c := action.Change{Subject: p.Path, Old: describe(from), New: describe(p.To)}
	if p.Unsaved {
		c.Note = "the file's unsaved content is kept as a new version first"
	}
	return []action.Change{c}, nil
}

// restoredSpec proves that a version is what the file holds and what the
// store calls current.
func restoredSpec(path, version, hash string, deleted bool) verify.Spec {
	disk := verify.Probe("file.hash", verify.HashArgs{Path: path, BLAKE3: hash})
	if deleted {
		disk = verify.Probe("file.absent", verify.PathArgs{Path: path})
	}
	return verify.AllOf(disk, verify.Probe("objfs.current", CurrentArgs{Path: path, Version: version}))
}

func (h *rollbackH) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st rollbackState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		return restoredSpec(st.Path, st.Version, st.Hash, st.Deleted), nil
	}
	p, err := h.plan(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return restoredSpec(p.Path, p.To.ID, p.To.Hash, p.To.Deleted), nil
}

func (h *rollbackH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	st, err := h.m.Store(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	var res objfs.RestoreResult
	if req.Undo != nil {
		var pre rollbackState
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		if pre.Path != t.Path {
			return adapter.Outcome{}, fmt.Errorf("pre-state is for %s, not %s", pre.Path, t.Path)
		}
		res, err = st.Restore(ctx, t.Path, pre.Version)
	} else {
		res, err = st.Rollback(ctx, t.Path, t.Steps)
	}
	if err != nil {
		return adapter.Outcome{}, fmt.Errorf("fs.rollback: %w", err)
	}
	out := adapter.Outcome{
		Result: map[string]any{
			"path": res.Path, "restored": res.To.ID, "restored_seq": res.To.Seq, "hash": res.To.Hash,
			"replaced": res.From.ID, "pointer": res.Pointer, "kept_unsaved": res.Kept,
		},
		PreState: rollbackState{Path: res.Path, Version: res.From.ID, Hash: res.From.Hash, Deleted: res.From.Deleted},
	}
	if res.From.ID == res.To.ID {
		out.PreState = nil // nothing changed, nothing to undo
	}
	return out, nil
}
