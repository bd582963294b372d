package files

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type copyH struct{ m *Module }

func (h *copyH) Manifest() action.Manifest {
	return action.Manifest{
		Name: "fs.copy", Title: "Copy a file",
		Description: "Copy a file or folder. A file it replaces is checkpointed; undo removes the copy.",
		Schema:      fromToSchema(), Verification: "the copy exists and has the source's content",
		Rollback: action.Checkpoint, PathFields: []string{"from", "to"},
		Utterances: []string{"(copy|duplicate) {from} to {to}", "make a copy of {from} (in|at|as|called|named) {to}"},
		Examples:   []action.Example{{Text: "copy report.txt to backup.txt", Target: json.RawMessage(`{"from":"report.txt","to":"backup.txt"}`)}},
		Owner:      "files",
	}
}

func (h *copyH) Risk(req *action.Request) action.Risk {
	var t fromTo
	adapter.DecodeTarget(req, &t)
	r := h.m.risk(h.Manifest().Risk, t.To)
	if secretPath(t.From) {
		r.SecretAccess = true
	}
	if fi, err := os.Lstat(t.To); err == nil && !fi.IsDir() && req.Undo == nil {
		r.Destructive = true
	}
	return r
}

func (h *copyH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := resolveFromTo(req)
	if err != nil {
		return nil, err
	}
	if req.Undo != nil {
		return []action.Change{{Subject: t.To, Old: kindOf(t.To), New: "copy removed"}}, nil
	}
	return []action.Change{{Subject: t.To, Old: kindOf(t.To), New: "copy of " + t.From + " (" + kindOf(t.From) + ")"}}, nil
}

func (h *copyH) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var pre movePre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return verify.Spec{}, err
		}
		return stateProbe(pre.Dest), nil
	}
	t, err := resolveFromTo(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.AllOf(
		verify.Probe("file.exists", verify.PathArgs{Path: t.From}),
		verify.Probe("file.exists", verify.PathArgs{Path: t.To}),
	), nil
}

func (h *copyH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var pre movePre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		if pre.Dir {
			// The copy is a folder we made; send it to the trash rather
			// than delete what may have changed since.
			if _, err := h.m.opts.Trash.Put(ctx, pre.To); err != nil {
				return adapter.Outcome{}, err
			}
			return adapter.Outcome{Result: map[string]any{"trashed": pre.To}}, nil
		}
		if err := h.m.restore(pre.Dest); err != nil {
			return adapter.Outcome{}, err
		}
		return adapter.Outcome{Result: map[string]any{"restored": pre.To}}, nil
	}
	t, err := resolveFromTo(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	fi, err := os.Lstat(t.From)
	if err != nil {
		return adapter.Outcome{}, err
	}
	pre := movePre{From: t.From, To: t.To, Dest: fileState{Path: t.To}, Dir: fi.IsDir()}
	if dfi, err := os.Lstat(t.To); err == nil {
		if dfi.IsDir() || pre.Dir {
			return adapter.Outcome{}, fmt.Errorf("%s already exists", t.To)
		}
		if pre.Dest, err = h.m.checkpoint(t.To); err != nil {
			return adapter.Outcome{}, err
		}
		if err := os.Remove(t.To); err != nil {
			return adapter.Outcome{}, err
		}
	}
	out := adapter.Outcome{Result: map[string]any{"from": t.From, "to": t.To}, PreState: pre}
	switch {
	case pre.Dir:
		if err := copyTree(ctx, t.From, t.To); err != nil {
			return out, fmt.Errorf("copy %s: %w", t.From, err)
		}
	case fi.Mode().IsRegular():
		if pre.Hash, err = verifyHash(t.From); err != nil {
			return out, err
		}
		out.PreState = pre
		if err := copyFile(ctx, t.From, t.To, fi.Mode().Perm()); err != nil {
			return out, fmt.Errorf("copy %s: %w", t.From, err)
		}
		out.Verification = hashProbe(t.To, pre.Hash)
	default:
		return adapter.Outcome{}, fmt.Errorf("%s is not a file or folder", t.From)
	}
	return out, nil
}

func verifyHash(path string) (string, error) { return verify.FileBLAKE3(path) }
