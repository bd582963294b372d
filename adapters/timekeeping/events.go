package timekeeping

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// Event is one occurrence of a calendar event.
type Event struct {
	UID       string
	Title     string
	Location  string
	Start     time.Time
	End       time.Time
	AllDay    bool
	Recurring bool
	// ZoneGuessed is set when a TZID named no zone this machine knows and
	// the local zone was assumed.
	ZoneGuessed bool
}

// overlaps reports whether the event meets [from, to). An event without
// duration counts when it starts inside the range.
func (e Event) overlaps(from, to time.Time) bool {
	if !e.End.After(e.Start) {
		return !e.Start.Before(from) && e.Start.Before(to)
	}
	return e.Start.Before(to) && e.End.After(from)
}

// vevent is a parsed VEVENT before recurrence expansion.
type vevent struct {
	Event
	rule         *rrule.ROption
	rdates       []time.Time
	exdates      []time.Time
	recurrenceID time.Time // set on an override of one occurrence
	cancelled    bool
}

// parsedCalendar is what parseEvents understood, and what it skipped.
type parsedCalendar struct {
	events  []vevent
	skipped []string
}

// zones resolves TZID parameters, caching lookups.
type zones struct {
	local *time.Location
	cache map[string]*time.Location
}

// windowsZones maps the Windows zone names that Outlook and Exchange write
// as TZIDs to IANA names, for the zones people most often meet.
var windowsZones = map[string]string{
	"UTC":                            "UTC",
	"GMT Standard Time":              "Europe/London",
	"W. Europe Standard Time":        "Europe/Berlin",
	"Romance Standard Time":          "Europe/Paris",
	"Central Europe Standard Time":   "Europe/Budapest",
	"Central European Standard Time": "Europe/Warsaw",
	"E. Europe Standard Time":        "Europe/Chisinau",
	"FLE Standard Time":              "Europe/Kiev",
	"Russian Standard Time":          "Europe/Moscow",
	"Eastern Standard Time":          "America/New_York",
	"Central Standard Time":          "America/Chicago",
	"Mountain Standard Time":         "America/Denver",
	"Pacific Standard Time":          "America/Los_Angeles",
	"India Standard Time":            "Asia/Kolkata",
	"China Standard Time":            "Asia/Shanghai",
	"Tokyo Standard Time":            "Asia/Tokyo",
	"AUS Eastern Standard Time":      "Australia/Sydney",
}

// zone resolves a TZID. Known IANA names are used as they are; names with
// a vendor prefix ("/mozilla.org/20050126_1/Europe/Berlin") are tried by
// their trailing parts; a few Windows names are mapped. ok is false when
// the local zone had to be assumed.
func (z *zones) zone(tzid string) (loc *time.Location, ok bool) {
	tzid = strings.Trim(tzid, `"`)
	if l, hit := z.cache[tzid]; hit {
		return l, l != nil
	}
	try := []string{tzid}
	if iana, found := windowsZones[tzid]; found {
		try = append(try, iana)
	}
	if parts := strings.Split(strings.Trim(tzid, "/"), "/"); len(parts) > 1 {
		for i := len(parts) - 3; i < len(parts)-1; i++ {
			if i >= 0 {
				try = append(try, strings.Join(parts[i:], "/"))
			}
		}
	}
	for _, name := range try {
		if name == "" || name == "Local" || len(name) > 128 {
			continue
		}
		if l, err := time.LoadLocation(name); err == nil {
			z.cache[tzid] = l
			return l, true
		}
	}
	z.cache[tzid] = nil
	return z.local, false
}

// propTime reads a DATE or DATE-TIME property value: UTC ("…Z"), in its
// TZID zone, or floating (the local zone). date is set for DATE values.
func (z *zones) propTime(p *ical.Prop, value string) (t time.Time, date, guessed bool, err error) {
	vt := strings.ToUpper(p.Params.Get(ical.ParamValue))
	if vt == "DATE" || (vt == "" && len(value) == 8) {
		t, err = time.ParseInLocation("20060102", value, z.local)
		return t, true, false, err
	}
	if strings.HasSuffix(value, "Z") || strings.HasSuffix(value, "z") {
		t, err = time.ParseInLocation("20060102T150405", value[:len(value)-1], time.UTC)
		return t, false, false, err
	}
	loc := z.local
	if tzid := p.Params.Get(ical.PropTimezoneID); tzid != "" {
		var ok bool
		loc, ok = z.zone(tzid)
		guessed = !ok
	}
	t, err = time.ParseInLocation("20060102T150405", value, loc)
	return t, false, guessed, err
}

// propTimes reads a list-valued property (EXDATE, RDATE). RDATE periods
// count by their start.
func (z *zones) propTimes(props []ical.Prop) []time.Time {
	var out []time.Time
	for i := range props {
		for _, v := range strings.Split(props[i].Value, ",") {
			v, _, _ = strings.Cut(strings.TrimSpace(v), "/")
			if t, _, _, err := z.propTime(&props[i], v); err == nil {
				out = append(out, t)
			}
		}
	}
	return out
}

// parseEvents reads the VEVENTs of cals. An event that cannot be read is
// skipped with a reason rather than failing the whole calendar, so one
// broken invitation does not hide the rest.
func parseEvents(cals []*ical.Calendar, local *time.Location) parsedCalendar {
	z := &zones{local: local, cache: map[string]*time.Location{}}
	var out parsedCalendar
	for _, cal := range cals {
		for _, c := range cal.Children {
			if c.Name != ical.CompEvent {
				continue
			}
			if len(out.events) >= maxICSEvents {
				out.skipped = append(out.skipped, fmt.Sprintf("more than %d events; the rest were not read", maxICSEvents))
				return out
			}
			ev, err := z.parseEvent(c)
			if err != nil {
				out.skipped = append(out.skipped, fmt.Sprintf("event %q: %v", uidOf(c), err))
				continue
			}
			out.events = append(out.events, ev)
		}
	}
	return out
}

func (z *zones) parseEvent(c *ical.Component) (vevent, error) {
	var v vevent
	v.UID = uidOf(c)
	v.Title = textValue(c.Props.Get(ical.PropSummary))
	v.Location = textValue(c.Props.Get(ical.PropLocation))
	if s := c.Props.Get(ical.PropStatus); s != nil && strings.EqualFold(strings.TrimSpace(s.Value), "CANCELLED") {
		v.cancelled = true
	}
	sp := c.Props.Get(ical.PropDateTimeStart)
	if sp == nil {
		return v, fmt.Errorf("no DTSTART")
	}
	start, date, guessed, err := z.propTime(sp, sp.Value)
	if err != nil {
		return v, fmt.Errorf("DTSTART: %w", err)
	}
	v.Start, v.AllDay, v.ZoneGuessed = start, date, guessed
	switch {
	case c.Props.Get(ical.PropDateTimeEnd) != nil:
		ep := c.Props.Get(ical.PropDateTimeEnd)
		end, _, g, err := z.propTime(ep, ep.Value)
		if err != nil {
			return v, fmt.Errorf("DTEND: %w", err)
		}
		v.End, v.ZoneGuessed = end, v.ZoneGuessed || g
	case c.Props.Get(ical.PropDuration) != nil:
		d, err := c.Props.Get(ical.PropDuration).Duration()
		if err != nil {
			return v, fmt.Errorf("DURATION: %w", err)
		}
		if d > 0 {
			v.End = start.Add(d)
		}
	case date:
		v.End = start.AddDate(0, 0, 1)
	}
	if v.End.Before(v.Start) {
		v.End = v.Start
	}
	if rp := c.Props.Get(ical.PropRecurrenceID); rp != nil {
		if t, _, _, err := z.propTime(rp, rp.Value); err == nil {
			v.recurrenceID = t
		}
	}
	if rp := c.Props.Get(ical.PropRecurrenceRule); rp != nil && v.recurrenceID.IsZero() {
		opt, err := rrule.StrToROption(rp.Value)
		if err != nil {
			return v, fmt.Errorf("RRULE: %w", err)
		}
		v.rule = opt
		v.Recurring = true
	}
	v.exdates = z.propTimes(c.Props.Values(ical.PropExceptionDates))
	if v.recurrenceID.IsZero() {
		v.rdates = z.propTimes(c.Props.Values(ical.PropRecurrenceDates))
		v.Recurring = v.Recurring || len(v.rdates) > 0
	}
	return v, nil
}

// maxOccurrences caps the occurrences one recurring event contributes to a
// listing.
const maxOccurrences = 1000

// eventsBetween expands recurrences and returns every occurrence that
// overlaps [from, to), sorted by start. Overrides (RECURRENCE-ID) replace
// the occurrence they name; cancelled events and occurrences are left out.
func (p parsedCalendar) eventsBetween(from, to time.Time) []Event {
	overridden := map[string]map[int64]bool{}
	for _, v := range p.events {
		if !v.recurrenceID.IsZero() {
			if overridden[v.UID] == nil {
				overridden[v.UID] = map[int64]bool{}
			}
			overridden[v.UID][v.recurrenceID.Unix()] = true
		}
	}
	var out []Event
	for _, v := range p.events {
		if v.cancelled {
			continue
		}
		if !v.Recurring {
			if v.overlaps(from, to) {
				out = append(out, v.Event)
			}
			continue
		}
		dur := v.End.Sub(v.Start)
		for _, s := range v.starts(from.Add(-dur), to) {
			if overridden[v.UID][s.Unix()] {
				continue
			}
			e := v.Event
			e.Start, e.End = s, s.Add(dur)
			if e.overlaps(from, to) {
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		if a.Title != b.Title {
			return a.Title < b.Title
		}
		return a.UID < b.UID
	})
	return out
}

// byUID returns the master (or only) VEVENT with uid.
func (p parsedCalendar) byUID(uid string) (vevent, bool) {
	for _, v := range p.events {
		if v.UID == uid && v.recurrenceID.IsZero() {
			return v, true
		}
	}
	return vevent{}, false
}
