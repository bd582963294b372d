package files

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"unicode/utf8"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
	"github.com/zeebo/blake3"
)

type readH struct{ m *Module }

type pathTarget struct {
	Path string `json:"path"`
}

func pathSchema(desc string) json.RawMessage {
	return adapter.Schema([]string{"path"}, map[string]any{
		"path": map[string]any{"type": "string", "minLength": 1, "description": desc},
	})
}

func (h *readH) Manifest() action.Manifest {
	return action.Manifest{
		Name: "fs.read", Title: "Read a file", Description: "Show the contents of a file.",
		Schema:       pathSchema("absolute path of the file"),
		Verification: "the content returned hashes to the file's content",
		Rollback:     action.RollbackNone, RollbackNote: "reading changes nothing",
		ReadOnly: true, PathFields: []string{"path"},
		Utterances: []string{
			"(read|show|open|print|display|cat) [me] [the] [file] {path}",
			"(read|show|print|display|give) [me] [the] (contents|content) of [the] [file] {path}",
			"what is (in|inside) {path}",
		},
		Examples: []action.Example{{Text: "show me notes.txt", Target: json.RawMessage(`{"path":"notes.txt"}`)}},
		Owner:    "files",
	}
}

func (h *readH) Risk(req *action.Request) action.Risk {
	var t pathTarget
	adapter.DecodeTarget(req, &t)
	r := h.m.risk(h.Manifest().Risk, t.Path)
	r.Privileged = false // reading elsewhere changes nothing
	return r
}

func (h *readH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	return []action.Change{{Subject: t.Path, Note: "read only (" + kindOf(t.Path) + ")"}}, nil
}

func (h *readH) Verification(req *action.Request) (verify.Spec, error) {
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	p, err := absPath("path", t.Path)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("file.exists", verify.PathArgs{Path: p, Kind: "file"}), nil
}

func (h *readH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	p, err := absPath("path", t.Path)
	if err != nil {
		return adapter.Outcome{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return adapter.Outcome{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return adapter.Outcome{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, h.m.opts.MaxRead+1))
	if err != nil {
		return adapter.Outcome{}, err
	}
	truncated := int64(len(data)) > h.m.opts.MaxRead
	if truncated {
		data = data[:h.m.opts.MaxRead]
	}
	res := map[string]any{"path": p, "size": fi.Size(), "truncated": truncated}
	if utf8.Valid(data) {
		res["content"] = string(data)
	} else {
		res["content_base64"] = data
	}
	out := adapter.Outcome{Result: res}
	if !truncated {
		sum := blake3.Sum256(data)
		// Proof: what was returned is what the file holds.
		out.Verification = hashProbe(p, hexOf(sum[:]))
	}
	return out, nil
}
