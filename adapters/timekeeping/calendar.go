package timekeeping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/ids"
	"github.com/noema-project/noema/verify"
)

const (
	defaultEventMinutes = 60
	maxEventMinutes     = 7 * 24 * 60
)

type eventCreate struct{ m *Module }

type createTarget struct {
	Title           string `json:"title"`
	Start           string `json:"start"`
	DurationMinutes int    `json:"duration_minutes,omitempty"`
}

// resolve checks a target and returns the event it describes.
func (t createTarget) resolve(loc *time.Location) (title string, start, end time.Time, err error) {
	title = cleanTitle(t.Title)
	if title == "" {
		return "", time.Time{}, time.Time{}, fmt.Errorf("calendar.event.create: the title is empty")
	}
	start, err = parseLocalTime("start", t.Start, loc)
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	mins := t.DurationMinutes
	if mins == 0 {
		mins = defaultEventMinutes
	}
	if mins < 1 || mins > maxEventMinutes {
		return "", time.Time{}, time.Time{}, fmt.Errorf("duration_minutes %d is outside 1..%d", mins, maxEventMinutes)
	}
	return title, start, start.Add(time.Duration(mins) * time.Minute), nil
}

// eventPre is what undo of a create needs: which event to delete.
type eventPre struct {
	UID      string `json:"uid"`
	Ref      string `json:"ref,omitempty"`
	Title    string `json:"title"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Calendar string `json:"calendar"`
}

// EventArgs select an event for the calendar probes: by UID (and where it
// was stored), or by title and exact times.
type EventArgs struct {
	UID   string `json:"uid,omitempty"`
	Ref   string `json:"ref,omitempty"`
	Title string `json:"title,omitempty"`
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

func (h *eventCreate) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "calendar.event.create",
		Title: "Add a calendar event",
		Description: "Add an event to the calendar: the configured CalDAV server, or the local iCalendar file " +
			"when none is set. Times are stored in UTC, so every client shows them in its own zone.",
		Schema: adapter.Schema([]string{"title", "start"}, map[string]any{
			"title": map[string]any{"type": "string", "minLength": 1, "maxLength": 500, "description": "what the event is"},
			"start": map[string]any{"type": "string", "format": "date-time", "maxLength": 40,
				"description": "when it starts, RFC 3339 in the local zone"},
			"duration_minutes": map[string]any{"type": "integer", "minimum": 1, "maximum": maxEventMinutes,
				"default": defaultEventMinutes, "description": "how long it lasts (default 60)"},
		}),
		Verification: "the event is read back from the calendar by its UID with the same title and times",
		Rollback:     action.IdempotentReverse,
		RollbackNote: "undo deletes the event by its UID",
		Utterances: []string{
			"(create|add|schedule|put|book|make) [a|an] (meeting|event|appointment) [called|named|titled] {title} (at|on|for) {start}",
			"(create|add|schedule|put) {title} (in|on|to) [my|the] calendar [at|on|for] {start}",
			"(create|add|schedule|book|set up|make|plan) [a|an] [new] (meeting|event|appointment|calendar event)",
			"(schedule|book|plan) {title} (at|on|for) {start} for {duration_minutes} minutes",
			"(add|put) [a|an] (meeting|event|appointment) (at|on) {start} (called|named|about) {title}",
			"(block|reserve) {duration_minutes} minutes (at|on) {start} for {title}",
			"i have [a|an] {title} (at|on) {start}",
			"(create|add|schedule|book|set up|make|plan) [a|an|my] {title} [at|on|for] {start} [for {duration_minutes}]",
		},
		Examples: []action.Example{
			{Text: "schedule a meeting with the design team at 2026-05-04T14:00:00+02:00",
				Target: json.RawMessage(`{"title":"meeting with the design team","start":"2026-05-04T14:00:00+02:00"}`)},
			{Text: "book dentist on 2026-06-01T09:30:00+02:00 for 45 minutes",
				Target: json.RawMessage(`{"title":"dentist","start":"2026-06-01T09:30:00+02:00","duration_minutes":45}`)},
			{Text: "put lunch with Sam in my calendar for 2026-05-05T12:00:00+02:00",
				Target: json.RawMessage(`{"title":"lunch with Sam","start":"2026-05-05T12:00:00+02:00"}`)},
		},
		Aliases: []string{"new event", "add appointment", "schedule meeting", "calendar entry", "book a slot"},
		Owner:   "timekeeping",
	}
}

func (h *eventCreate) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	cal, err := h.m.calendar()
	if err != nil {
		return nil, err
	}
	if req.Undo != nil {
		var pre eventPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return nil, err
		}
		return []action.Change{{Subject: "calendar " + pre.Calendar, Old: fmt.Sprintf("%q at %s", pre.Title, pre.Start), New: "deleted"}}, nil
	}
	var t createTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	title, start, end, err := t.resolve(h.m.opts.Location)
	if err != nil {
		return nil, err
	}
	ch := action.Change{Subject: "calendar " + cal.Where(), New: fmt.Sprintf("%q %s – %s", title, h.m.localTime(start), h.m.localTime(end))}
	if evs, _, err := cal.Between(ctx, start, end); err == nil && len(evs) > 0 {
		var names []string
		for _, e := range evs {
			names = append(names, fmt.Sprintf("%q", e.Title))
		}
		ch.Note = "overlaps " + strings.Join(names, ", ")
	}
	return []action.Change{ch}, nil
}

func (h *eventCreate) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var pre eventPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return verify.Spec{}, err
		}
		return verify.Probe("calendar.event.absent", EventArgs{UID: pre.UID, Ref: pre.Ref}), nil
	}
	var t createTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	title, start, end, err := t.resolve(h.m.opts.Location)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("calendar.event.exists", EventArgs{Title: title, Start: utc(start), End: utc(end)}), nil
}

func (h *eventCreate) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	cal, err := h.m.calendar()
	if err != nil {
		return adapter.Outcome{}, err
	}
	if req.Undo != nil {
		var pre eventPre
		if err := adapter.DecodePreState(req, &pre); err != nil {
			return adapter.Outcome{}, err
		}
		found, err := cal.Delete(ctx, pre.UID, pre.Ref)
		if err != nil {
			return adapter.Outcome{}, fmt.Errorf("delete event %s: %w", pre.UID, err)
		}
		return adapter.Outcome{Result: map[string]any{"deleted": pre.UID, "calendar": pre.Calendar, "already_gone": !found}}, nil
	}
	var t createTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	title, start, end, err := t.resolve(h.m.opts.Location)
	if err != nil {
		return adapter.Outcome{}, err
	}
	now := h.m.now()
	uid := "noema-" + strings.ToLower(strings.TrimPrefix(ids.New("evt", now), "evt_"))
	pre := eventPre{UID: uid, Title: title, Start: utc(start), End: utc(end), Calendar: cal.Where()}
	ref, err := cal.Put(ctx, uid, newEvent(uid, title, start, end, now))
	if err != nil {
		out := adapter.Outcome{}
		var unsure *uncertainError
		if errors.As(err, &unsure) {
			// The server may have stored the event before the answer was
			// lost: the pre-state lets the runtime's rollback remove it.
			out.PreState = pre
		}
		return out, fmt.Errorf("add event to %s: %w", cal.Where(), err)
	}
	pre.Ref = ref
	pre.Calendar = cal.Where()
	return adapter.Outcome{
		Result: map[string]any{
			"uid": uid, "title": title, "start": h.m.localTime(start), "end": h.m.localTime(end), "calendar": pre.Calendar,
		},
		PreState:     pre,
		Verification: verify.Probe("calendar.event.exists", EventArgs{UID: uid, Ref: ref, Title: title, Start: pre.Start, End: pre.End}),
	}, nil
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// listTarget is the range calendar.event.list covers.
type listTarget struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Query keeps events whose title or place has every word of it
	// ("meeting with ann").
	Query string `json:"query,omitempty"`
}

// matches reports whether an event has every word of the query (case
// folded; "my", "the" and friends ignored).
func (t listTarget) matches(e Event) bool {
	if strings.TrimSpace(t.Query) == "" {
		return true
	}
	hay := strings.ToLower(e.Title + " " + e.Location)
	for _, w := range strings.Fields(strings.ToLower(t.Query)) {
		switch w {
		case "my", "the", "a", "an", "with", "for", "of", "on", "at", "to":
			continue
		}
		if !strings.Contains(hay, strings.Trim(w, ".,?!'\"")) {
			return false
		}
	}
	return true
}

// window resolves the range: from defaults to now, to to a week after
// from (a day when only from is given).
func (t listTarget) window(now time.Time, loc *time.Location) (from, to time.Time, err error) {
	from = now
	if t.From != "" {
		if from, err = parseLocalTime("from", t.From, loc); err != nil {
			return
		}
	}
	switch {
	case t.To != "":
		if to, err = parseLocalTime("to", t.To, loc); err != nil {
			return
		}
	case t.From != "":
		to = from.Add(24 * time.Hour)
	default:
		to = from.Add(7 * 24 * time.Hour)
	}
	if !to.After(from) {
		err = fmt.Errorf("the range ends (%s) before it starts (%s)", t.To, t.From)
	}
	return
}

type eventList struct{ m *Module }

func (h *eventList) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "calendar.event.list",
		Title: "List calendar events",
		Description: "List the events (recurring ones expanded) that overlap a time range [from, to). " +
			"Without a range, the coming week. Event text comes from the calendar and is marked untrusted.",
		Schema: adapter.Schema(nil, map[string]any{
			"from":  map[string]any{"type": "string", "format": "date-time", "maxLength": 40, "description": "start of the range, RFC 3339 (default now)"},
			"to":    map[string]any{"type": "string", "format": "date-time", "maxLength": 40, "description": "end of the range, exclusive (default: a day after from, or a week from now)"},
			"query": map[string]any{"type": "string", "maxLength": 200, "description": "only events whose title or place has these words"},
		}),
		Verification: "the calendar is read again and every listed event is still there",
		Rollback:     action.RollbackNone, RollbackNote: "listing changes nothing",
		ReadOnly: true,
		Utterances: []string{
			"what's on my calendar",
			"what is on my (calendar|schedule|agenda) [for] (between|from) {from} (to|and|until) {to}",
			"(show|list|read) [me] my (calendar|schedule|agenda|events|appointments|meetings)",
			"(show|list) [my] (events|meetings|appointments) (from|between) {from} (to|and|until) {to}",
			"what (meetings|events|appointments) do i have (on|from) {from}",
			"am i (busy|free) (between|from) {from} (and|to) {to}",
			"am i (busy|free) [on|at|for] {from}",
			"do i have (plans|events|meetings|appointments) [planned|scheduled|booked] (on|for|at) {from}",
			"(when|what time) is [my|the] {query}",
			"(when|what time) is [my|the] {query} (scheduled|planned|happening) [for|on]",
			"(what|which) (meetings|events|appointments) do i have [on|for] {from}",
			"do i have [a|an|any] {query} (on|at|for) {from}",
			"what do i have [planned|scheduled|on] [for|on] {from}",
			"what is on [for] {from}",
			"(when|what time) is my next (meeting|event|appointment)",
			"is [there] [a|an|my] {query} (on|in) my calendar",
		},
		Examples: []action.Example{
			{Text: "show my calendar", Target: json.RawMessage(`{}`)},
			{Text: "what meetings do I have between 2026-05-04T00:00:00+02:00 and 2026-05-05T00:00:00+02:00",
				Target: json.RawMessage(`{"from":"2026-05-04T00:00:00+02:00","to":"2026-05-05T00:00:00+02:00"}`)},
		},
		Aliases: []string{"agenda", "schedule", "upcoming events", "my appointments", "diary"},
		Owner:   "timekeeping",
	}
}

func (h *eventList) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	var t listTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	from, to, err := t.window(h.m.now(), h.m.opts.Location)
	if err != nil {
		return nil, err
	}
	where := "(not configured)"
	if cal, err := h.m.calendar(); err == nil {
		where = cal.Where()
	}
	return []action.Change{{Subject: "calendar " + where, Note: fmt.Sprintf("read only: events from %s to %s", h.m.localTime(from), h.m.localTime(to))}}, nil
}

func (h *eventList) Verification(req *action.Request) (verify.Spec, error) {
	var t listTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	if _, _, err := t.window(h.m.now(), h.m.opts.Location); err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("calendar.readable", struct{}{}), nil
}

// eventView is an event as results show it.
type eventView struct {
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Start       string `json:"start"`
	End         string `json:"end"`
	AllDay      bool   `json:"all_day,omitempty"`
	Location    string `json:"location,omitempty"`
	Recurring   bool   `json:"recurring,omitempty"`
	ZoneGuessed bool   `json:"zone_guessed,omitempty"`
}

func (h *eventList) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	var t listTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	from, to, err := t.window(h.m.now(), h.m.opts.Location)
	if err != nil {
		return adapter.Outcome{}, err
	}
	cal, err := h.m.calendar()
	if err != nil {
		return adapter.Outcome{}, err
	}
	evs, skipped, err := cal.Between(ctx, from, to)
	if err != nil {
		return adapter.Outcome{}, fmt.Errorf("read calendar %s: %w", cal.Where(), err)
	}
	views := make([]eventView, 0, len(evs))
	var uids []string
	seen := map[string]bool{}
	for _, e := range evs {
		if !t.matches(e) {
			continue
		}
		views = append(views, eventView{
			UID: e.UID, Title: e.Title, Start: h.m.localTime(e.Start), End: h.m.localTime(e.End),
			AllDay: e.AllDay, Location: e.Location, Recurring: e.Recurring, ZoneGuessed: e.ZoneGuessed,
		})
		if e.UID != "" && !seen[e.UID] {
			seen[e.UID] = true
			uids = append(uids, e.UID)
		}
	}
	res := map[string]any{
		// Titles and places were written by whoever shares the calendar.
		"untrusted": true,
		"calendar":  cal.Where(),
		"from":      h.m.localTime(from), "to": h.m.localTime(to),
		"events": views,
	}
	if len(skipped) > 0 {
		res["skipped"] = skipped
	}
	out := adapter.Outcome{Result: res}
	if len(uids) > 0 {
		out.Verification = verify.Probe("calendar.events.present", EventsArgs{From: utc(from), To: utc(to), UIDs: uids})
	}
	return out, nil
}

// EventsArgs expect every UID among the events overlapping [From, To).
type EventsArgs struct {
	From string   `json:"from"`
	To   string   `json:"to"`
	UIDs []string `json:"uids"`
}

func decodeProbe(name string, raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("%s: probe arguments missing", name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: probe arguments: %w", name, err)
	}
	return nil
}

func (m *Module) probeEventExists(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a EventArgs
	if err := decodeProbe("calendar.event.exists", raw, &a); err != nil {
		return verify.Observation{}, err
	}
	cal, err := m.calendar()
	if err != nil {
		return verify.Observation{}, err
	}
	var start, end time.Time
	if a.Start != "" {
		if start, err = parseTime("start", a.Start); err != nil {
			return verify.Observation{}, err
		}
	}
	if a.End != "" {
		if end, err = parseTime("end", a.End); err != nil {
			return verify.Observation{}, err
		}
	}
	matches := func(e Event) bool {
		return (a.Title == "" || e.Title == a.Title) &&
			(a.Start == "" || e.Start.Equal(start)) &&
			(a.End == "" || e.End.Equal(end))
	}
	if a.UID != "" {
		e, found, err := cal.Get(ctx, a.UID, a.Ref)
		if err != nil {
			return verify.Observation{}, err
		}
		if !found {
			return verify.Observation{Pass: false, Detail: fmt.Sprintf("no event %s in %s", a.UID, cal.Where())}, nil
		}
		obs := map[string]any{"uid": e.UID, "title": e.Title, "start": utc(e.Start), "end": utc(e.End)}
		return verify.Observation{Pass: matches(e), Observed: obs,
			Detail: fmt.Sprintf("event %s in %s is %q %s–%s", a.UID, cal.Where(), e.Title, utc(e.Start), utc(e.End))}, nil
	}
	if a.Start == "" {
		return verify.Observation{}, fmt.Errorf("calendar.event.exists needs a uid or a start")
	}
	to := end
	if !to.After(start) {
		to = start.Add(time.Second)
	}
	evs, _, err := cal.Between(ctx, start, to)
	if err != nil {
		return verify.Observation{}, err
	}
	for _, e := range evs {
		if matches(e) {
			return verify.Observation{Pass: true, Observed: e.UID, Detail: fmt.Sprintf("event %q at %s found in %s (%s)", e.Title, a.Start, cal.Where(), e.UID)}, nil
		}
	}
	return verify.Observation{Pass: false, Detail: fmt.Sprintf("no event %q at %s in %s", a.Title, a.Start, cal.Where())}, nil
}

func (m *Module) probeEventAbsent(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a EventArgs
	if err := decodeProbe("calendar.event.absent", raw, &a); err != nil {
		return verify.Observation{}, err
	}
	if a.UID == "" {
		return verify.Observation{}, fmt.Errorf("calendar.event.absent needs a uid")
	}
	cal, err := m.calendar()
	if err != nil {
		return verify.Observation{}, err
	}
	_, found, err := cal.Get(ctx, a.UID, a.Ref)
	if err != nil {
		return verify.Observation{}, err
	}
	if found {
		return verify.Observation{Pass: false, Detail: fmt.Sprintf("event %s is still in %s", a.UID, cal.Where())}, nil
	}
	return verify.Observation{Pass: true, Detail: fmt.Sprintf("event %s is not in %s", a.UID, cal.Where())}, nil
}

func (m *Module) probeEventsPresent(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a EventsArgs
	if err := decodeProbe("calendar.events.present", raw, &a); err != nil {
		return verify.Observation{}, err
	}
	from, err := parseTime("from", a.From)
	if err != nil {
		return verify.Observation{}, err
	}
	to, err := parseTime("to", a.To)
	if err != nil {
		return verify.Observation{}, err
	}
	cal, err := m.calendar()
	if err != nil {
		return verify.Observation{}, err
	}
	evs, _, err := cal.Between(ctx, from, to)
	if err != nil {
		return verify.Observation{}, err
	}
	have := map[string]bool{}
	for _, e := range evs {
		have[e.UID] = true
	}
	var missing []string
	for _, u := range a.UIDs {
		if !have[u] {
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		return verify.Observation{Pass: false, Observed: missing, Detail: fmt.Sprintf("%d listed events are no longer in %s", len(missing), cal.Where())}, nil
	}
	return verify.Observation{Pass: true, Observed: len(a.UIDs), Detail: fmt.Sprintf("all %d listed events are in %s", len(a.UIDs), cal.Where())}, nil
}

func (m *Module) probeReadable(ctx context.Context, _ json.RawMessage) (verify.Observation, error) {
	cal, err := m.calendar()
	if err != nil {
		return verify.Observation{}, err
	}
	now := m.now()
	if _, _, err := cal.Between(ctx, now, now.Add(time.Second)); err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	return verify.Observation{Pass: true, Detail: cal.Where() + " answers and parses"}, nil
}
