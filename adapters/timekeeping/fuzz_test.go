package timekeeping

import (
	"testing"
	"time"
)

// FuzzICS feeds arbitrary bytes through everything that reads calendar
// data from a file or server: decoding, event parsing, recurrence
// expansion, lookup by UID, and re-encoding for a write back.
func FuzzICS(f *testing.F) {
	f.Add(ics("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x",
		"BEGIN:VEVENT", "UID:a", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260504T090000",
		"DTEND;TZID=Europe/Berlin:20260504T100000", "RRULE:FREQ=DAILY;COUNT=5", "EXDATE:20260505T070000Z", "SUMMARY:a\\, b", "END:VEVENT",
		"END:VCALENDAR"))
	f.Add(ics("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:b", "DTSTART;VALUE=DATE:20260504", "RRULE:FREQ=MONTHLY;BYDAY=-1FR", "RDATE;VALUE=PERIOD:20260510T100000Z/PT1H", "END:VEVENT", "END:VCALENDAR"))
	f.Add(ics("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:c", "DTSTART:20260504T090000", "RRULE:FREQ=HOURLY;INTERVAL=24;BYHOUR=5", "END:VEVENT", "END:VCALENDAR"))
	f.Add(ics("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:d", "RECURRENCE-ID:20260504T090000Z", "DTSTART:20260504T100000Z", "DURATION:-P1W", "END:VEVENT", "END:VCALENDAR"))
	f.Add([]byte("BEGIN:VCALENDAR\r\n LINE\r\nX;A=\"b:c\";D=e,f:g\r\nEND:VCALENDAR\r\n"))
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		cals, err := decodeICS(data)
		if err != nil {
			return
		}
		p := parseEvents(cals, time.UTC)
		evs := p.eventsBetween(from, to)
		for _, e := range evs {
			if !e.overlaps(from, to) {
				t.Fatalf("listed %+v outside the range", e)
			}
		}
		for _, v := range p.events {
			p.byUID(v.UID)
		}
		// Writing back must either fail cleanly or produce data that
		// reads again.
		if out, err := encodeICS(cals); err == nil {
			if _, err := decodeICS(out); err != nil {
				t.Fatalf("re-encoded calendar does not decode: %v\n%q", err, out)
			}
		}
	})
}

// FuzzMultistatus feeds arbitrary bytes to the CalDAV REPORT reader.
func FuzzMultistatus(f *testing.F) {
	f.Add([]byte(`<multistatus xmlns="DAV:"><response><href>/x</href><propstat><prop><calendar-data xmlns="urn:ietf:params:xml:ns:caldav">BEGIN:VCALENDAR</calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`))
	f.Add([]byte(`<multistatus xmlns="DAV:"><response><propstat><status>bogus</status></propstat></response></multistatus>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := parseMultistatus(data)
		if err != nil {
			return
		}
		for _, o := range objs {
			if o.data == "" {
				t.Fatalf("empty object returned: %+v", o)
			}
		}
	})
}
