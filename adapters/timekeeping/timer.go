package timekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/ids"
	"github.com/noema-project/noema/verify"
)

const (
	defaultTimerLabel = "timer"
	maxTimerSeconds   = 7 * 24 * 3600
)

type timerTarget struct {
	Seconds int64  `json:"seconds"`
	Label   string `json:"label,omitempty"`
}

// labelOf is a timer's label, "timer" when none was given.
func labelOf(s string) string {
	if s = cleanTitle(s); s != "" {
		return s
	}
	return defaultTimerLabel
}

type timerStart struct{ m *Module }

func (h *timerStart) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "timer.start",
		Title:       "Start a timer",
		Description: "Count down a number of seconds, then show a desktop notification. A label tells timers apart (default \"timer\").",
		Schema: adapter.Schema([]string{"seconds"}, map[string]any{
			"seconds": map[string]any{"type": "integer", "minimum": 1, "maximum": maxTimerSeconds, "description": "how long, in seconds"},
			"label":   map[string]any{"type": "string", "maxLength": 100, "description": "a name for the timer (default \"timer\")"},
		}),
		Verification: "the timer is read back from the database, counting down",
		Rollback:     action.IdempotentReverse,
		RollbackNote: "undo cancels the timer if it has not gone off yet",
		Utterances: []string{
			"set a timer for {seconds}",
			"(start|set|make|create) [a|an] [new] timer [for me]",
			"(start|set) [a|an] [new] timer (to go off|to ring|that goes off|that rings) in {seconds}",
			"(start|set|make|give me|create) a {seconds} timer",
			"timer [for] {seconds}",
			"(start|set) a {label} timer for {seconds}",
			"(start|set) a timer (called|named|for) {label} for {seconds}",
			"(count down|countdown) {seconds}",
			"(alert|ping|buzz|wake) me in {seconds}",
			"tell me when {seconds} (have|has) passed",
			"(set|start) a timer for {seconds} (for|called) {label}",
		},
		Examples: []action.Example{
			{Text: "set a timer for 10 minutes", Target: json.RawMessage(`{"seconds":600}`)},
			{Text: "start a pasta timer for 9 minutes", Target: json.RawMessage(`{"seconds":540,"label":"pasta"}`)},
			{Text: "count down 45 seconds", Target: json.RawMessage(`{"seconds":45}`)},
		},
		Aliases: []string{"countdown", "stopwatch alarm", "kitchen timer", "egg timer"},
		Owner:   "timekeeping",
	}
}

func (h *timerStart) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var pre itemPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return nil, err
		}
		return []action.Change{{Subject: "timer " + pre.ID, Old: "running", New: "cancelled"}}, nil
	}
	var t timerTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	d := time.Duration(t.Seconds) * time.Second
	return []action.Change{{Subject: "timers", New: fmt.Sprintf("%q for %s, until about %s", labelOf(t.Label), d, h.m.localTime(h.m.now().Add(d)))}}, nil
}

func (h *timerStart) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var pre itemPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return verify.Spec{}, err
		}
		return verify.Probe("timer.state", ItemArgs{ID: pre.ID, States: []string{stateCancelled}}), nil
	}
	var t timerTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	if t.Seconds < 1 || t.Seconds > maxTimerSeconds {
		return verify.Spec{}, fmt.Errorf("timer.start: seconds %d is outside 1..%d", t.Seconds, maxTimerSeconds)
	}
	return verify.Probe("timer.state", ItemArgs{Label: labelOf(t.Label), States: liveStates}), nil
}

func (h *timerStart) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var pre itemPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		it, err := h.m.cancelItem(ctx, pre.ID)
		if err != nil {
			return adapter.Outcome{}, err
		}
		return adapter.Outcome{Result: map[string]any{"cancelled": it.ID, "label": it.Label}}, nil
	}
	var t timerTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	if t.Seconds < 1 || t.Seconds > maxTimerSeconds {
		return adapter.Outcome{}, fmt.Errorf("timer.start: seconds %d is outside 1..%d", t.Seconds, maxTimerSeconds)
	}
	now := h.m.now()
	it := item{ID: ids.New("tmr", now), Kind: kindTimer, Label: labelOf(t.Label), Seconds: t.Seconds,
		Due: now.Add(time.Duration(t.Seconds) * time.Second), Created: now}
	res, err := h.m.addItem(ctx, it)
	if err != nil {
		return adapter.Outcome{}, err
	}
	res["label"] = it.Label
	res["seconds"] = it.Seconds
	res["ends_at"] = h.m.localTime(it.Due)
	return adapter.Outcome{
		Result:       res,
		PreState:     itemPre{ID: it.ID},
		Verification: verify.Probe("timer.state", ItemArgs{ID: it.ID, States: liveStates}),
	}, nil
}

type timerCancel struct{ m *Module }

type cancelTarget struct {
	Label string `json:"label,omitempty"`
}

// cancelledTimer is one timer a cancel stopped, with what was left.
type cancelledTimer struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	RemainingMs int64  `json:"remaining_ms"`
}

// cancelPre is what undo of timer.cancel restores.
type cancelPre struct {
	Timers []cancelledTimer `json:"timers"`
}

func (h *timerCancel) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "timer.cancel",
		Title: "Cancel a timer",
		Description: "Stop the running timers with a label before they go off. Without a label, stops the only running timer " +
			"(and asks which when several run). Undo starts them again with the time they had left.",
		Schema: adapter.Schema(nil, map[string]any{
			"label": map[string]any{"type": "string", "maxLength": 100, "description": "which timer (omit when only one runs)"},
		}),
		Verification: "no running timer with that label is left in the database",
		Rollback:     action.IdempotentReverse,
		RollbackNote: "undo restarts each cancelled timer with the time it had left",
		Utterances: []string{
			"cancel the {label} timer",
			"(cancel|stop|kill|clear|remove|delete) [the|my|all] [my] (timer|timers)",
			"(cancel|stop|kill|clear) the timer (called|named|for) {label}",
			"(turn off|never mind) the {label} timer",
			"(cancel|stop) my {label} timer",
		},
		Examples: []action.Example{
			{Text: "cancel the pasta timer", Target: json.RawMessage(`{"label":"pasta"}`)},
			{Text: "stop the timer", Target: json.RawMessage(`{}`)},
		},
		Aliases: []string{"stop timer", "cancel countdown", "clear timer"},
		Owner:   "timekeeping",
	}
}

func (h *timerCancel) label(req *action.Request) (string, error) {
	var t cancelTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return "", err
	}
	return cleanTitle(t.Label), nil
}

func (h *timerCancel) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var pre cancelPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return nil, err
		}
		var out []action.Change
		for _, t := range pre.Timers {
			out = append(out, action.Change{Subject: "timer " + t.Label, Old: "cancelled", New: fmt.Sprintf("running again, %s left", time.Duration(t.RemainingMs)*time.Millisecond)})
		}
		return out, nil
	}
	label, err := h.label(req)
	if err != nil {
		return nil, err
	}
	st, err := h.m.store(ctx)
	if err != nil {
		return nil, err
	}
	items, err := st.find(ctx, kindTimer, label, "", time.Time{}, []string{statePending})
	if err != nil {
		return nil, err
	}
	var out []action.Change
	for _, it := range items {
		out = append(out, action.Change{Subject: "timer " + it.Label, Old: fmt.Sprintf("running, %s left", it.Due.Sub(h.m.now()).Round(time.Second)), New: "cancelled"})
	}
	if len(out) == 0 {
		out = append(out, action.Change{Subject: "timers", Note: "no matching timer is running"})
	}
	return out, nil
}

func (h *timerCancel) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var pre cancelPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return verify.Spec{}, err
		}
		var specs []verify.Spec
		for _, t := range pre.Timers {
			specs = append(specs, verify.Probe("timer.state", ItemArgs{ID: t.ID, States: liveStates}))
		}
		if len(specs) == 0 {
			return verify.Spec{}, fmt.Errorf("timer.cancel: recorded pre-state names no timer")
		}
		return verify.AllOf(specs...), nil
	}
	label, err := h.label(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("timer.state", ItemArgs{Label: label, States: []string{statePending}, Absent: true}), nil
}

func (h *timerCancel) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	st, err := h.m.store(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if req.Undo != nil {
		return h.restore(ctx, st, req)
	}
	label, err := h.label(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	items, err := st.find(ctx, kindTimer, label, "", time.Time{}, []string{statePending})
	if err != nil {
		return adapter.Outcome{}, err
	}
	switch {
	case len(items) == 0 && label != "":
		return adapter.Outcome{}, fmt.Errorf("no timer called %q is running", label)
	case len(items) == 0:
		return adapter.Outcome{}, fmt.Errorf("no timer is running")
	case label == "" && len(items) > 1:
		var names []string
		for _, it := range items {
			names = append(names, fmt.Sprintf("%q", it.Label))
		}
		return adapter.Outcome{}, fmt.Errorf("%d timers are running (%s); say which one to cancel", len(items), strings.Join(names, ", "))
	}
	now := h.m.now()
	var pre cancelPre
	var specs []verify.Spec
	for _, it := range items {
		done, err := h.m.cancelItem(ctx, it.ID)
		if err != nil {
			// Those already cancelled are in pre, for the rollback.
			return adapter.Outcome{PreState: preOrNil(pre)}, err
		}
		pre.Timers = append(pre.Timers, cancelledTimer{ID: done.ID, Label: done.Label, RemainingMs: max(done.Due.Sub(now), 0).Milliseconds()})
		specs = append(specs, verify.Probe("timer.state", ItemArgs{ID: done.ID, States: []string{stateCancelled}}))
	}
	return adapter.Outcome{
		Result:       map[string]any{"cancelled": pre.Timers},
		PreState:     pre,
		Verification: verify.AllOf(specs...),
	}, nil
}

func preOrNil(p cancelPre) any {
	if len(p.Timers) == 0 {
		return nil
	}
	return p
}

// restore restarts cancelled timers with the time they had left.
func (h *timerCancel) restore(ctx context.Context, st *store, req *action.Request) (adapter.Outcome, error) {
	var pre cancelPre
	if err := adapter.DecodePreState(req, &pre); err != nil {
		return adapter.Outcome{}, err
	}
	now := h.m.now()
	var restored []map[string]any
	for _, t := range pre.Timers {
		due := now.Add(time.Duration(t.RemainingMs) * time.Millisecond)
		it, err := st.restore(ctx, t.ID, due)
		if err != nil {
			return adapter.Outcome{}, err
		}
		res := map[string]any{"id": it.ID, "label": it.Label, "ends_at": h.m.localTime(it.Due)}
		h.m.scheduleUnit(ctx, st, it, res)
		restored = append(restored, res)
	}
	h.m.notifyChange()
	return adapter.Outcome{Result: map[string]any{"restored": restored}}, nil
}
