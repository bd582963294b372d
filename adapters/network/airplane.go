package network

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

// airplaneSet turns every radio off, or all of them on again. It works
// on all three layers a desktop shows: the kernel's rfkill switches
// (which also cover radios no service manages, such as GPS, NFC or FM),
// NetworkManager's Wi-Fi and mobile broadband switches, and BlueZ's
// adapters. Layers that are absent are skipped; the pre-state records
// every radio of every layer, so undo restores each one exactly.
type airplaneSet struct{ m *Module }

func (h *airplaneSet) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "network.airplane.set",
		Title: "Turn airplane mode on or off",
		Description: "Airplane mode on turns every radio off: each rfkill switch is soft-blocked, NetworkManager's Wi-Fi and mobile broadband are switched off and every Bluetooth adapter is powered down. " +
			"Off turns all of them on again; undo instead puts back exactly the radios that were on before.",
		Schema:       adapter.Schema([]string{"enabled"}, enabledSchema("true turns airplane mode on (all radios off), false turns it off (radios on)")),
		Verification: "reads every rfkill switch, NetworkManager's radio switches and each BlueZ adapter back",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"turn {enabled} (airplane|aeroplane|flight|plane) mode",
			"turn (airplane|aeroplane|flight|plane) mode {enabled}",
			"{enabled} (airplane|aeroplane|flight|plane) mode",
			"switch (airplane|aeroplane|flight) mode {enabled}",
			"put [the] (computer|laptop|machine) in (airplane|flight) mode",
			"(turn|switch|shut) off (all|every) [the] (radios|radio|wireless) => enabled=true",
			"(turn|switch) (all|every) [the] (radios|radio) off => enabled=true",
			"(turn|switch) (all|every) [the] (radios|radio) [back] on => enabled=false",
			"(leave|exit|get out of|come out of|take [the] (computer|laptop|machine) out of) (airplane|aeroplane|flight|plane) mode => enabled=false",
		},
		Examples: []action.Example{
			{Text: "turn on airplane mode", Target: json.RawMessage(`{"enabled":true}`)},
			{Text: "switch flight mode off", Target: json.RawMessage(`{"enabled":false}`)},
			{Text: "put the laptop in airplane mode", Target: json.RawMessage(`{"enabled":true}`)},
			{Text: "kill all the radios", Target: json.RawMessage(`{"enabled":true}`)},
		},
		Aliases: []string{"airplane mode", "flight mode", "aeroplane mode", "radios off", "all radios", "rfkill"},
		Owner:   "network",
	}
}

// Risk flags a request that leaves radios on: airplane mode off, or an
// undo that restores radios that were on.
func (h *airplaneSet) Risk(req *action.Request) action.Risk {
	base := h.Manifest().Risk
	if req.Undo != nil {
		var st radios
		if adapter.DecodePreState(req, &st) == nil {
			return exposure(base, st.anyOn())
		}
		return base
	}
	var t enabledTarget
	if adapter.DecodeTarget(req, &t) == nil {
		return exposure(base, !t.Enabled)
	}
	return base
}

func (h *airplaneSet) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st radios
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		if st.empty() {
			return verify.Spec{}, fmt.Errorf("%s: recorded pre-state has no radios", req.Action)
		}
		return st.specs(), nil
	}
	var t enabledTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe(probeAirplane, AirplaneArgs{On: t.Enabled}), nil
}

// goal returns the radios now and the state each should end in.
func (h *airplaneSet) goal(ctx context.Context, req *action.Request) (cur, want radios, err error) {
	if cur, err = h.m.snapshot(ctx); err != nil {
		return cur, want, err
	}
	if req.Undo != nil {
		err = adapter.DecodePreState(req, &want)
		return cur, want, err
	}
	if cur.empty() {
		return cur, want, errNoRadios
	}
	var t enabledTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return cur, want, err
	}
	on := !t.Enabled
	for _, sw := range cur.Rfkill {
		sw.Soft = !on
		want.Rfkill = append(want.Rfkill, sw)
	}
	if cur.NM != nil {
		want.NM = &nmRadios{Wifi: on, Wwan: on}
	}
	for _, a := range cur.Bluetooth {
		a.Powered = on
		want.Bluetooth = append(want.Bluetooth, a)
	}
	return cur, want, nil
}

func (h *airplaneSet) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	cur, want, err := h.goal(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []action.Change
	soft := map[string]radioSwitch{}
	for _, sw := range cur.Rfkill {
		soft[sw.Name] = sw
	}
	for _, sw := range want.Rfkill {
		ch := action.Change{Subject: "rfkill " + sw.String(), New: blockWord(sw.Soft)}
		if c, ok := soft[sw.Name]; ok {
			ch.Old = blockWord(c.Soft)
			if c.Hard {
				ch.Note = "also blocked by a hardware switch"
			}
		} else {
			ch.Note = "switch no longer present"
		}
		out = append(out, ch)
	}
	if want.NM != nil {
		if cur.NM == nil {
			out = append(out, action.Change{Subject: "NetworkManager", Note: "not running; its radios cannot be restored"})
		} else {
			out = append(out,
				action.Change{Subject: "Wi-Fi", Old: onOff(cur.NM.Wifi), New: onOff(want.NM.Wifi)},
				action.Change{Subject: "mobile broadband", Old: onOff(cur.NM.Wwan), New: onOff(want.NM.Wwan)})
		}
	}
	powered := map[string]bool{}
	for _, a := range cur.Bluetooth {
		powered[string(a.Path)] = a.Powered
	}
	for _, a := range want.Bluetooth {
		ch := action.Change{Subject: "Bluetooth " + a.label(), New: onOff(a.Powered)}
		if on, ok := powered[string(a.Path)]; ok {
			ch.Old = onOff(on)
		} else {
			ch.Note = "adapter no longer present"
		}
		out = append(out, ch)
	}
	return out, nil
}

func blockWord(blocked bool) string {
	if blocked {
		return "blocked"
	}
	return "unblocked"
}

func (h *airplaneSet) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	cur, want, err := h.goal(ctx, req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	var out adapter.Outcome
	if req.Undo == nil {
		// Recorded even if a step below fails, so the runtime's rollback
		// can put back the radios already switched.
		out.PreState = cur
		// Name each radio in the proof, next to the request's overall
		// airplane check.
		out.Verification = want.specs()
	}
	steps := []string{}
	err = h.apply(ctx, cur, want, &steps)
	out.Result = map[string]any{"switched": steps}
	return out, err
}

// apply moves every radio from cur to want. Radios are switched off at
// the services before the kernel blocks them, and unblocked in the
// kernel before the services are asked to switch them on, since BlueZ
// cannot power an adapter that rfkill blocks. Once a switch has been
// unblocked, the services may react on their own (bluetoothd powers
// adapters back on by default), so what was read before no longer
// holds: every service radio is then set to its wanted state whether or
// not it seemed to be there already.
func (h *airplaneSet) apply(ctx context.Context, cur, want radios, steps *[]string) error {
	rfkillFirst := false
	for _, sw := range want.Rfkill {
		if !sw.Soft {
			rfkillFirst = true
		}
	}
	force := rfkillFirst
	if rfkillFirst {
		if err := h.applyRfkill(cur, want, steps); err != nil {
			return err
		}
	}
	if want.NM != nil {
		if cur.NM == nil {
			return fmt.Errorf("cannot restore Wi-Fi and mobile broadband: %w", errNoNM)
		}
		for _, s := range []struct {
			prop     string
			now, end bool
		}{{nmWifi, cur.NM.Wifi, want.NM.Wifi}, {nmWwan, cur.NM.Wwan, want.NM.Wwan}} {
			if s.now == s.end && !force {
				continue
			}
			if err := h.m.nmSet(ctx, s.prop, s.end); err != nil {
				return err
			}
			*steps = append(*steps, fmt.Sprintf("NetworkManager %s %s", s.prop, onOff(s.end)))
		}
	}
	powered := map[string]btAdapter{}
	for _, a := range cur.Bluetooth {
		powered[string(a.Path)] = a
	}
	for _, a := range want.Bluetooth {
		now, ok := powered[string(a.Path)]
		if !ok {
			return fmt.Errorf("cannot restore Bluetooth adapter %s: %w", a.label(), errAdapterGone)
		}
		if now.Powered == a.Powered && !force {
			continue
		}
		set := h.m.btSetPowered
		if rfkillFirst {
			set = h.m.btSetPoweredSettling
		}
		if err := set(ctx, now, a.Powered); err != nil {
			return err
		}
		*steps = append(*steps, fmt.Sprintf("Bluetooth %s %s", a.label(), onOff(a.Powered)))
	}
	if !rfkillFirst {
		return h.applyRfkill(cur, want, steps)
	}
	return nil
}

func (h *airplaneSet) applyRfkill(cur, want radios, steps *[]string) error {
	now := map[string]radioSwitch{}
	for _, sw := range cur.Rfkill {
		now[sw.Name] = sw
	}
	for _, sw := range want.Rfkill {
		c, ok := now[sw.Name]
		if !ok || c.Index != sw.Index || c.Type != sw.Type {
			return fmt.Errorf("cannot restore rfkill switch %s: it is gone", sw)
		}
		if c.Soft == sw.Soft {
			continue
		}
		if err := h.m.rfkill.setSoft(c, sw.Soft); err != nil {
			return err
		}
		*steps = append(*steps, fmt.Sprintf("rfkill %s %s", sw, blockWord(sw.Soft)))
	}
	return nil
}
