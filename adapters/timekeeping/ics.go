package timekeeping

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-ical"
)

// Limits on iCalendar input, which may come from any server or file.
const (
	maxICSBytes  = 32 << 20 // a calendar file or object
	maxICSDepth  = 16       // nesting of BEGIN/END components
	maxICSEvents = 100_000  // VEVENTs considered in one calendar
)

const prodID = "-//Noema//Noema time adapter//EN"

// decodeICS parses iCalendar data holding one or more VCALENDAR objects.
// The decoder recurses once per nested component, so nesting is checked
// first: a hostile file must not exhaust the stack.
func decodeICS(data []byte) (cals []*ical.Calendar, err error) {
	if len(data) > maxICSBytes {
		return nil, fmt.Errorf("iCalendar data is %d bytes, over the %d-byte limit", len(data), maxICSBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := checkNesting(data); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			cals, err = nil, fmt.Errorf("malformed iCalendar data: %v", r)
		}
	}()
	dec := ical.NewDecoder(bytes.NewReader(data))
	for {
		cal, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			if len(cals) == 0 && len(bytes.TrimSpace(data)) > 0 {
				return nil, errors.New("malformed iCalendar data: incomplete VCALENDAR")
			}
			return cals, nil
		}
		if err != nil {
			return nil, fmt.Errorf("malformed iCalendar data: %w", err)
		}
		cals = append(cals, cal)
	}
}

// checkNesting bounds how deeply BEGIN lines nest, reading unfolded
// content lines the way the decoder will.
func checkNesting(data []byte) error {
	depth := 0
	var logical []byte
	flush := func() error {
		name := logical
		if i := bytes.IndexAny(name, ":;"); i >= 0 {
			name = name[:i]
		}
		switch {
		case bytes.EqualFold(name, []byte("BEGIN")):
			depth++
			if depth > maxICSDepth {
				return fmt.Errorf("malformed iCalendar data: components nested more than %d deep", maxICSDepth)
			}
		case bytes.EqualFold(name, []byte("END")):
			depth--
		}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxICSBytes+1)
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			logical = append(logical, line[1:]...)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		logical = append(logical[:0], line...)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("malformed iCalendar data: %w", err)
	}
	return flush()
}

// encodeICS writes calendars as iCalendar data. A calendar left without
// components (its last event deleted) is written as an empty VCALENDAR,
// which the encoder refuses but readers accept, so the file stays a valid
// subscription target.
func encodeICS(cals []*ical.Calendar) ([]byte, error) {
	var buf bytes.Buffer
	for _, cal := range cals {
		if len(cal.Children) == 0 {
			fmt.Fprintf(&buf, "BEGIN:VCALENDAR\r\nPRODID:%s\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", prodIDOf(cal))
			continue
		}
		if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
			return nil, fmt.Errorf("encode iCalendar: %w", err)
		}
	}
	return buf.Bytes(), nil
}

func prodIDOf(cal *ical.Calendar) string {
	if p := cal.Props.Get(ical.PropProductID); p != nil && !strings.ContainsAny(p.Value, "\r\n") {
		return p.Value
	}
	return prodID
}

// newCalendar returns an empty VCALENDAR with the required properties.
func newCalendar() *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, prodID)
	cal.Props.SetText(ical.PropVersion, "2.0")
	return cal
}

// newEvent builds the VEVENT for calendar.event.create. Times are stored
// in UTC: exact, and readable by every client without a VTIMEZONE.
func newEvent(uid, title string, start, end, now time.Time) *ical.Component {
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, uid)
	ev.Props.SetDateTime(ical.PropDateTimeStamp, now.UTC().Truncate(time.Second))
	ev.Props.SetDateTime(ical.PropCreated, now.UTC().Truncate(time.Second))
	ev.Props.SetDateTime(ical.PropDateTimeStart, start.UTC())
	ev.Props.SetDateTime(ical.PropDateTimeEnd, end.UTC())
	ev.Props.SetText(ical.PropSummary, title)
	return ev.Component
}

// cleanTitle makes a title safe for a one-line iCalendar text value:
// control characters (line breaks included) become spaces, runs of
// spaces collapse.
func cleanTitle(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// uidOf returns a component's UID, or "".
func uidOf(c *ical.Component) string {
	if p := c.Props.Get(ical.PropUID); p != nil {
		return textValue(p)
	}
	return ""
}

// textValue unescapes a TEXT value, falling back to the raw value when
// the escaping is broken (as some producers write it).
func textValue(p *ical.Prop) string {
	if p == nil {
		return ""
	}
	t, err := p.Text()
	if err != nil {
		return p.Value
	}
	return t
}
