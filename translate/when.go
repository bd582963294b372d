package translate

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

var durationUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

var compactDuration = regexp.MustCompile(`^(\d+(?:\.\d+)?(?:h|m|s|hr|hrs|min|mins|sec|secs))+$`)

// parseDuration reads a duration at the start of words: "5 minutes",
// "an hour and a half", "half an hour", "1h30m", "2 hrs 15 min",
// "a quarter of an hour". It returns the duration and words used.
func parseDuration(words []string) (time.Duration, int, bool) {
	var total time.Duration
	i := 0
	any := false
	for i < len(words) {
		w := words[i]
		if compactDuration.MatchString(w) {
			d, err := time.ParseDuration(strings.NewReplacer("hrs", "h", "hr", "h", "mins", "m", "min", "m", "secs", "s", "sec", "s").Replace(w))
			if err != nil {
				break
			}
			total += d
			i++
			any = true
			continue
		}
		// "half an hour", "a quarter of an hour"
		j := i
		if words[j] == "a" && j+1 < len(words) && (words[j+1] == "half" || words[j+1] == "quarter") {
			j++
		}
		if (words[j] == "half" || words[j] == "quarter") && j+2 < len(words) {
			k := j + 1
			if words[k] == "of" {
				k++
			}
			if k+1 < len(words) && (words[k] == "an" || words[k] == "a") {
				if u, ok := durationUnits[words[k+1]]; ok {
					f := 0.5
					if words[j] == "quarter" {
						f = 0.25
					}
					total += time.Duration(f * float64(u))
					i = k + 2
					any = true
					continue
				}
			}
		}
		// "an hour", "a minute"
		if (w == "a" || w == "an") && i+1 < len(words) {
			if u, ok := durationUnits[words[i+1]]; ok && len(words[i+1]) > 1 {
				total += u
				i += 2
				any = true
				if andAHalf(words, i) {
					total += u / 2
					i += 3
				}
				// "an hour and 15 minutes"
				if i < len(words) && words[i] == "and" && i+1 < len(words) {
					if _, n2, ok := parseDuration(words[i+1:]); ok && n2 > 0 {
						i++
					}
				}
				continue
			}
		}
		v, n, pct, ok := parseNumber(words[i:])
		if !ok || pct || i+n >= len(words) {
			break
		}
		if andAHalf(words, i+n) && i+n+3 < len(words) {
			// "one and a half hours", "2 and a half minutes"
			if u, ok := durationUnits[words[i+n+3]]; ok {
				total += time.Duration((v + 0.5) * float64(u))
				i += n + 4
				any = true
				continue
			}
		}
		u, ok := durationUnits[words[i+n]]
		if !ok {
			break
		}
		total += time.Duration(v * float64(u))
		i += n + 1
		any = true
		if andAHalf(words, i) {
			total += u / 2
			i += 3
		}
		if i < len(words) && words[i] == "and" && i+1 < len(words) {
			if _, n2, ok := parseDuration(words[i+1:]); ok && n2 > 0 {
				i++
			}
		}
	}
	if !any || total <= 0 {
		return 0, 0, false
	}
	return total, i, true
}

// andAHalf reports "and a half" at words[i:].
func andAHalf(words []string, i int) bool {
	return i+2 < len(words) && words[i] == "and" && words[i+1] == "a" && words[i+2] == "half"
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "tues": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
	"june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

var partsOfDay = map[string]int{"morning": 9, "noon": 12, "midday": 12, "afternoon": 15, "evening": 19, "tonight": 20, "night": 21, "midnight": 0}

var clockPattern = regexp.MustCompile(`^(\d{1,2})(?:[:.](\d{2}))?(am|pm|a\.m\.|p\.m\.|h)?$`)

// when is a partly specified instant being assembled from words.
type when struct {
	day      *time.Time // date chosen
	hour     int
	minute   int
	hasTime  bool
	explicit bool // am/pm or 24h clock given
	offset   time.Duration
	relative bool
	atCue    bool // the words just before said "at" or "by"
	// morning reads a bare hour as the morning: one is woken at 6:30,
	// not at half past six in the evening.
	morning bool
	// fromPart marks an hour that came from a part of the day ("this
	// evening"); a clock time said after it replaces it, in that half of
	// the day ("this evening at 8" is 20:00).
	fromPart bool
}

// whenOpts says how to read a time.
type whenOpts struct {
	morning bool // see when.morning
	// slot: the words are known to be a time (a template put a time
	// there), so a bare number is an hour as after "at".
	slot bool
}

// parseWhen reads a date/time expression at the start of words (with its
// leading "on", "at", "in", "by"…). It returns the instant, words used
// and whether there was one.
func parseWhen(words []string, now time.Time) (time.Time, int, bool) {
	t, n, _, ok := parseWhenDay(words, now)
	return t, n, ok
}

// parseWhenDay is parseWhen that also reports a day named without a time
// of day ("on friday"), which a range reads as the whole day rather than
// as nine in the morning.
func parseWhenDay(words []string, now time.Time) (t time.Time, n int, wholeDay, ok bool) {
	return parseWhenOpts(words, now, whenOpts{})
}

// parseWhenOpts is parseWhenDay, read as opts say.
func parseWhenOpts(words []string, now time.Time, opts whenOpts) (t time.Time, n int, wholeDay, ok bool) {
	w := when{morning: opts.morning}
	i := 0
	progress := true
	used := 0
	for progress && i < len(words) {
		progress = false
		j := i
		w.atCue = opts.slot && i == 0
		for j < len(words) && (words[j] == "on" || words[j] == "at" || words[j] == "by" || words[j] == "the" || words[j] == "this" || words[j] == "for" || words[j] == "of" || words[j] == "from") {
			if words[j] == "at" || words[j] == "by" {
				w.atCue = true
			}
			j++
		}
		if j >= len(words) {
			break
		}
		if n := w.component(words[j:], now); n > 0 {
			i = j + n
			used = i
			progress = true
		}
	}
	if used == 0 {
		return time.Time{}, 0, false, false
	}
	return w.resolve(now), used, w.day != nil && !w.hasTime && !w.relative, true
}

// component parses one piece (a day, a time, an offset) and returns words
// used, or 0.
func (w *when) component(words []string, now time.Time) int {
	x := words[0]
	day := func(t time.Time) {
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, now.Location())
		w.day = &d
	}
	// Relative offsets: "in 20 minutes", "in an hour and a half".
	if x == "in" && len(words) > 1 && !w.relative && w.day == nil {
		if d, n, ok := parseDuration(words[1:]); ok {
			w.offset, w.relative = d, true
			return n + 1
		}
	}
	if d, n, ok := parseDuration(words); ok && len(words) > n && (words[n] == "from" && len(words) > n+1 && words[n+1] == "now" || words[n] == "later") {
		w.offset, w.relative = d, true
		if words[n] == "from" {
			return n + 2
		}
		return n + 1
	}
	if w.relative {
		return 0
	}
	switch x {
	case "today":
		day(now)
		return 1
	case "tonight":
		day(now)
		w.setPart(20)
		return 1
	case "tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "tommorrow":
		day(now.AddDate(0, 0, 1))
		if len(words) > 1 {
			if h, ok := partsOfDay[words[1]]; ok {
				w.setPart(h)
				return 2
			}
		}
		return 1
	case "day":
		if len(words) > 2 && words[1] == "after" && (words[2] == "tomorrow") {
			day(now.AddDate(0, 0, 2))
			return 3
		}
	case "next", "coming":
		if len(words) > 1 {
			if wd, ok := weekdays[words[1]]; ok {
				d := nextWeekday(now, wd)
				if d.Sub(now) < 24*time.Hour*2 && x == "next" && wd != now.Weekday() {
					// "next friday" said on thursday means the one a week on
					// only in some dialects; take the nearest.
				}
				day(d)
				return 2
			}
			if words[1] == "week" {
				day(nextWeekday(now, time.Monday))
				return 2
			}
		}
	}
	if h, ok := partsOfDay[x]; ok {
		w.setPart(h)
		if x == "noon" || x == "midday" || x == "midnight" {
			w.explicit = true
		}
		return 1
	}
	if x == "in" && len(words) > 2 && words[1] == "the" {
		if h, ok := partsOfDay[words[2]]; ok {
			w.setPart(h)
			return 3
		}
	}
	if wd, ok := weekdays[x]; ok {
		day(nextWeekday(now, wd))
		// "thursday the 14th": the next 14th that is a Thursday.
		if len(words) > 2 && words[1] == "the" {
			if d, ok := parseOrdinalDigits(words[2]); ok && d >= 1 && d <= 31 {
				day(nextDayOfMonthOn(now, d, wd))
				return 3
			}
		}
		if len(words) > 1 {
			if h, ok := partsOfDay[words[1]]; ok {
				w.setPart(h)
				return 2
			}
		}
		return 1
	}
	// ISO date 2026-12-24
	if t, err := time.ParseInLocation("2006-01-02", x, now.Location()); err == nil {
		day(t)
		return 1
	}
	// "12/24", "24/12/2026": only an order the numbers themselves settle.
	if t, ok := numericDate(x, now); ok {
		day(t)
		return 1
	}
	// "december 12", "dec 12th", "march 4th 2027"
	if m, ok := months[x]; ok && len(words) > 1 {
		if d, ok := dayOfMonth(words[1]); ok {
			t, n := dateWithYear(now, m, d, words[2:])
			day(t)
			return 2 + n
		}
	}
	// "12 december", "12th of december 2027"
	if d, ok := dayOfMonth(x); ok && len(words) > 1 {
		k := 1
		if words[k] == "of" && len(words) > 2 {
			k = 2
		}
		if m, ok := months[words[k]]; ok {
			t, n := dateWithYear(now, m, d, words[k+1:])
			day(t)
			return k + 1 + n
		}
	}
	// "the 14th" (the caller skipped "the"): the next 14th. Digits with a
	// suffix only; "the first" is too often not a date.
	if d, ok := parseOrdinalDigits(x); ok && d >= 1 && d <= 31 {
		day(nextDayOfMonth(now, d))
		return 1
	}
	// Clock times: "3pm", "3 pm", "15:30", "9:30am", "9"
	if !w.hasTime || w.fromPart {
		part, fromPart := w.hour, w.fromPart
		if n := w.clock(words); n > 0 {
			if fromPart {
				// "this evening at 8": the clock in the part's half of the
				// day.
				w.fromPart = false
				if !w.explicit && part >= 12 && w.hour < 12 {
					w.hour += 12
				}
				w.explicit = true
			}
			return n
		}
		w.hour = part
	}
	return 0
}

func (w *when) setPart(h int) {
	if !w.hasTime {
		w.hour, w.minute, w.hasTime, w.fromPart = h, 0, true, true
	} else if !w.explicit {
		// "at 7 in the evening", "at 6 in the morning": the part says
		// which half of the day.
		if h >= 12 && w.hour < 12 {
			w.hour += 12
		}
		w.explicit = true
	}
}

func (w *when) clock(words []string) int {
	x := words[0]
	// "half past 3", "quarter to 5"
	if (x == "half" || x == "quarter") && len(words) > 2 && (words[1] == "past" || words[1] == "to") {
		if v, n, pct, ok := parseNumber(words[2:3]); ok && n == 1 && !pct && v >= 1 && v <= 12 && v == float64(int(v)) {
			h := int(v)
			m := 30
			if x == "quarter" {
				m = 15
			}
			if words[1] == "to" {
				h, m = h-1, 60-m
			}
			w.hour, w.minute, w.hasTime = h, m, true
			return 3 + w.meridiem(words[3:])
		}
	}
	m := clockPattern.FindStringSubmatch(x)
	if m == nil {
		// Spelled out: "at nine", "at five pm", "at nine thirty".
		if v, n, pct, ok := parseNumber(words[:1]); ok && !pct && v >= 1 && v <= 12 && v == float64(int(v)) && n == 1 && words[0] != "a" && words[0] != "an" {
			meridiem := len(words) > 1 && (isMeridiem(words[1]) || words[1] == "o'clock")
			if !meridiem && !w.atCue && !partFollows(words[1:]) {
				return 0
			}
			w.hour, w.minute, w.hasTime = int(v), 0, true
			used := 1
			if len(words) > 1 && !meridiem {
				if mins, k, pct, ok := parseNumber(words[1:]); ok && !pct && mins >= 1 && mins <= 59 && mins == float64(int(mins)) && words[1] != "a" {
					w.minute = int(mins)
					used += k
				}
			}
			return used + w.meridiem(words[used:])
		}
		return 0
	}
	h, _ := strconv.Atoi(m[1])
	min := 0
	if m[2] != "" {
		min, _ = strconv.Atoi(m[2])
	}
	if h > 23 || min > 59 {
		return 0
	}
	suffix := m[3]
	// A bare number is a time only after "at" or next to other time
	// words; the caller passes "at" in, so accept 1-12 and 24h with
	// minutes.
	if suffix == "" && m[2] == "" && h > 12 {
		return 0
	}
	// A bare number is a time only after "at" or "by", or with am/pm
	// after it ("10 minutes" is not ten o'clock).
	if suffix == "" && m[2] == "" && !w.atCue && !partFollows(words[1:]) && (len(words) < 2 || !isMeridiem(words[1]) && words[1] != "o'clock") {
		return 0
	}
	w.hour, w.minute, w.hasTime = h, min, true
	if m[2] != "" && (h > 12 || h == 0 || strings.HasPrefix(m[1], "0")) {
		// "17:30", "00:15", "05:00": a 24-hour clock.
		w.explicit = true
	}
	n := 1
	switch suffix {
	case "am", "a.m.":
		w.explicit = true
		if h == 12 {
			w.hour = 0
		}
	case "pm", "p.m.":
		w.explicit = true
		if h < 12 {
			w.hour += 12
		}
	case "h":
		w.explicit = true
	default:
		n += w.meridiem(words[1:])
	}
	return n
}

// partFollows reports a part of the day next ("6 in the morning", "9 at
// night", "8 tonight"), which makes a bare number an hour.
func partFollows(words []string) bool {
	switch {
	case len(words) >= 3 && words[0] == "in" && words[1] == "the":
		_, ok := partsOfDay[words[2]]
		return ok
	case len(words) >= 2 && words[0] == "at" && words[1] == "night":
		return true
	case len(words) >= 1 && (words[0] == "tonight" || words[0] == "tomorrow"):
		return true
	case len(words) >= 2 && words[0] == "this" && (words[1] == "morning" || words[1] == "afternoon" || words[1] == "evening"):
		return true
	}
	return false
}

func isMeridiem(s string) bool {
	switch s {
	case "am", "pm", "a.m.", "p.m.", "a.m", "p.m":
		return true
	}
	return false
}

func (w *when) meridiem(words []string) int {
	if len(words) == 0 {
		return 0
	}
	switch words[0] {
	case "am", "a.m.", "a.m":
		w.explicit = true
		if w.hour == 12 {
			w.hour = 0
		}
		return 1
	case "pm", "p.m.", "p.m":
		w.explicit = true
		if w.hour < 12 {
			w.hour += 12
		}
		return 1
	case "o'clock", "oclock":
		return 1
	}
	return 0
}

func (w *when) resolve(now time.Time) time.Time {
	if w.relative {
		return now.Add(w.offset).Truncate(time.Second)
	}
	hour, minute := w.hour, w.minute
	// An hour from a part of the day ("this morning") is as said.
	fixed := w.explicit || w.fromPart
	if w.hasTime && !fixed && !w.morning && hour >= 1 && hour <= 6 {
		// "at 3" for an appointment means the afternoon.
		hour += 12
	}
	if !w.hasTime {
		hour, minute = 9, 0
	}
	if w.day != nil {
		d := *w.day
		return time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, now.Location())
	}
	t := time.Date(now.Year(), now.Month(), now.Day(), hour, minute, 0, 0, now.Location())
	if !t.After(now) {
		if !fixed && !w.morning && hour < 12 && t.Add(12*time.Hour).After(now) {
			// "at 9" said at 10 am: this evening.
			return t.Add(12 * time.Hour)
		}
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func nextWeekday(now time.Time, wd time.Weekday) time.Time {
	d := (int(wd) - int(now.Weekday()) + 7) % 7
	if d == 0 {
		d = 7
	}
	return now.AddDate(0, 0, d)
}

func dayOfMonth(w string) (int, bool) {
	if v, err := strconv.Atoi(w); err == nil && v >= 1 && v <= 31 {
		return v, true
	}
	if v, ok := parseOrdinalDigits(w); ok && v >= 1 && v <= 31 {
		return v, true
	}
	if v, ok := ordinals[w]; ok {
		return v, true
	}
	return 0, false
}

// dateAhead is the next occurrence of month/day on or after today.
func dateAhead(now time.Time, m time.Month, d int) time.Time {
	t := time.Date(now.Year(), m, d, 0, 0, 0, 0, now.Location())
	if t.Before(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())) {
		t = t.AddDate(1, 0, 0)
	}
	return t
}

// dateWithYear is month/day in the year that words may start with ("2027",
// ", 2027"), or else the next such date; it returns the words used.
func dateWithYear(now time.Time, m time.Month, d int, words []string) (time.Time, int) {
	k := 0
	if len(words) > 1 && words[0] == "," {
		k = 1
	}
	if len(words) > k {
		if y, ok := year(words[k]); ok {
			return time.Date(y, m, d, 0, 0, 0, 0, now.Location()), k + 1
		}
	}
	return dateAhead(now, m, d), 0
}

// year reads a four-digit year.
func year(w string) (int, bool) {
	if len(w) != 4 || !isDigits(w) || strings.Contains(w, ",") {
		return 0, false
	}
	y, err := strconv.Atoi(w)
	return y, err == nil && y >= 1900 && y <= 2199
}

// nextDayOfMonth is the next date, today included, whose day of the month
// is d, skipping months too short to have one.
func nextDayOfMonth(now time.Time, d int) time.Time {
	return nextDayOfMonthOn(now, d, -1)
}

// nextDayOfMonthOn is nextDayOfMonth falling on weekday wd (any weekday
// when wd is negative). Every day of the month falls on every weekday
// within seven years; past that, the weekday is dropped.
func nextDayOfMonthOn(now time.Time, d int, wd time.Weekday) time.Time {
	y, m := now.Year(), now.Month()
	if now.Day() > d {
		m++
	}
	first := time.Time{}
	for range 12 * 7 {
		t := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
		m++
		if t.Day() != d {
			continue
		}
		if wd < 0 || t.Weekday() == wd {
			return t
		}
		if first.IsZero() {
			first = t
		}
	}
	return first
}

var numericDatePattern = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?$`)

// numericDate reads "12/24" or "24/12/2026". Whether the month or the day
// comes first differs between countries, so a date is read only when the
// numbers settle it (one of them above 12, or both the same); "03/04" is
// no date at all rather than a guess.
func numericDate(w string, now time.Time) (time.Time, bool) {
	m := numericDatePattern.FindStringSubmatch(w)
	if m == nil {
		return time.Time{}, false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	var mon, d int
	switch {
	case a == b:
		mon, d = a, b
	case a > 12 && b <= 12:
		mon, d = b, a
	case b > 12 && a <= 12:
		mon, d = a, b
	default:
		return time.Time{}, false
	}
	if mon < 1 || mon > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	if m[3] == "" {
		t := dateAhead(now, time.Month(mon), d)
		return t, t.Day() == d
	}
	y, _ := strconv.Atoi(m[3])
	if len(m[3]) == 2 {
		y += 2000
	}
	t := time.Date(y, time.Month(mon), d, 0, 0, 0, 0, now.Location())
	return t, t.Day() == d
}

// parseRange reads a time range at the start of words: "between 2 and
// 4pm", "from 9:30 to 11", each optionally with a day before or after
// ("tomorrow between 1 and 3", "from 9 to 5 on friday"). The bounds may be
// bare numbers, since "between" already says they are times of day. It
// returns the start, the end (after the start) and the words used.
// parsePeriod reads a named period at the start of words: "this week"
// (today to Monday), "next week", "the weekend" (the coming Saturday to
// Monday; the current one on a weekend), "next weekend", "this month",
// "next month". Days start at midnight in now's zone.
func parsePeriod(words []string, now time.Time) (from, to time.Time, n int, ok bool) {
	i := 0
	for i < len(words) && (words[i] == "for" || words[i] == "over" || words[i] == "during" || words[i] == "in" || words[i] == "on" || words[i] == "the") {
		i++
	}
	which := "this"
	if i < len(words) && (words[i] == "this" || words[i] == "next" || words[i] == "coming") {
		which = words[i]
		i++
	}
	if i >= len(words) {
		return
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	monday := nextWeekday(today, time.Monday) // the next Monday after today
	switch words[i] {
	case "week":
		from, to = today, monday
		if which == "next" {
			from, to = monday, monday.AddDate(0, 0, 7)
		}
	case "weekend":
		from = monday.AddDate(0, 0, -2) // the Saturday before that Monday
		if from.Before(today) {
			from = today // already the weekend: what is left of it
		}
		to = monday
		if which == "next" && (now.Weekday() == time.Saturday || now.Weekday() == time.Sunday) {
			from, to = monday.AddDate(0, 0, 5), monday.AddDate(0, 0, 7)
		}
	case "month":
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
		from, to = today, first.AddDate(0, 1, 0)
		if which == "next" {
			from, to = first.AddDate(0, 1, 0), first.AddDate(0, 2, 0)
		}
	default:
		return
	}
	return from, to, i + 1, true
}

func parseRange(words []string, now time.Time) (from, to time.Time, n int, ok bool) {
	i := 0
	var day *time.Time
	if t, k, whole, good := parseWhenDay(words, now); good && whole {
		day, i = &t, k
	}
	if i >= len(words) || words[i] != "between" && words[i] != "from" {
		return
	}
	i++
	if i >= len(words) {
		return
	}
	var a, b when
	a.atCue, b.atCue = true, true
	k := a.clock(words[i:])
	if k == 0 {
		return
	}
	i += k
	if i >= len(words) || words[i] != "and" && words[i] != "to" && words[i] != "until" && words[i] != "till" && words[i] != "-" {
		return
	}
	i++
	if i >= len(words) {
		return
	}
	if k = b.clock(words[i:]); k == 0 {
		return
	}
	i += k
	if day == nil && i < len(words) {
		if t, k, whole, good := parseWhenDay(words[i:], now); good && whole {
			day, i = &t, i+k
		}
	}
	// "between 2 and 4pm": the end's half of the day carries to the
	// start when that keeps the start first.
	if !a.explicit && b.explicit && b.hour >= 12 && a.hour+12 < 24 && a.hour+12 <= b.hour {
		a.hour += 12
		a.explicit = true
	}
	if !a.explicit && !b.explicit && a.hour >= 1 && a.hour <= 6 {
		// Working hours: "between 2 and 4" is the afternoon.
		a.hour += 12
		a.explicit = true
	}
	if !b.explicit && b.hour < a.hour && b.hour+12 <= 23 {
		b.hour += 12
	}
	base := now
	if day != nil {
		base = *day
	}
	at := func(w when) time.Time {
		return time.Date(base.Year(), base.Month(), base.Day(), w.hour, w.minute, 0, 0, now.Location())
	}
	from, to = at(a), at(b)
	if !to.After(from) {
		to = to.AddDate(0, 0, 1)
	}
	return from, to, i, true
}
