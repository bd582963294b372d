package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type fromTo struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func fromToSchema() json.RawMessage {
	return adapter.Schema([]string{"from", "to"}, map[string]any{
		"from": map[string]any{"type": "string", "minLength": 1},
		"to":   map[string]any{"type": "string", "minLength": 1},
	})
}

// resolve checks both paths and, like mv and cp, puts the source inside
// `to` when `to` is an existing folder.
func resolveFromTo(req *action.Request) (fromTo, error) {
	var t fromTo
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	var err error
	if t.From, err = absPath("from", t.From); err != nil {
		return t, err
	}
	if t.To, err = absPath("to", t.To); err != nil {
		return t, err
	}
	if fi, err := os.Stat(t.To); err == nil && fi.IsDir() {
		t.To = filepath.Join(t.To, filepath.Base(t.From))
	}
	if t.From == t.To {
		return t, fmt.Errorf("from and to are the same path")
	}
	return t, nil
}

// movePre is the pre-state of a move or copy.
type movePre struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	Dest fileState `json:"dest"` // what was at To before
	Hash string    `json:"hash,omitempty"`
	Dir  bool      `json:"dir,omitempty"`
}

type moveH struct{ m *Module }

func (h *moveH) Manifest() action.Manifest {
	return action.Manifest{
		Name: "fs.move", Title: "Move or rename a file",
		Description: "Move or rename a file or folder. A file it replaces is checkpointed; undo moves it back.",
		Schema:      fromToSchema(), Verification: "the source is gone and the destination holds the same content",
		Rollback: action.IdempotentReverse, PathFields: []string{"from", "to"},
		Utterances: []string{"(move|rename) {from} to {to}", "(move|put) {from} (in|into) {to}"},
		Examples:   []action.Example{{Text: "rename draft.txt to final.txt", Target: json.RawMessage(`{"from":"draft.txt","to":"final.txt"}`)}},
		Owner:      "files",
	}
}

func (h *moveH) Risk(req *action.Request) action.Risk {
	var t fromTo
	adapter.DecodeTarget(req, &t)
	r := h.m.risk(h.Manifest().Risk, t.From, t.To)
	if fi, err := os.Lstat(t.To); err == nil && !fi.IsDir() && req.Undo == nil {
		// Replacing a file is undoable but worth a look.
		r.Destructive = true
	}
	return r
}

func (h *moveH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := resolveFromTo(req)
	if err != nil {
		return nil, err
	}
	if req.Undo != nil {
		return []action.Change{{Subject: t.To, Old: kindOf(t.To), New: "moved back to " + t.From}}, nil
	}
	ch := []action.Change{{Subject: t.From, Old: kindOf(t.From), New: "moved to " + t.To}}
	if k := kindOf(t.To); k != "missing" {
		ch = append(ch, action.Change{Subject: t.To, Old: k, New: "replaced (checkpointed)"})
	}
	return ch, nil
}

func (h *moveH) Verification(req *action.Request) (verify.Spec, error) {
	t, err := resolveFromTo(req)
	if req.Undo != nil {
		var pre movePre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return verify.Spec{}, err
		}
		back := verify.Probe("file.exists", verify.PathArgs{Path: pre.From})
		if pre.Hash != "" {
			back = hashProbe(pre.From, pre.Hash)
		}
		return verify.AllOf(back, stateProbe(pre.Dest)), nil
	}
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.AllOf(
		verify.Probe("file.absent", verify.PathArgs{Path: t.From}),
		verify.Probe("file.exists", verify.PathArgs{Path: t.To}),
	), nil
}

func (h *moveH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var pre movePre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		if _, err := os.Lstat(pre.From); err == nil {
			return adapter.Outcome{}, fmt.Errorf("cannot move back: %s exists again", pre.From)
		}
		if err := movePath(ctx, pre.To, pre.From); err != nil {
			return adapter.Outcome{}, err
		}
		if pre.Dest.Existed {
			if err := h.m.restore(pre.Dest); err != nil {
				return adapter.Outcome{}, fmt.Errorf("restore %s: %w", pre.To, err)
			}
		}
		return adapter.Outcome{Result: map[string]any{"moved_back": pre.From}}, nil
	}
	t, err := resolveFromTo(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	pre := movePre{From: t.From, To: t.To}
	fi, err := os.Lstat(t.From)
	if err != nil {
		return adapter.Outcome{}, err
	}
	pre.Dir = fi.IsDir()
	if fi.Mode().IsRegular() {
		if pre.Hash, err = verifyHash(t.From); err != nil {
			return adapter.Outcome{}, err
		}
	}
	if dfi, err := os.Lstat(t.To); err == nil {
		if dfi.IsDir() || pre.Dir {
			return adapter.Outcome{}, fmt.Errorf("%s already exists", t.To)
		}
		if pre.Dest, err = h.m.checkpoint(t.To); err != nil {
			return adapter.Outcome{}, err
		}
	} else {
		pre.Dest = fileState{Path: t.To}
	}
	if err := movePath(ctx, t.From, t.To); err != nil {
		return adapter.Outcome{}, err
	}
	out := adapter.Outcome{Result: map[string]any{"from": t.From, "to": t.To}, PreState: pre}
	if pre.Hash != "" {
		out.Verification = hashProbe(t.To, pre.Hash)
	}
	return out, nil
}

// movePath renames, falling back to copy-then-remove for a file on
// another filesystem.
func movePath(ctx context.Context, from, to string) error {
	err := os.Rename(from, to)
	if !errors.Is(err, syscall.EXDEV) {
		return err
	}
	fi, err := os.Lstat(from)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("moving %s across filesystems is only supported for files", from)
	}
	if err := copyFile(ctx, from, to, fi.Mode().Perm()); err != nil {
		return err
	}
	a, _ := verifyHash(from)
	b, _ := verifyHash(to)
	if a == "" || a != b {
		os.Remove(to)
		return fmt.Errorf("copy of %s did not verify; original kept", from)
	}
	return os.Remove(from)
}

func copyFile(ctx context.Context, from, to string, mode fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		os.Remove(to)
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// copyTree copies a folder, checking ctx between entries.
func copyTree(ctx context.Context, from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(dst, fi.Mode().Perm()|0o700)
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, dst)
		case fi.Mode().IsRegular():
			return copyFile(ctx, p, dst, fi.Mode().Perm())
		}
		return fmt.Errorf("%s: cannot copy a %v", p, fi.Mode().Type())
	})
}
