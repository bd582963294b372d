package timekeeping

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s is not installed (Debian package tzdata): %v", name, err)
	}
	return loc
}

func ics(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func parse(t *testing.T, data []byte, loc *time.Location) parsedCalendar {
	t.Helper()
	cals, err := decodeICS(data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return parseEvents(cals, loc)
}

func TestNewEventRoundTrip(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	start := time.Date(2026, 5, 4, 14, 0, 0, 0, berlin)
	cal := newCalendar()
	cal.Children = append(cal.Children, newEvent("noema-1", cleanTitle("Design\r\nreview;, with \\ team"), start, start.Add(90*time.Minute), start))
	data, err := encodeICS([]*ical.Calendar{cal})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "DTSTART:20260504T120000Z") {
		t.Fatalf("start not stored in UTC:\n%s", data)
	}
	p := parse(t, data, time.UTC)
	ev, ok := p.byUID("noema-1")
	if !ok {
		t.Fatalf("event not found in %+v", p)
	}
	if ev.Title != "Design review;, with \\ team" || !ev.Start.Equal(start) || ev.End.Sub(ev.Start) != 90*time.Minute {
		t.Fatalf("read back %+v", ev.Event)
	}
}

func TestTimeZones(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	ny := mustLoad(t, "America/New_York")
	data := ics(
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:test",
		"BEGIN:VEVENT", "UID:tzid", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260504T140000", "DURATION:PT30M", "SUMMARY:tzid", "END:VEVENT",
		"BEGIN:VEVENT", "UID:vendor", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20260504T090000", "SUMMARY:vendor", "END:VEVENT",
		"BEGIN:VEVENT", "UID:windows", "DTSTAMP:20260101T000000Z", `DTSTART;TZID="W. Europe Standard Time":20260504T100000`, "SUMMARY:windows", "END:VEVENT",
		"BEGIN:VEVENT", "UID:unknown", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Mars/Olympus:20260504T100000", "SUMMARY:unknown", "END:VEVENT",
		"BEGIN:VEVENT", "UID:floating", "DTSTAMP:20260101T000000Z", "DTSTART:20260504T100000", "SUMMARY:floating", "END:VEVENT",
		"BEGIN:VEVENT", "UID:allday", "DTSTAMP:20260101T000000Z", "DTSTART;VALUE=DATE:20260504", "SUMMARY:allday", "END:VEVENT",
		"END:VCALENDAR",
	)
	p := parse(t, data, ny)
	want := map[string]time.Time{
		"tzid":     time.Date(2026, 5, 4, 14, 0, 0, 0, berlin),
		"vendor":   time.Date(2026, 5, 4, 9, 0, 0, 0, ny),
		"windows":  time.Date(2026, 5, 4, 10, 0, 0, 0, berlin),
		"unknown":  time.Date(2026, 5, 4, 10, 0, 0, 0, ny),
		"floating": time.Date(2026, 5, 4, 10, 0, 0, 0, ny),
		"allday":   time.Date(2026, 5, 4, 0, 0, 0, 0, ny),
	}
	for uid, start := range want {
		ev, ok := p.byUID(uid)
		if !ok {
			t.Errorf("%s: not parsed (skipped: %v)", uid, p.skipped)
			continue
		}
		if !ev.Start.Equal(start) {
			t.Errorf("%s: start %s, want %s", uid, ev.Start, start)
		}
		if ev.ZoneGuessed != (uid == "unknown") {
			t.Errorf("%s: zone guessed = %v", uid, ev.ZoneGuessed)
		}
	}
	if ev, _ := p.byUID("allday"); !ev.AllDay || ev.End.Sub(ev.Start) != 24*time.Hour {
		t.Errorf("all-day event: %+v", ev.Event)
	}
	if ev, _ := p.byUID("tzid"); ev.End.Sub(ev.Start) != 30*time.Minute {
		t.Errorf("DURATION not applied: %+v", ev.Event)
	}
}

func TestEventsBetweenOverlap(t *testing.T) {
	data := ics(
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:test",
		"BEGIN:VEVENT", "UID:a", "DTSTAMP:20260101T000000Z", "DTSTART:20260504T090000Z", "DTEND:20260504T110000Z", "SUMMARY:a", "END:VEVENT",
		"BEGIN:VEVENT", "UID:b", "DTSTAMP:20260101T000000Z", "DTSTART:20260504T110000Z", "DTEND:20260504T120000Z", "SUMMARY:b", "END:VEVENT",
		"BEGIN:VEVENT", "UID:c", "DTSTAMP:20260101T000000Z", "DTSTART:20260504T100000Z", "SUMMARY:instant", "END:VEVENT",
		"BEGIN:VEVENT", "UID:d", "DTSTAMP:20260101T000000Z", "DTSTART:20260504T100000Z", "DTEND:20260504T103000Z", "STATUS:CANCELLED", "SUMMARY:d", "END:VEVENT",
		"END:VCALENDAR",
	)
	p := parse(t, data, time.UTC)
	from := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	to := time.Date(2026, 5, 4, 11, 0, 0, 0, time.UTC)
	var got []string
	for _, e := range p.eventsBetween(from, to) {
		got = append(got, e.UID)
	}
	// a overlaps; b starts exactly at the end (excluded); c is an instant
	// at the start (included); d is cancelled.
	if strings.Join(got, ",") != "a,c" {
		t.Fatalf("events in [10:00, 11:00) = %v, want a,c", got)
	}
}

func TestRecurrence(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	data := ics(
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:test",
		"BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20260101T000000Z",
		"DTSTART;TZID=Europe/Berlin:20260302T093000", "DTEND;TZID=Europe/Berlin:20260302T100000",
		"RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=Europe/Berlin:20260316T093000,20260323T093000",
		"SUMMARY:standup", "END:VEVENT",
		"BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20260101T000000Z", "RECURRENCE-ID;TZID=Europe/Berlin:20260330T093000",
		"DTSTART;TZID=Europe/Berlin:20260331T110000", "DTEND;TZID=Europe/Berlin:20260331T113000", "SUMMARY:standup (moved)", "END:VEVENT",
		"END:VCALENDAR",
	)
	p := parse(t, data, berlin)
	evs := p.eventsBetween(time.Date(2026, 3, 1, 0, 0, 0, 0, berlin), time.Date(2026, 4, 14, 0, 0, 0, 0, berlin))
	var got []string
	for _, e := range evs {
		got = append(got, e.Start.In(berlin).Format("01-02 15:04")+" "+e.Title)
	}
	want := []string{
		"03-02 09:30 standup", "03-09 09:30 standup",
		// 03-16 and 03-23 excluded; 03-30 moved to 03-31 (across the DST change on 03-29).
		"03-31 11:00 standup (moved)", "04-06 09:30 standup", "04-13 09:30 standup",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("occurrences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHostileRecurrence checks that rules the recurrence library would
// loop on, or that are dense over a long span, are answered quickly.
func TestHostileRecurrence(t *testing.T) {
	for _, rule := range []string{
		"FREQ=HOURLY;INTERVAL=24;BYHOUR=5",
		"FREQ=MINUTELY;INTERVAL=60;BYMINUTE=7",
		"FREQ=SECONDLY;INTERVAL=2;BYSECOND=1",
		"FREQ=SECONDLY",
		"FREQ=MINUTELY;INTERVAL=7",
		"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=SECONDLY;COUNT=100000000",
	} {
		data := ics("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:test",
			"BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z", "DTSTART:19000101T030000Z", "RRULE:"+rule, "SUMMARY:x", "END:VEVENT",
			"END:VCALENDAR")
		start := time.Now()
		p := parse(t, data, time.UTC)
		evs := p.eventsBetween(time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC))
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %s", rule, d)
		}
		if len(evs) > maxOccurrences {
			t.Errorf("%s: %d occurrences, over the cap", rule, len(evs))
		}
		t.Logf("%s: %d occurrences in %s", rule, len(evs), time.Since(start))
	}
}

func TestDenseRuleShiftKeepsOccurrences(t *testing.T) {
	// A daily rule begun in 1900 still lands on its own wall-clock time.
	data := ics("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:test",
		"BEGIN:VEVENT", "UID:x", "DTSTAMP:20260101T000000Z", "DTSTART:19000101T073000Z", "RRULE:FREQ=HOURLY;INTERVAL=6", "SUMMARY:x", "END:VEVENT",
		"END:VCALENDAR")
	p := parse(t, data, time.UTC)
	evs := p.eventsBetween(time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC))
	var got []string
	for _, e := range evs {
		got = append(got, e.Start.Format("15:04"))
	}
	if strings.Join(got, ",") != "01:30,07:30,13:30,19:30" {
		t.Fatalf("occurrences %v", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	deep := strings.Repeat("BEGIN:X\r\n", 100000)
	folded := "BEGIN:VCALENDAR\r\n" + strings.Repeat("BEG\r\n IN:X\r\n", maxICSDepth+2)
	for name, data := range map[string]string{
		"deep":      deep,
		"folded":    folded,
		"truncated": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
		"garbage":   "hello",
		"toplevel":  "BEGIN:VEVENT\r\nEND:VEVENT\r\n",
	} {
		if _, err := decodeICS([]byte(data)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if cals, err := decodeICS(nil); err != nil || len(cals) != 0 {
		t.Errorf("empty input: %v %v", cals, err)
	}
}

func TestEmptyCalendarStaysReadable(t *testing.T) {
	data, err := encodeICS([]*ical.Calendar{newCalendar()})
	if err != nil {
		t.Fatal(err)
	}
	cals, err := decodeICS(data)
	if err != nil || len(cals) != 1 || len(cals[0].Children) != 0 {
		t.Fatalf("empty calendar read back as %v, %v", cals, err)
	}
}

func TestParseMultistatus(t *testing.T) {
	body := `<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <response><href>/a/cal/1.ics</href><propstat><prop><getetag>"x"</getetag><C:calendar-data>BEGIN:VCALENDAR
END:VCALENDAR
</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>
 <response><href>/a/cal/2.ics</href><propstat><prop><C:calendar-data/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
</multistatus>`
	objs, err := parseMultistatus([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].href != "/a/cal/1.ics" || !strings.HasPrefix(objs[0].data, "BEGIN:VCALENDAR") {
		t.Fatalf("objects %+v", objs)
	}
	if _, err := parseMultistatus([]byte("<multistatus")); err == nil {
		t.Fatal("truncated XML parsed")
	}
}
