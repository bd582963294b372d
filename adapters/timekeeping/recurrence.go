package timekeeping

import (
	"slices"
	"sort"
	"time"

	"github.com/teambition/rrule-go"
)

// Bounds on recurrence expansion. A recurrence rule comes from whoever
// wrote the calendar, so expansion must stay cheap whatever it says.
const (
	// maxPeriods is how many FREQ periods may lie between a rule's start
	// and the end of the listing before the start is moved forward.
	maxPeriods = 150_000
	// maxIterations caps the occurrences generated for one event.
	maxIterations = 200_000
)

// starts returns the starts of v's occurrences in [after, before). A rule
// that cannot be expanded safely contributes only its first occurrence
// and its RDATEs.
func (v *vevent) starts(after, before time.Time) (out []time.Time) {
	excluded := map[int64]bool{}
	for _, t := range v.exdates {
		excluded[t.Unix()] = true
	}
	add := func(t time.Time) {
		if !excluded[t.Unix()] && !t.Before(after) && t.Before(before) {
			out = append(out, t)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			// The rule library failed on this input: fall back to the
			// occurrences given explicitly.
			out = nil
			add(v.Start)
			for _, t := range v.rdates {
				add(t)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
		out = slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
	}()
	for _, t := range v.rdates {
		add(t)
	}
	if v.rule == nil || !v.Start.Before(before) {
		add(v.Start)
		return out
	}
	opt, ok := boundedRule(*v.rule, v.Start, after, before)
	if !ok {
		add(v.Start)
		return out
	}
	r, err := rrule.NewRRule(opt)
	if err != nil {
		add(v.Start)
		return out
	}
	next := r.Iterator()
	for i, n := 0, 0; i < maxIterations && n < maxOccurrences; i++ {
		t, ok := next()
		if !ok || !t.Before(before) {
			break
		}
		if !t.Before(after) {
			add(t)
			n++
		}
	}
	// RFC 5545: DTSTART is always the first occurrence, even where the
	// rule itself would not produce it.
	if opt.Dtstart.Equal(v.Start) {
		add(v.Start)
	}
	return out
}

// boundedRule prepares a rule for expansion over [after, before): it ends
// the rule at before, moves the start of a dense rule that began long ago
// forward by whole periods (which leaves its occurrences unchanged), and
// refuses rules the library would loop on forever.
func boundedRule(opt rrule.ROption, start, after, before time.Time) (rrule.ROption, bool) {
	opt.Dtstart = start
	if opt.Interval < 1 {
		opt.Interval = 1
	}
	if !timeFiltersReachable(opt) {
		return opt, false
	}
	if opt.Until.IsZero() || opt.Until.After(before) {
		opt.Until = before
	}
	unit := freqUnit(opt.Freq)
	if unit == 0 {
		return opt, false
	}
	periods := before.Sub(start) / unit / time.Duration(opt.Interval)
	if periods <= maxPeriods {
		return opt, true
	}
	if opt.Count > 0 {
		// Counting from the real start cannot be skipped ahead.
		return opt, opt.Count <= maxIterations
	}
	// Whole days the start may jump while keeping every occurrence.
	var stepDays int
	switch opt.Freq {
	case rrule.DAILY:
		stepDays = opt.Interval
	case rrule.WEEKLY:
		stepDays = 7 * opt.Interval
	case rrule.HOURLY, rrule.MINUTELY, rrule.SECONDLY:
		step := int64(unit/time.Second) * int64(opt.Interval)
		if step > 86400 || 86400%step != 0 {
			return opt, false
		}
		stepDays = 1
	default:
		return opt, false
	}
	if stepDays > 1<<20 {
		return opt, false
	}
	k := int(after.Sub(start)/(time.Duration(stepDays)*24*time.Hour)) - 2
	if k > 0 {
		opt.Dtstart = start.AddDate(0, 0, k*stepDays)
	}
	return opt, before.Sub(opt.Dtstart)/unit/time.Duration(opt.Interval) <= maxPeriods
}

// freqUnit is the shortest length of one period of a frequency.
func freqUnit(f rrule.Frequency) time.Duration {
	switch f {
	case rrule.YEARLY:
		return 365 * 24 * time.Hour
	case rrule.MONTHLY:
		return 28 * 24 * time.Hour
	case rrule.WEEKLY:
		return 7 * 24 * time.Hour
	case rrule.DAILY:
		return 24 * time.Hour
	case rrule.HOURLY:
		return time.Hour
	case rrule.MINUTELY:
		return time.Minute
	case rrule.SECONDLY:
		return time.Second
	}
	return 0
}

// timeFiltersReachable reports whether an HOURLY, MINUTELY or SECONDLY
// rule's BYHOUR/BYMINUTE/BYSECOND can ever match. The library steps the
// clock by INTERVAL until they do and never stops when they cannot (say
// FREQ=HOURLY;INTERVAL=24;BYHOUR=5 starting at 03:00).
func timeFiltersReachable(opt rrule.ROption) bool {
	var unit int
	switch opt.Freq {
	case rrule.HOURLY:
		unit = 3600
	case rrule.MINUTELY:
		unit = 60
	case rrule.SECONDLY:
		unit = 1
	default:
		return true
	}
	if len(opt.Byhour) == 0 && len(opt.Byminute) == 0 && len(opt.Bysecond) == 0 {
		return true
	}
	slots := 86400 / unit // positions in a day at this frequency
	g := gcd(opt.Interval%slots, slots)
	h, mi, s := opt.Dtstart.Clock()
	first := (h*3600 + mi*60 + s) / unit
	for x := first % g; x < slots; x += g {
		sec := x * unit
		hour, minute, second := sec/3600, sec/60%60, sec%60
		if (len(opt.Byhour) == 0 || slices.Contains(opt.Byhour, hour)) &&
			(unit > 60 || len(opt.Byminute) == 0 || slices.Contains(opt.Byminute, minute)) &&
			(unit > 1 || len(opt.Bysecond) == 0 || slices.Contains(opt.Bysecond, second)) {
			return true
		}
	}
	return false
}

// gcd of a ≥ 0 and b > 0; gcd(0, b) is b.
func gcd(a, b int) int {
	for a != 0 {
		a, b = b%a, a
	}
	return b
}
