package desktop

import (
	"context"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

// toggle is an on/off action backed by one boolean GSettings key.
type toggle struct {
	m        *Module
	manifest action.Manifest
	schema   string
	key      string
	// invert stores the opposite of "enabled" (do-not-disturb is
	// show-banners=false).
	invert bool
}

type enabledTarget struct {
	Enabled bool `json:"enabled"`
}

func enabledSchema(what string) []byte {
	return adapter.Schema([]string{"enabled"}, map[string]any{
		"enabled": map[string]any{"type": "boolean", "description": "true to turn " + what + " on, false to turn it off"},
	})
}

// value is the key's GVariant text for a request.
func (h *toggle) value(enabled bool) string {
	if enabled != h.invert {
		return "true"
	}
	return "false"
}

func (h *toggle) Manifest() action.Manifest { return h.manifest }

func (h *toggle) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	var t enabledTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	_, cur, err := h.m.readState(ctx, h.schema, h.key)
	if err != nil {
		return nil, err
	}
	next := h.value(t.Enabled)
	if req.Undo != nil {
		var st settingState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		next = st.Value
		if !st.Set {
			def, err := h.m.reader.Default(ctx, h.schema, h.key)
			if err != nil {
				return nil, err
			}
			next = def.String() + " (default)"
		}
	}
	return []action.Change{{Subject: h.schema + " " + h.key, Old: cur.String(), New: next}}, nil
}

func (h *toggle) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st settingState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		return restoredProbe(h.schema, h.key, st), nil
	}
	var t enabledTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	return settingProbe(h.schema, h.key, h.value(t.Enabled)), nil
}

func (h *toggle) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var st settingState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return adapter.Outcome{}, err
		}
		if err := h.m.restoreSetting(ctx, h.schema, h.key, st); err != nil {
			return adapter.Outcome{}, fmt.Errorf("restore %s %s: %w", h.schema, h.key, err)
		}
		return adapter.Outcome{Result: map[string]any{"restored": st}}, nil
	}
	var t enabledTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	pre, cur, err := h.m.readState(ctx, h.schema, h.key)
	if err != nil {
		return adapter.Outcome{}, err
	}
	next := h.value(t.Enabled)
	if err := h.m.writeSetting(ctx, h.schema, h.key, next); err != nil {
		return adapter.Outcome{}, fmt.Errorf("set %s %s: %w", h.schema, h.key, err)
	}
	return adapter.Outcome{
		Result:   map[string]any{"key": h.schema + " " + h.key, "old": cur.String(), "new": next, "enabled": t.Enabled},
		PreState: pre,
	}, nil
}
