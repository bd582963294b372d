package desktop

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

const (
	ifaceSchema = "org.gnome.desktop.interface"
	colorScheme = "color-scheme"
)

type themeSet struct{ m *Module }

type themeTarget struct {
	Mode string `json:"mode"`
}

// schemeFor maps a mode to the color-scheme value GNOME Settings writes.
func schemeFor(mode string) string {
	if mode == "dark" {
		return "'prefer-dark'"
	}
	return "'default'"
}

func (h *themeSet) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "desktop.theme.set",
		Title:       "Set the desktop theme",
		Description: "Switch the desktop between dark and light appearance (GSettings org.gnome.desktop.interface color-scheme).",
		Schema: adapter.Schema([]string{"mode"}, map[string]any{
			"mode": map[string]any{"type": "string", "enum": []string{"dark", "light"}, "description": "dark or light"},
		}),
		Verification: "reads color-scheme back from the user's dconf database",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"(enable|turn on|switch to|use|activate) {mode} (mode|theme)",
			"(disable|turn off|switch off|deactivate) dark (mode|theme) => mode=light",
			"(switch|change|set) [the] (theme|appearance) to {mode}",
			"make [the] (desktop|screen|theme) {mode}",
			"[go back to|switch back to|back to] {mode} (mode|theme) [on]",
			"[turn|switch] dark (mode|theme) off => mode=light",
			"[turn|switch] light (mode|theme) off => mode=dark",
			"(disable|turn off|switch off|deactivate) light (mode|theme) => mode=dark",
		},
		Examples: []action.Example{
			{Text: "enable dark mode", Target: json.RawMessage(`{"mode":"dark"}`)},
			{Text: "switch to the light theme", Target: json.RawMessage(`{"mode":"light"}`)},
		},
		Aliases: []string{"dark mode", "light mode", "night theme", "appearance", "color scheme"},
		Owner:   "desktop",
	}
}

func (h *themeSet) target(req *action.Request) (themeTarget, error) {
	var t themeTarget
	err := adapter.DecodeTarget(req, &t)
	return t, err
}

func (h *themeSet) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	_, cur, err := h.m.readState(ctx, ifaceSchema, colorScheme)
	if err != nil {
		return nil, err
	}
	next := schemeFor(t.Mode)
	if req.Undo != nil {
		var st settingState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		next = st.Value
		if !st.Set {
			def, err := h.m.reader.Default(ctx, ifaceSchema, colorScheme)
			if err != nil {
				return nil, err
			}
			next = def.String() + " (default)"
		}
	}
	return []action.Change{{Subject: colorScheme, Old: cur.String(), New: next}}, nil
}

func (h *themeSet) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st settingState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		return restoredProbe(ifaceSchema, colorScheme, st), nil
	}
	t, err := h.target(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return settingProbe(ifaceSchema, colorScheme, schemeFor(t.Mode)), nil
}

func (h *themeSet) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var st settingState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return adapter.Outcome{}, err
		}
		if err := h.m.restoreSetting(ctx, ifaceSchema, colorScheme, st); err != nil {
			return adapter.Outcome{}, err
		}
		return adapter.Outcome{Result: map[string]any{"restored": st}}, nil
	}
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	pre, cur, err := h.m.readState(ctx, ifaceSchema, colorScheme)
	if err != nil {
		return adapter.Outcome{}, err
	}
	next := schemeFor(t.Mode)
	if err := h.m.writeSetting(ctx, ifaceSchema, colorScheme, next); err != nil {
		return adapter.Outcome{PreState: nil}, fmt.Errorf("set %s: %w", colorScheme, err)
	}
	return adapter.Outcome{
		Result:   map[string]any{"key": ifaceSchema + " " + colorScheme, "old": cur.String(), "new": next},
		PreState: pre,
	}, nil
}
