package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

const (
	login1Name        = "org.freedesktop.login1"
	login1AutoSession = "/org/freedesktop/login1/session/auto"
)

type brightnessSet struct{ m *Module }

// levelTarget is {percent} or {delta}, shared by brightness and volume.
type levelTarget struct {
	Percent *int `json:"percent,omitempty"`
	Delta   *int `json:"delta,omitempty"`
}

func decodeLevel(req *action.Request) (levelTarget, error) {
	var t levelTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	if (t.Percent == nil) == (t.Delta == nil) {
		return t, fmt.Errorf("%s: give either percent or delta", req.Action)
	}
	return t, nil
}

// levelSchema accepts exactly one of an absolute percentage and a signed
// change in percentage points.
func levelSchema(what string) json.RawMessage {
	return adapter.Schema(nil, map[string]any{
		"percent": map[string]any{"type": "integer", "minimum": 0, "maximum": 100,
			"description": "absolute " + what + " in percent"},
		"delta": map[string]any{"type": "integer", "minimum": -100, "maximum": 100,
			"description": "change in percentage points, negative to lower (\"a bit more\" is about +10)"},
	}, map[string]any{"oneOf": []any{
		map[string]any{"required": []string{"percent"}},
		map[string]any{"required": []string{"delta"}},
	}})
}

// brightnessState is what an undo restores: the raw level of one device.
type brightnessState struct {
	Device string `json:"device"`
	Raw    uint32 `json:"raw"`
	Max    uint32 `json:"max,omitempty"`
}

func (h *brightnessSet) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "desktop.brightness.set",
		Title: "Set the screen brightness",
		Description: "Set the built-in screen's backlight to a percentage, or raise or lower it by some points, " +
			"through logind (org.freedesktop.login1.Session.SetBrightness). Never goes below 1 %.",
		Schema:       levelSchema("brightness"),
		Verification: "reads the backlight level back from /sys/class/backlight",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"(set|change|put) [the] [screen|display] brightness to {percent} [percent|%]",
			"(dim|darken) the (screen|display) [to {percent} [percent|%]]",
			"(brighten|lighten) the (screen|display) [to {percent} [percent|%]]",
			"make the (screen|display) (brighter|dimmer|darker) [by {delta} [percent|points]]",
			"(turn|bring) [the] [screen|display] brightness (up|down) [by {delta} [percent|points]|to {percent} [percent|%]]",
			"(turn|crank|push) [the] [screen|display] brightness all the way up => percent=100",
			"(increase|raise|lower|reduce|decrease|drop|bump) [the] [screen] brightness [by {delta} [percent|points]|to {percent} [percent|%]]",
			"screen brightness {percent} [percent|%]",
		},
		Examples: []action.Example{
			{Text: "set the screen brightness to 40%", Target: json.RawMessage(`{"percent":40}`)},
			{Text: "dim the display a little", Target: json.RawMessage(`{"delta":-10}`)},
			{Text: "make the screen brighter by 25 points", Target: json.RawMessage(`{"delta":25}`)},
			{Text: "full brightness", Target: json.RawMessage(`{"percent":100}`)},
		},
		Aliases: []string{"backlight", "screen brightness", "display brightness", "dim", "brighten"},
		Owner:   "desktop",
	}
}

// plan reads the device and computes the raw level the request asks for.
func (h *brightnessSet) plan(req *action.Request) (backlight, backlightState, uint32, string, error) {
	t, err := decodeLevel(req)
	if err != nil {
		return backlight{}, backlightState{}, 0, "", err
	}
	b, err := h.m.findBacklight("")
	if err != nil {
		return backlight{}, backlightState{}, 0, "", err
	}
	cur, err := b.read()
	if err != nil {
		return backlight{}, backlightState{}, 0, "", err
	}
	var next uint32
	var note string
	if t.Percent != nil {
		next = percentToRaw(*t.Percent, cur.Max)
		if *t.Percent < 1 {
			note = "set to 1 %, not 0: Noema never switches the backlight fully off"
		}
	} else {
		next = deltaToRaw(cur, *t.Delta)
		want := int64(cur.Raw) + int64(*t.Delta)*int64(cur.Max)/100
		switch {
		case want < int64(minRaw(cur.Max)):
			note = "stopped at 1 %: Noema never switches the backlight fully off"
		case want > int64(cur.Max):
			note = "already at or near full brightness; stopped at 100 %"
		}
	}
	return b, cur, next, note, nil
}

func (h *brightnessSet) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var st brightnessState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		b, err := h.m.findBacklight(st.Device)
		if err != nil {
			return nil, err
		}
		cur, err := b.read()
		if err != nil {
			return nil, err
		}
		return []action.Change{{Subject: "backlight " + b.Name, Old: levelText(cur.Raw, cur.Max),
			New: levelText(st.Raw, cur.Max)}}, nil
	}
	b, cur, next, _, err := h.plan(req)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: "backlight " + b.Name, Old: levelText(cur.Raw, cur.Max), New: levelText(next, cur.Max)}}, nil
}

func levelText(raw, max uint32) string {
	return fmt.Sprintf("%d%% (%d/%d)", rawToPercent(raw, max), raw, max)
}

// eventually gives a device write a moment to land: logind hands the
// write to a worker, and some drivers update the attribute late.
func eventually(s verify.Spec) verify.Spec {
	return verify.Spec{Eventually: &verify.Eventually{Spec: s,
		Timeout: verify.Duration(2 * time.Second), Interval: verify.Duration(50 * time.Millisecond)}}
}

func (h *brightnessSet) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st brightnessState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		raw := int64(st.Raw)
		return eventually(verify.Probe("brightness.equals", BrightnessArgs{Device: st.Device, Raw: &raw})), nil
	}
	t, err := decodeLevel(req)
	if err != nil {
		return verify.Spec{}, err
	}
	if t.Percent != nil {
		return eventually(verify.Probe("brightness.equals", BrightnessArgs{Percent: t.Percent})), nil
	}
	// A relative change's result depends on the level at execution;
	// Execute adds the exact expectation.
	return verify.Probe("backlight.present", BacklightArgs{}), nil
}

func (h *brightnessSet) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var st brightnessState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return adapter.Outcome{}, err
		}
		b, err := h.m.findBacklight(st.Device)
		if err != nil {
			return adapter.Outcome{}, err
		}
		if err := h.m.setBrightness(ctx, b.Name, st.Raw); err != nil {
			return adapter.Outcome{}, err
		}
		return adapter.Outcome{Result: map[string]any{"device": b.Name, "restored_raw": st.Raw}}, nil
	}
	b, cur, next, note, err := h.plan(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if err := h.m.setBrightness(ctx, b.Name, next); err != nil {
		return adapter.Outcome{}, err
	}
	raw := int64(next)
	res := map[string]any{
		"device": b.Name, "old_percent": cur.percent(), "new_percent": rawToPercent(next, cur.Max),
		"old_raw": cur.Raw, "new_raw": next, "max": cur.Max,
	}
	if note != "" {
		res["note"] = note
	}
	return adapter.Outcome{
		Result:       res,
		PreState:     brightnessState{Device: b.Name, Raw: cur.Raw, Max: cur.Max},
		Verification: eventually(verify.Probe("brightness.equals", BrightnessArgs{Device: b.Name, Raw: &raw})),
	}, nil
}

// setBrightness asks logind to write the level: it may do so for the
// active session's user without root, which is how desktops change it.
func (m *Module) setBrightness(ctx context.Context, device string, raw uint32) error {
	if err := validDeviceName(device); err != nil {
		return err
	}
	conn, err := m.systemBus(ctx)
	if err != nil {
		return fmt.Errorf("set brightness: %w", err)
	}
	path := m.opts.LoginSession
	if path == "" {
		path = login1AutoSession
	}
	if !dbus.ObjectPath(path).IsValid() {
		return fmt.Errorf("set brightness: invalid logind session path %q", path)
	}
	call := conn.Object(login1Name, dbus.ObjectPath(path)).CallWithContext(ctx,
		"org.freedesktop.login1.Session.SetBrightness", 0, "backlight", device, raw)
	if call.Err != nil {
		var de dbus.Error
		if errors.As(call.Err, &de) && de.Name == "org.freedesktop.DBus.Error.UnknownObject" {
			return fmt.Errorf("logind has no session for Noema at %s (brightness can be set only from a logged-in session): %w", path, call.Err)
		}
		return busError("logind (org.freedesktop.login1)", "Session.SetBrightness", call.Err)
	}
	return nil
}
