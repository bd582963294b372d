package files

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/blobstore"
	"github.com/noema-project/noema/verify"
	"github.com/zeebo/blake3"
)

type writeH struct{ m *Module }

type writeTarget struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

func (h *writeH) Manifest() action.Manifest {
	return action.Manifest{
		Name: "fs.write", Title: "Write a file",
		Description: "Create or replace a file with the given text. The previous content is checkpointed so the write can be undone.",
		Schema: adapter.Schema([]string{"path", "content"}, map[string]any{
			"path":    map[string]any{"type": "string", "minLength": 1},
			"content": map[string]any{"type": "string", "maxLength": 8 << 20},
		}),
		Verification: "the file's BLAKE3 hash equals the hash of the content written",
		Rollback:     action.Checkpoint, PathFields: []string{"path"},
		Utterances: []string{"(write|put|save) [the] [text|words] {content} (to|into|in) [the] [file] {path}", "create [a|the] [new] file [called|named] {path} (with|containing) [the] [text|content|contents|words] {content}"},
		Examples:   []action.Example{{Text: "write hello to notes.txt", Target: json.RawMessage(`{"path":"notes.txt","content":"hello"}`)}},
		Owner:      "files",
	}
}

func (h *writeH) Risk(req *action.Request) action.Risk {
	var t writeTarget
	adapter.DecodeTarget(req, &t)
	return h.m.risk(h.Manifest().Risk, t.Path)
}

func (h *writeH) target(req *action.Request) (writeTarget, error) {
	var t writeTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	p, err := absPath("path", t.Path)
	t.Path = p
	return t, err
}

func (h *writeH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	if req.Undo != nil {
		var st fileState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		next := "absent"
		if st.Existed {
			next = "previous content " + st.Blob[:12]
		}
		return []action.Change{{Subject: t.Path, Old: kindOf(t.Path), New: next}}, nil
	}
	return []action.Change{{Subject: t.Path, Old: kindOf(t.Path), New: fmt.Sprintf("file, %d bytes: %s", len(t.Content), excerpt(t.Content))}}, nil
}

func excerpt(s string) string {
	s = strings.ReplaceAll(s, "\n", "⏎")
	if r := []rune(s); len(r) > 40 {
		return fmt.Sprintf("%q…", string(r[:40]))
	}
	return fmt.Sprintf("%q", s)
}

func (h *writeH) Verification(req *action.Request) (verify.Spec, error) {
	t, err := h.target(req)
	if err != nil {
		return verify.Spec{}, err
	}
	if req.Undo != nil {
		var st fileState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		return stateProbe(st), nil
	}
	sum := blake3.Sum256([]byte(t.Content))
	return hashProbe(t.Path, hexOf(sum[:])), nil
}

func (h *writeH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	// Checkpoint what is there now; for an undo this makes the undo
	// itself undoable.
	pre, err := h.m.checkpoint(t.Path)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if req.Undo != nil {
		var st fileState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return adapter.Outcome{}, err
		}
		if st.Path != t.Path {
			return adapter.Outcome{}, fmt.Errorf("pre-state is for %s, not %s", st.Path, t.Path)
		}
		if err := h.m.restore(st); err != nil {
			return adapter.Outcome{}, fmt.Errorf("restore %s: %w", t.Path, err)
		}
		return adapter.Outcome{Result: map[string]any{"path": t.Path, "restored": st.Existed}, PreState: pre}, nil
	}
	mode := fs.FileMode(0o644)
	if pre.Existed {
		mode = pre.Mode
	}
	if err := blobstore.AtomicWrite(t.Path, strings.NewReader(t.Content), mode); err != nil {
		return adapter.Outcome{}, fmt.Errorf("write %s: %w", t.Path, err)
	}
	return adapter.Outcome{
		Result:   map[string]any{"path": t.Path, "bytes": len(t.Content), "replaced": pre.Existed},
		PreState: pre,
	}, nil
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }
