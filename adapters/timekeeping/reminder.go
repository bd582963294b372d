package timekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/ids"
	"github.com/noema-project/noema/verify"
)

// liveStates are the states of an item that exists and was not cancelled:
// a reminder due within seconds may already have gone off by the time it
// is verified.
var liveStates = []string{statePending, stateFiring, stateDelivered}

// ItemArgs select reminders or timers for the reminder.state and
// timer.state probes: one by id, or any matching the other fields. The
// probe passes when a match is in one of States, or, with Absent, when
// none is.
type ItemArgs struct {
	ID     string   `json:"id,omitempty"`
	Text   string   `json:"text,omitempty"`
	Label  string   `json:"label,omitempty"`
	Due    string   `json:"due,omitempty"`
	States []string `json:"states"`
	Absent bool     `json:"absent,omitempty"`
}

// itemPre is what undo of reminder.create or timer.start cancels.
type itemPre struct {
	ID string `json:"id"`
}

func (m *Module) probeItem(kind string) func(context.Context, json.RawMessage) (verify.Observation, error) {
	name := kind + ".state"
	return func(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
		var a ItemArgs
		if err := decodeProbe(name, raw, &a); err != nil {
			return verify.Observation{}, err
		}
		st, err := m.store(ctx)
		if err != nil {
			return verify.Observation{}, err
		}
		if a.ID != "" {
			it, err := st.get(ctx, a.ID)
			if err != nil {
				return verify.Observation{Pass: a.Absent, Detail: err.Error()}, nil
			}
			in := it.Kind == kind && slices.Contains(a.States, it.State)
			return verify.Observation{Pass: in != a.Absent, Observed: it.State,
				Detail: fmt.Sprintf("%s %s is %s (due %s), want %s%s", it.Kind, it.ID, it.State, utc(it.Due), notIf(a.Absent), strings.Join(a.States, "|"))}, nil
		}
		var due time.Time
		if a.Due != "" {
			if due, err = time.Parse(time.RFC3339Nano, a.Due); err != nil {
				return verify.Observation{}, fmt.Errorf("%s: due: %w", name, err)
			}
		}
		items, err := st.find(ctx, kind, a.Label, a.Text, due, a.States)
		if err != nil {
			return verify.Observation{}, err
		}
		var found []string
		for _, it := range items {
			found = append(found, it.ID)
		}
		what := fmt.Sprintf("%s %s matching %s", strings.Join(a.States, "|"), kind, describeArgs(a))
		if a.Absent {
			return verify.Observation{Pass: len(found) == 0, Observed: found, Detail: fmt.Sprintf("%d %s, want none", len(found), what)}, nil
		}
		return verify.Observation{Pass: len(found) > 0, Observed: found, Detail: fmt.Sprintf("%d %s", len(found), what)}, nil
	}
}

func notIf(b bool) string {
	if b {
		return "not "
	}
	return ""
}

func describeArgs(a ItemArgs) string {
	var parts []string
	if a.Label != "" {
		parts = append(parts, fmt.Sprintf("label %q", a.Label))
	}
	if a.Text != "" {
		parts = append(parts, fmt.Sprintf("text %q", a.Text))
	}
	if a.Due != "" {
		parts = append(parts, "due "+a.Due)
	}
	if len(parts) == 0 {
		return "anything"
	}
	return strings.Join(parts, ", ")
}

// cleanText keeps a reminder's text readable in a notification: control
// characters other than line breaks and tabs are dropped.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// pastGrace is how far in the past a reminder's time may be: "now" said
// a moment ago is fine; yesterday is a mistake worth reporting.
const pastGrace = time.Minute

type reminderCreate struct{ m *Module }

type reminderTarget struct {
	Text string `json:"text"`
	At   string `json:"at"`
}

func (t reminderTarget) resolve(loc *time.Location) (string, time.Time, error) {
	text := cleanText(t.Text)
	if text == "" {
		return "", time.Time{}, fmt.Errorf("reminder.create: the text is empty")
	}
	at, err := parseLocalTime("at", t.At, loc)
	return text, at, err
}

func (h *reminderCreate) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "reminder.create",
		Title:       "Set a reminder",
		Description: "Show a desktop notification with a message at a given time. Reminders are kept on disk and delivered late, marked as missed, if the computer was off when they came due.",
		Schema: adapter.Schema([]string{"text", "at"}, map[string]any{
			"text": map[string]any{"type": "string", "minLength": 1, "maxLength": 1000, "description": "what to be reminded of"},
			"at":   map[string]any{"type": "string", "format": "date-time", "maxLength": 40, "description": "when, RFC 3339 in the local zone"},
		}),
		Verification: "the reminder is read back from the reminders database, scheduled for that time",
		Rollback:     action.IdempotentReverse,
		RollbackNote: "undo cancels the reminder if it has not gone off yet",
		Utterances: []string{
			"remind me to {text} [at|on] {at}",
			"remind me {at} to {text}",
			"remind me (at|on) {at} to {text}",
			"remind me about {text} (at|on) {at}",
			"(set|create|add) a reminder (for|at|on) {at} (to|about|that) {text}",
			"(set|create|add) a reminder to {text} (at|on) {at}",
			"(don't|do not) let me forget to {text} (at|on) {at}",
			"ping me (at|on) {at} (about|to) {text}",
			"(set|create|add) [an] alarm (for|at|on) {at} => text=Alarm",
			"(wake me up|wake me) [at|on] {at} => text=Wake up",
			"(set|create|add) [an] alarm {at} => text=Alarm",
			"alarm [for|at] {at} => text=Alarm",
			"remind me to {text}",
			"remind me {at}",
			"(set|create|add|make) [a|an] [new] reminder",
		},
		Examples: []action.Example{
			{Text: "remind me to water the plants at 2026-05-04T18:00:00+02:00",
				Target: json.RawMessage(`{"text":"water the plants","at":"2026-05-04T18:00:00+02:00"}`)},
			{Text: "set a reminder for 2026-05-05T08:15:00+02:00 to call the garage",
				Target: json.RawMessage(`{"text":"call the garage","at":"2026-05-05T08:15:00+02:00"}`)},
			{Text: "ping me on 2026-06-10T10:00:00+02:00 about renewing the passport",
				Target: json.RawMessage(`{"text":"renewing the passport","at":"2026-06-10T10:00:00+02:00"}`)},
		},
		Aliases: []string{"reminder", "remind", "alert me", "nudge me", "don't let me forget", "alarm", "wake me up"},
		Owner:   "timekeeping",
	}
}

func (h *reminderCreate) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var pre itemPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return nil, err
		}
		return []action.Change{{Subject: "reminder " + pre.ID, Old: "scheduled", New: "cancelled"}}, nil
	}
	var t reminderTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	text, at, err := t.resolve(h.m.opts.Location)
	if err != nil {
		return nil, err
	}
	ch := action.Change{Subject: "reminders", New: fmt.Sprintf("%q at %s", text, h.m.localTime(at))}
	if at.Before(h.m.now().Add(-pastGrace)) {
		ch.Note = "that time has passed"
	}
	return []action.Change{ch}, nil
}

func (h *reminderCreate) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var pre itemPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return verify.Spec{}, err
		}
		return verify.Probe("reminder.state", ItemArgs{ID: pre.ID, States: []string{stateCancelled}}), nil
	}
	var t reminderTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	text, at, err := t.resolve(h.m.opts.Location)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("reminder.state", ItemArgs{Text: text, Due: at.UTC().Format(time.RFC3339Nano), States: liveStates}), nil
}

func (h *reminderCreate) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var pre itemPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		it, err := h.m.cancelItem(ctx, pre.ID)
		if err != nil {
			return adapter.Outcome{}, err
		}
		return adapter.Outcome{Result: map[string]any{"cancelled": it.ID, "text": it.Text}}, nil
	}
	var t reminderTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	text, at, err := t.resolve(h.m.opts.Location)
	if err != nil {
		return adapter.Outcome{}, err
	}
	now := h.m.now()
	if at.Before(now.Add(-pastGrace)) {
		return adapter.Outcome{}, fmt.Errorf("reminder time %s has already passed (it is now %s)", h.m.localTime(at), h.m.localTime(now))
	}
	it := item{ID: ids.New("rem", now), Kind: kindReminder, Text: text, Due: at, Created: now}
	res, err := h.m.addItem(ctx, it)
	if err != nil {
		return adapter.Outcome{}, err
	}
	res["text"] = text
	res["at"] = h.m.localTime(at)
	return adapter.Outcome{
		Result:       res,
		PreState:     itemPre{ID: it.ID},
		Verification: verify.Probe("reminder.state", ItemArgs{ID: it.ID, States: liveStates}),
	}, nil
}

// addItem stores a new item, adds its systemd timer where one can run,
// and wakes the scheduler.
func (m *Module) addItem(ctx context.Context, it item) (map[string]any, error) {
	st, err := m.store(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.insert(ctx, it); err != nil {
		return nil, err
	}
	res := map[string]any{"id": it.ID}
	m.scheduleUnit(ctx, st, it, res)
	m.notifyChange()
	return res, nil
}

// scheduleUnit adds the optional systemd timer and notes the outcome.
func (m *Module) scheduleUnit(ctx context.Context, st *store, it item, res map[string]any) {
	unit, note := m.timer.schedule(ctx, it.ID, it.Due)
	if unit != "" {
		if err := st.setUnit(ctx, it.ID, unit); err != nil {
			m.timer.cancel(ctx, unit)
			unit, note = "", "recording the systemd timer failed: "+err.Error()
		}
	}
	if unit != "" {
		res["systemd_timer"] = unit
	} else {
		res["systemd_timer_note"] = note
	}
}

// cancelItem cancels a pending item and its systemd timer.
func (m *Module) cancelItem(ctx context.Context, id string) (item, error) {
	st, err := m.store(ctx)
	if err != nil {
		return item{}, err
	}
	it, err := st.cancel(ctx, id, m.now())
	if err != nil {
		return item{}, err
	}
	m.timer.cancel(ctx, it.Unit)
	m.notifyChange()
	return it, nil
}
