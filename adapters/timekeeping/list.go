package timekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

// reminderList shows the reminders and timers still to go off.
type reminderList struct{ m *Module }

type reminderListTarget struct {
	Kind string `json:"kind,omitempty"`
	// From and To keep items due in [from, to); From alone means that
	// day (24 hours), as for calendar events.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// window is the due range to keep; ok is false when the request names
// none (everything pending is listed).
func (t reminderListTarget) window(now time.Time, loc *time.Location) (from, to time.Time, ok bool, err error) {
	if t.From == "" && t.To == "" {
		return time.Time{}, time.Time{}, false, nil
	}
	from, to, err = listTarget{From: t.From, To: t.To}.window(now, loc)
	return from, to, err == nil, err
}

func (h *reminderList) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "reminder.list",
		Title:       "List reminders and timers",
		Description: "Show the reminders and timers that have not gone off yet, soonest first, with the time left.",
		Schema: adapter.Schema(nil, map[string]any{
			"kind": map[string]any{"type": "string", "enum": []string{"reminder", "timer", "all"}, "description": "which to list (default all)"},
			"from": map[string]any{"type": "string", "format": "date-time", "maxLength": 40, "description": "only items due from then, RFC 3339"},
			"to":   map[string]any{"type": "string", "format": "date-time", "maxLength": 40, "description": "only items due before then (default: a day after from)"},
		}),
		Verification: "every listed item is read back from the reminders database, still pending",
		Rollback:     action.RollbackNone, RollbackNote: "listing changes nothing",
		ReadOnly: true,
		Utterances: []string{
			"(list|show|read|tell me) [me] [all] my {kind}s",
			"(list|show|read) [me] [all] [my] (reminders|timers|alarms)",
			"(list|show|read|what are) [me] [all] [my] (reminders|alarms) (for|on|from|between) {from} [(to|and) {to}]",
			"what (reminders|timers|alarms) do i have [set|left|pending]",
			"what are my (reminders|timers|alarms)",
			"what is on my (reminder|reminders) list",
			"how (much time|long) is left [on] [my|the] timer",
			"(is|are) [there] any (reminders|timers|alarms) [set|pending]",
		},
		Examples: []action.Example{
			{Text: "show my reminders", Target: json.RawMessage(`{"kind":"reminder"}`)},
			{Text: "how long is left on the timer", Target: json.RawMessage(`{}`)},
		},
		Aliases:    []string{"reminder list", "my reminders", "pending reminders", "running timers", "time left", "things to remind me of"},
		ValueWords: map[string][]string{"kind=reminder": {"reminders", "alarms", "alarm"}, "kind=timer": {"timers"}},
		Owner:      "timekeeping",
	}
}

func (h *reminderList) kinds(req *action.Request) ([]string, error) {
	var t reminderListTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	if _, _, _, err := t.window(h.m.now(), h.m.opts.Location); err != nil {
		return nil, err
	}
	switch t.Kind {
	case "reminder":
		return []string{"reminder"}, nil
	case "timer":
		return []string{"timer"}, nil
	}
	return []string{"reminder", "timer"}, nil
}

func (h *reminderList) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	return []action.Change{{Subject: "reminders and timers", Note: "read only"}}, nil
}

func (h *reminderList) Verification(req *action.Request) (verify.Spec, error) {
	if _, err := h.kinds(req); err != nil {
		return verify.Spec{}, err
	}
	return verify.Spec{}, nil
}

func (h *reminderList) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	kinds, err := h.kinds(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	st, err := h.m.store(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	now := h.m.now()
	var t reminderListTarget
	adapter.DecodeTarget(req, &t)
	from, to, ranged, _ := t.window(now, h.m.opts.Location)
	type entry struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Text    string `json:"text,omitempty"`
		Label   string `json:"label,omitempty"`
		Due     string `json:"due"`
		Left    string `json:"left"`
		dueUnix int64
	}
	var out []entry
	var checks []verify.Spec
	for _, k := range kinds {
		items, err := st.find(ctx, k, "", "", time.Time{}, []string{statePending})
		if err != nil {
			return adapter.Outcome{}, err
		}
		for _, it := range items {
			if ranged && (it.Due.Before(from) || !it.Due.Before(to)) {
				continue
			}
			left := it.Due.Sub(now).Round(1e9)
			if left < 0 {
				left = 0
			}
			out = append(out, entry{ID: it.ID, Kind: it.Kind, Text: it.Text, Label: it.Label, Due: h.m.localTime(it.Due), Left: left.String(), dueUnix: it.Due.UnixMilli()})
			checks = append(checks, verify.Probe(k+".state", ItemArgs{ID: it.ID, States: liveStates}))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dueUnix < out[j].dueUnix })
	res := map[string]any{"items": out, "count": len(out), "untrusted": true}
	if len(out) == 0 {
		res["note"] = "nothing pending"
	}
	spec := verify.AllOf(checks...)
	if spec.IsZero() {
		// Nothing listed: the proof is that the database answered.
		spec = verify.Probe("reminder.state", ItemArgs{States: []string{statePending}, Absent: true})
		if len(kinds) == 2 {
			spec = verify.AllOf(spec, verify.Probe("timer.state", ItemArgs{States: []string{statePending}, Absent: true}))
		}
	}
	if len(out) > 0 {
		res["summary"] = fmt.Sprintf("%d pending", len(out))
	}
	return adapter.Outcome{Result: res, Verification: spec}, nil
}
