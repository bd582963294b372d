package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/objfs"
	"github.com/noema-project/noema/verify"
)

type tagH struct{ m *Module }

type tagTarget struct {
	Path string   `json:"path"`
	Tags []string `json:"tags"`
}

// tagState is the user tags before, which undo puts back.
type tagState struct {
	Path string   `json:"path"`
	Tags []string `json:"tags"`
}

func (h *tagH) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "fs.tag",
		Title: "Tag a file",
		Description: "Add tags to a file in the object store (the file is versioned first if Noema did not know it). " +
			"Tags are lower case words; search filters on them with tag:NAME.",
		Schema: adapter.Schema([]string{"path", "tags"}, pathSchema("the file to tag", map[string]any{
			"tags": map[string]any{"type": "array", "minItems": 1, "maxItems": 20,
				"items": map[string]any{"type": "string", "minLength": 1, "maxLength": 64}, "description": "tags to add"},
		})),
		Verification: "the store's tags for the file are read back and equal the old tags plus the new ones",
		Rollback:     action.IdempotentReverse,
		RollbackNote: "undo puts back the tags the file had before",
		PathFields:   []string{"path"},
		Utterances: []string{
			"tag {path} [as|with] {tags}",
			"(label|mark) {path} (as|with) {tags}",
			"add [the] (tag|tags|label|labels) {tags} to {path}",
			"put {path} under {tags}",
			"(file|categorize|categorise) {path} (as|under) {tags}",
		},
		Examples: []action.Example{
			{Text: "tag lease.pdf as housing", Target: json.RawMessage(`{"path":"lease.pdf","tags":["housing"]}`)},
			{Text: "add the tags travel and japan to itinerary.md", Target: json.RawMessage(`{"path":"itinerary.md","tags":["travel","japan"]}`)},
		},
		Aliases: []string{"tag file", "label file", "add tag", "categorize file"},
		Owner:   "objects",
	}
}

func (h *tagH) Risk(req *action.Request) action.Risk {
	var t tagTarget
	adapter.DecodeTarget(req, &t)
	return h.m.risk(h.Manifest().Risk, t.Path)
}

func (h *tagH) target(req *action.Request) (tagTarget, error) {
	var t tagTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	p, err := absPath("path", t.Path)
	if err != nil {
		return t, err
	}
	t.Path = p
	if t.Tags, err = objfs.NormalizeTags(t.Tags); err != nil {
		return t, fmt.Errorf("fs.tag: %w", err)
	}
	if len(t.Tags) == 0 {
		return t, errors.New("fs.tag: no tags given")
	}
	return t, nil
}

// current returns the user tags the store holds for path (none when the
// file is not in the store yet).
func (h *tagH) current(ctx context.Context, path string) ([]string, error) {
	st, err := h.m.Store(ctx)
	if err != nil {
		return nil, err
	}
	return st.UserTags(ctx, path)
}

func union(a, b []string) []string {
	out, _ := objfs.NormalizeTags(append(append([]string{}, a...), b...))
	return out
}

func (h *tagH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var st tagState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		return []action.Change{{Subject: st.Path, New: "tags [" + strings.Join(st.Tags, ", ") + "]"}}, nil
	}
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	old, err := h.current(ctx, t.Path)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: t.Path, Old: "tags [" + strings.Join(old, ", ") + "]", New: "tags [" + strings.Join(union(old, t.Tags), ", ") + "]"}}, nil
}

func (h *tagH) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st tagState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		return verify.Probe("objfs.tags", TagsArgs{Path: st.Path, Tags: st.Tags}), nil
	}
	t, err := h.target(req)
	if err != nil {
		return verify.Spec{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), planTimeout)
	defer cancel()
	old, err := h.current(ctx, t.Path)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("objfs.tags", TagsArgs{Path: t.Path, Tags: union(old, t.Tags)}), nil
}

func (h *tagH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	st, err := h.m.Store(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if _, err := st.Object(ctx, t.Path); errors.Is(err, objfs.ErrNotFound) {
		if _, _, err := st.Snapshot(ctx, t.Path, "tag"); err != nil {
			return adapter.Outcome{}, fmt.Errorf("fs.tag: %w", err)
		}
	} else if err != nil {
		return adapter.Outcome{}, err
	}
	old, err := st.UserTags(ctx, t.Path)
	if err != nil {
		return adapter.Outcome{}, err
	}
	want := t.Tags
	if req.Undo != nil {
		var pre tagState
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		want = pre.Tags
	} else {
		want = union(old, t.Tags)
	}
	if err := st.SetUserTags(ctx, t.Path, want); err != nil {
		return adapter.Outcome{}, fmt.Errorf("fs.tag: %w", err)
	}
	return adapter.Outcome{
		Result:   map[string]any{"path": t.Path, "tags": want, "before": old},
		PreState: tagState{Path: t.Path, Tags: old},
	}, nil
}
