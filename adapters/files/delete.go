package files

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/platform/trash"
	"github.com/noema-project/noema/verify"
)

type deleteH struct{ m *Module }

func (h *deleteH) Manifest() action.Manifest {
	return action.Manifest{
		Name: "fs.delete", Title: "Delete a file (to the trash)",
		Description:  "Move a file or folder to the trash, from where undo restores it.",
		Schema:       pathSchema("absolute path to delete"),
		Risk:         action.Risk{Destructive: true},
		Verification: "the path is gone and the item is in the trash",
		Rollback:     action.IdempotentReverse, PathFields: []string{"path"},
		Utterances: []string{"(delete|remove|trash|erase|get rid of|throw away|bin) [the] [file|folder] {path}", "(move|put|send) {path} to [the] trash"},
		Examples:   []action.Example{{Text: "delete old.log", Target: json.RawMessage(`{"path":"old.log"}`)}},
		Owner:      "files",
	}
}

func (h *deleteH) Risk(req *action.Request) action.Risk {
	var t pathTarget
	adapter.DecodeTarget(req, &t)
	r := h.m.risk(h.Manifest().Risk, t.Path)
	if req.Undo != nil {
		r.Destructive = false // restoring from the trash
	}
	return r
}

type deletePre struct {
	Item trash.Item `json:"item"`
}

func (h *deleteH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	if req.Undo != nil {
		return []action.Change{{Subject: t.Path, Old: kindOf(t.Path), New: "restored from the trash"}}, nil
	}
	return []action.Change{{Subject: t.Path, Old: kindOf(t.Path), New: "in the trash (restorable)"}}, nil
}

func (h *deleteH) Verification(req *action.Request) (verify.Spec, error) {
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	p, err := absPath("path", t.Path)
	if err != nil {
		return verify.Spec{}, err
	}
	if req.Undo != nil {
		return verify.Probe("file.exists", verify.PathArgs{Path: p}), nil
	}
	return verify.Probe("file.absent", verify.PathArgs{Path: p}), nil
}

func (h *deleteH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if h.m.opts.Trash == nil {
		return adapter.Outcome{}, fmt.Errorf("no trash configured")
	}
	if req.Undo != nil {
		var pre deletePre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		it, err := h.m.opts.Trash.Lookup(ctx, pre.Item.TrashDir, pre.Item.ID)
		if err != nil {
			return adapter.Outcome{}, fmt.Errorf("find %s in the trash: %w", pre.Item.OriginalPath, err)
		}
		if err := h.m.opts.Trash.Restore(ctx, it); err != nil {
			return adapter.Outcome{}, err
		}
		return adapter.Outcome{Result: map[string]any{"restored": it.OriginalPath}}, nil
	}
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	p, err := absPath("path", t.Path)
	if err != nil {
		return adapter.Outcome{}, err
	}
	it, err := h.m.opts.Trash.Put(ctx, p)
	if err != nil {
		return adapter.Outcome{}, err
	}
	return adapter.Outcome{
		Result:       map[string]any{"path": p, "trash": it.FilesPath},
		PreState:     deletePre{Item: it},
		Verification: verify.Probe("file.exists", verify.PathArgs{Path: it.FilesPath}),
	}, nil
}
