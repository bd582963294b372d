package network

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type bluetoothSet struct{ m *Module }

// bluetoothState is the pre-state: every adapter as it was.
type bluetoothState struct {
	Adapters []btAdapter `json:"adapters"`
}

func (h *bluetoothSet) Manifest() action.Manifest {
	return action.Manifest{
		Name:         "network.bluetooth.set",
		Title:        "Turn Bluetooth on or off",
		Description:  "Power every Bluetooth adapter on or off through BlueZ (org.bluez.Adapter1 Powered). Turning it on lets paired devices connect again.",
		Schema:       adapter.Schema([]string{"enabled"}, enabledSchema("true powers Bluetooth on, false powers it off")),
		Verification: "reads each BlueZ adapter's Powered property back",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"turn {enabled} [the] (bluetooth|bt)",
			"turn [the] (bluetooth|bt) {enabled}",
			"{enabled} [the] (bluetooth|bt)",
			"switch [the] bluetooth {enabled}",
			"(set|put) [the] bluetooth {enabled}",
		},
		Examples: []action.Example{
			{Text: "enable bluetooth", Target: json.RawMessage(`{"enabled":true}`)},
			{Text: "switch the bluetooth off", Target: json.RawMessage(`{"enabled":false}`)},
			{Text: "turn bt on please", Target: json.RawMessage(`{"enabled":true}`)},
		},
		Aliases: []string{"bluetooth", "bt", "bluetooth radio", "bluetooth adapter"},
		Owner:   "network",
	}
}

// Risk flags a request that leaves an adapter powered: nearby devices
// can connect.
func (h *bluetoothSet) Risk(req *action.Request) action.Risk {
	base := h.Manifest().Risk
	if req.Undo != nil {
		var st bluetoothState
		if adapter.DecodePreState(req, &st) == nil {
			return exposure(base, radios{Bluetooth: st.Adapters}.anyOn())
		}
		return base
	}
	var t enabledTarget
	if adapter.DecodeTarget(req, &t) == nil {
		return exposure(base, t.Enabled)
	}
	return base
}

func (h *bluetoothSet) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st bluetoothState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		if len(st.Adapters) == 0 {
			return verify.Spec{}, fmt.Errorf("%s: recorded pre-state has no adapters", req.Action)
		}
		return radios{Bluetooth: st.Adapters}.specs(), nil
	}
	var t enabledTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	return radioSpec(radioBT, "", t.Enabled), nil
}

// plan returns the adapters and the state each should end in.
func (h *bluetoothSet) plan(ctx context.Context, req *action.Request) (cur, want []btAdapter, err error) {
	cur, err = h.m.btAdapters(ctx)
	if err != nil {
		return nil, nil, err
	}
	if req.Undo != nil {
		var st bluetoothState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, nil, err
		}
		return cur, st.Adapters, nil
	}
	if len(cur) == 0 {
		return nil, nil, errNoAdapter
	}
	var t enabledTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, nil, err
	}
	for _, a := range cur {
		a.Powered = t.Enabled
		want = append(want, a)
	}
	return cur, want, nil
}

func (h *bluetoothSet) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	cur, want, err := h.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	was := map[string]bool{}
	for _, a := range cur {
		was[string(a.Path)] = a.Powered
	}
	var out []action.Change
	for _, a := range want {
		ch := action.Change{Subject: "Bluetooth " + a.label(), New: onOff(a.Powered)}
		if on, ok := was[string(a.Path)]; ok {
			ch.Old = onOff(on)
		} else {
			ch.Note = "adapter no longer present"
		}
		out = append(out, ch)
	}
	return out, nil
}

func (h *bluetoothSet) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	cur, want, err := h.plan(ctx, req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	was := map[string]btAdapter{}
	for _, a := range cur {
		was[string(a.Path)] = a
	}
	changed := []string{}
	for _, a := range want {
		before, ok := was[string(a.Path)]
		if !ok {
			return adapter.Outcome{}, fmt.Errorf("cannot restore Bluetooth adapter %s: %w", a.label(), errAdapterGone)
		}
		if before.Powered == a.Powered {
			continue
		}
		if err := h.m.btSetPowered(ctx, before, a.Powered); err != nil {
			// Adapters already switched are put back by the rollback.
			return h.outcome(req, cur, changed), err
		}
		changed = append(changed, before.label())
	}
	return h.outcome(req, cur, changed), nil
}

func (h *bluetoothSet) outcome(req *action.Request, cur []btAdapter, changed []string) adapter.Outcome {
	out := adapter.Outcome{Result: map[string]any{"adapters": len(cur), "switched": changed}}
	if len(changed) > 0 && req.Undo == nil {
		out.PreState = bluetoothState{Adapters: cur}
	}
	return out
}
