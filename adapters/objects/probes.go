package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/noema-project/noema/objfs"
	"github.com/noema-project/noema/verify"
)

func decode(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("probe arguments: %w", err)
	}
	return nil
}

// CurrentArgs name the version an object's current pointer must name.
type CurrentArgs struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

func (m *Module) probeCurrent(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a CurrentArgs
	if err := decode(raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.Store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	cur, err := st.Current(ctx, a.Path)
	if err != nil {
		return verify.Observation{}, err
	}
	return verify.Observation{Pass: cur.ID == a.Version, Observed: cur.ID,
		Detail: fmt.Sprintf("current version of %s is %s, want %s", a.Path, cur.ID, a.Version)}, nil
}

// TagsArgs give the exact set of user tags an object must carry.
type TagsArgs struct {
	Path string   `json:"path"`
	Tags []string `json:"tags"`
}

func (m *Module) probeTags(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a TagsArgs
	if err := decode(raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.Store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	got, err := st.UserTags(ctx, a.Path)
	if err != nil {
		return verify.Observation{}, err
	}
	want, err := objfs.NormalizeTags(a.Tags)
	if err != nil {
		return verify.Observation{}, err
	}
	return verify.Observation{Pass: slices.Equal(got, want), Observed: got,
		Detail: fmt.Sprintf("tags of %s are [%s], want [%s]", a.Path, strings.Join(got, ", "), strings.Join(want, ", "))}, nil
}

// VersionsArgs list versions that must exist (for Path, when given).
type VersionsArgs struct {
	Path     string   `json:"path,omitempty"`
	Versions []string `json:"versions"`
}

func (m *Module) probeVersions(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a VersionsArgs
	if err := decode(raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.Store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	for _, id := range a.Versions {
		v, err := st.Version(ctx, id)
		if errors.Is(err, objfs.ErrNotFound) {
			return verify.Observation{Pass: false, Observed: id, Detail: fmt.Sprintf("version %s is not in the store", id)}, nil
		}
		if err != nil {
			return verify.Observation{}, err
		}
		if a.Path != "" && v.Path != a.Path {
			return verify.Observation{Pass: false, Observed: v.Path, Detail: fmt.Sprintf("version %s belongs to %s, not %s", id, v.Path, a.Path)}, nil
		}
	}
	return verify.Observation{Pass: true, Observed: len(a.Versions), Detail: fmt.Sprintf("%d version(s) read back from the store", len(a.Versions))}, nil
}

// ObjectArgs name a path the store must know.
type ObjectArgs struct {
	Path string `json:"path"`
}

func (m *Module) probeObject(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a ObjectArgs
	if err := decode(raw, &a); err != nil {
		return verify.Observation{}, err
	}
	st, err := m.Store(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	o, err := st.Object(ctx, a.Path)
	if errors.Is(err, objfs.ErrNotFound) {
		return verify.Observation{Pass: false, Detail: fmt.Sprintf("%s has no history in the store", a.Path)}, nil
	}
	if err != nil {
		return verify.Observation{}, err
	}
	return verify.Observation{Pass: true, Observed: o.Current, Detail: fmt.Sprintf("%s has %d version(s)", a.Path, o.Versions)}, nil
}
