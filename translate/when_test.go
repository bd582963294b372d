package translate

import (
	"strings"
	"testing"
	"time"
)

// TestPeriods checks named periods read as whole ranges.
func TestPeriods(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC) // a Wednesday
	cases := []struct{ in, from, to string }{
		{"this week", "2026-11-25", "2026-11-30"},
		{"next week", "2026-11-30", "2026-12-07"},
		{"for the weekend", "2026-11-28", "2026-11-30"},
		{"over the weekend", "2026-11-28", "2026-11-30"},
		{"this month", "2026-11-25", "2026-12-01"},
		{"next month", "2026-12-01", "2027-01-01"},
	}
	for _, c := range cases {
		from, to, n, ok := parsePeriod(strings.Fields(c.in), now)
		if !ok || n != len(strings.Fields(c.in)) || from.Format("2006-01-02") != c.from || to.Format("2006-01-02") != c.to {
			t.Errorf("%q: %v to %v (%d words, ok=%v), want %s to %s", c.in, from, to, n, ok, c.from, c.to)
		}
	}
	sat := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if from, to, _, _ := parsePeriod([]string{"the", "weekend"}, sat); from.Day() != 28 || to.Day() != 30 {
		t.Errorf("on a Saturday, the weekend is %v to %v", from, to)
	}
	if _, _, _, ok := parsePeriod([]string{"the", "weekday"}, now); ok {
		t.Error("read a period that is not one")
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // a Monday
	cases := []struct {
		in   string
		want string
		n    int
	}{
		{"tomorrow at 3 pm", "2026-11-24T15:00:00Z", 4},
		{"tomorrow at 9", "2026-11-24T09:00:00Z", 3},
		{"on wednesday at 11am", "2026-11-25T11:00:00Z", 4},
		{"in one hour", "2026-11-23T10:00:00Z", 3},
		{"in 20 minutes", "2026-11-23T09:20:00Z", 3},
		{"in an hour and a half", "2026-11-23T10:30:00Z", 6},
		{"next monday at noon", "2026-11-30T12:00:00Z", 4},
		{"at 17:30", "2026-11-23T17:30:00Z", 2},
		{"at 5", "2026-11-23T17:00:00Z", 2},
		{"tonight", "2026-11-23T20:00:00Z", 1},
		{"december 12th at 10", "2026-12-12T10:00:00Z", 4},
		{"12th of december", "2026-12-12T09:00:00Z", 3},
		{"friday morning", "2026-11-27T09:00:00Z", 2},
		{"at half past 3", "2026-11-23T15:30:00Z", 4},
		{"at 7 in the evening", "2026-11-23T19:00:00Z", 5},
		{"2027-01-05 at 08:15", "2027-01-05T08:15:00Z", 3},
		{"tomorrow morning", "2026-11-24T09:00:00Z", 2},
		{"tomorrow at nine", "2026-11-24T09:00:00Z", 3},
		{"at nine thirty pm", "2026-11-23T21:30:00Z", 4},
		{"at five", "2026-11-23T17:00:00Z", 2},
		{"march 4th 2027", "2027-03-04T09:00:00Z", 3},
		{"march 4th , 2027 at 8am", "2027-03-04T08:00:00Z", 6},
		{"4 march 2025", "2025-03-04T09:00:00Z", 3},
		{"thursday the 14th", "2027-01-14T09:00:00Z", 3},
		{"monday the 14th", "2026-12-14T09:00:00Z", 3},
		{"on the 30th at noon", "2026-11-30T12:00:00Z", 5},
		{"the 31st", "2026-12-31T09:00:00Z", 2},
		{"24/12/2026", "2026-12-24T09:00:00Z", 1},
		{"12/24", "2026-12-24T09:00:00Z", 1},
		{"12/24/27", "2027-12-24T09:00:00Z", 1},
		// A clock time after a part of the day is in that part.
		{"this evening at 8", "2026-11-23T20:00:00Z", 4},
		{"tomorrow morning at 10", "2026-11-24T10:00:00Z", 4},
		{"tonight at 9", "2026-11-23T21:00:00Z", 3},
		// A part of the day is as said, never shifted by twelve hours.
		{"this afternoon", "2026-11-23T15:00:00Z", 2},
		// A bare number with a part of the day after it is an hour.
		{"6 in the morning", "2026-11-24T06:00:00Z", 4},
		{"at quarter past seven", "2026-11-23T19:15:00Z", 4},
	}
	for _, c := range cases {
		got, n, ok := parseWhen(strings.Fields(c.in), now)
		if !ok || got.Format(time.RFC3339) != c.want || n != c.n {
			t.Errorf("%q: got %v (%d words, ok=%v), want %s (%d)", c.in, got.Format(time.RFC3339), n, ok, c.want, c.n)
		}
	}
	for _, bad := range []string{"hello", "the plants", "now", "03/04/2026", "13/13", "31/02", "the first"} {
		if _, _, ok := parseWhen(strings.Fields(bad), now); ok {
			t.Errorf("%q parsed as a time", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]time.Duration{
		"5 minutes":              5 * time.Minute,
		"30 seconds":             30 * time.Second,
		"an hour and a half":     90 * time.Minute,
		"half an hour":           30 * time.Minute,
		"1h30m":                  90 * time.Minute,
		"2 hrs 15 min":           135 * time.Minute,
		"a quarter of an hour":   15 * time.Minute,
		"ninety seconds":         90 * time.Second,
		"1 hour and 20 minutes":  80 * time.Minute,
		"two and a half hours":   150 * time.Minute,
		"2 and a half minutes":   150 * time.Second,
		"an hour and 15 minutes": 75 * time.Minute,
	}
	for in, want := range cases {
		got, _, ok := parseDuration(strings.Fields(in))
		if want == 0 {
			continue
		}
		if !ok || got != want {
			t.Errorf("%q: %v (%v), want %v", in, got, ok, want)
		}
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // a Monday
	cases := []struct {
		in, from, to string
		n            int
	}{
		{"between 2 and 4", "2026-11-23T14:00:00Z", "2026-11-23T16:00:00Z", 4},
		{"between 11 and 1", "2026-11-23T11:00:00Z", "2026-11-23T13:00:00Z", 4},
		{"between 2 and 4pm", "2026-11-23T14:00:00Z", "2026-11-23T16:00:00Z", 4},
		{"tomorrow between 9:30 and 10:15", "2026-11-24T09:30:00Z", "2026-11-24T10:15:00Z", 5},
		{"from 9 to 5 on friday", "2026-11-27T09:00:00Z", "2026-11-27T17:00:00Z", 6},
		{"from 22:00 until 02:00", "2026-11-23T22:00:00Z", "2026-11-24T02:00:00Z", 4},
	}
	for _, c := range cases {
		from, to, n, ok := parseRange(strings.Fields(c.in), now)
		if !ok || from.Format(time.RFC3339) != c.from || to.Format(time.RFC3339) != c.to || n != c.n {
			t.Errorf("%q: [%s, %s) %d words ok=%v, want [%s, %s) %d", c.in, from.Format(time.RFC3339), to.Format(time.RFC3339), n, ok, c.from, c.to, c.n)
		}
	}
	for _, bad := range []string{"between", "tomorrow from", "between us", "from 9", "between 2 and", "from bob to alice"} {
		if _, _, _, ok := parseRange(strings.Fields(bad), now); ok {
			t.Errorf("%q read as a range", bad)
		}
	}
}
