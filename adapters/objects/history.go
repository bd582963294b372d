package objects

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type historyH struct{ m *Module }

type pathTarget struct {
	Path string `json:"path"`
}

func (h *historyH) Manifest() action.Manifest {
	return action.Manifest{
		Name:         "fs.history",
		Title:        "Show a file's history",
		Description:  "List the versions Noema keeps of a file, newest first, marking the current one.",
		Schema:       adapter.Schema([]string{"path"}, pathSchema("the file", nil)),
		Verification: "every version listed is read back from the object store",
		Rollback:     action.RollbackNone, RollbackNote: "listing versions changes nothing",
		ReadOnly: true, PathFields: []string{"path"},
		Utterances: []string{
			"[show] [me] [the] (history|versions|revisions) of {path}",
			"(list|what are) [the] (earlier|previous|old|older) versions of {path}",
			"how has {path} changed",
			"what versions of {path} (do you have|are there|exist)",
			"(show|list) {path} history",
		},
		Examples: []action.Example{
			{Text: "show the history of budget.ods", Target: json.RawMessage(`{"path":"budget.ods"}`)},
			{Text: "list the earlier versions of thesis/chapter2.md", Target: json.RawMessage(`{"path":"thesis/chapter2.md"}`)},
		},
		Aliases: []string{"file history", "versions", "revisions", "change log of a file"},
		Owner:   "objects",
	}
}

func (h *historyH) path(req *action.Request) (string, error) {
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return "", err
	}
	return absPath("path", t.Path)
}

func (h *historyH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	p, err := h.path(req)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: p, Note: "read only: list its versions"}}, nil
}

func (h *historyH) Verification(req *action.Request) (verify.Spec, error) {
	p, err := h.path(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("objfs.object", ObjectArgs{Path: p}), nil
}

// versionView is one version as results show it.
type versionView struct {
	Version   string    `json:"version"`
	Seq       int       `json:"seq"`
	CreatedAt time.Time `json:"created_at"`
	Size      int64     `json:"size"`
	Hash      string    `json:"hash"`
	Origin    string    `json:"origin"`
	Current   bool      `json:"current,omitempty"`
	Deleted   bool      `json:"deleted,omitempty"`
}

func (h *historyH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	p, err := h.path(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	st, err := h.m.Store(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	vs, err := st.Versions(ctx, p)
	if err != nil {
		return adapter.Outcome{}, fmt.Errorf("fs.history: %w", err)
	}
	views := make([]versionView, 0, len(vs))
	ids := make([]string, 0, len(vs))
	var text strings.Builder
	for _, v := range vs {
		mark := " "
		if v.Current {
			mark = "*"
		}
		what := fmt.Sprintf("%d bytes, %s", v.Size, short(v.Hash))
		if v.Deleted {
			what = "deleted"
		}
		fmt.Fprintf(&text, "%s %d  %s  %s  (%s)\n", mark, v.Seq, v.CreatedAt.Local().Format(time.DateTime), what, v.Origin)
		views = append(views, versionView{Version: v.ID, Seq: v.Seq, CreatedAt: v.CreatedAt, Size: v.Size, Hash: v.Hash, Origin: v.Origin, Current: v.Current, Deleted: v.Deleted})
		ids = append(ids, v.ID)
	}
	return adapter.Outcome{
		Result:       map[string]any{"path": p, "versions": views, "content": text.String()},
		Verification: verify.Probe("objfs.versions", VersionsArgs{Path: p, Versions: ids}),
	}, nil
}
