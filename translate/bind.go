package translate

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// binding fills a target from words.
type binding struct {
	s     *spec
	toks  []token
	words []string
	lit   []bool // explained by a template literal or vocabulary word
	used  []bool // taken by a value
	soft  []bool // taken by free text found without a template
	text  []bool // of those, taken by a required free-text field
	// appExists, when set, says whether words name an installed
	// application.
	appExists func(string) bool
	now       time.Time
	target    map[string]any
	bad       string // why a captured span did not parse
}

func newBinding(s *spec, toks []token, lit []bool, now time.Time) *binding {
	l := make([]bool, len(toks))
	copy(l, lit)
	return &binding{s: s, toks: toks, words: norms(toks), lit: l, used: make([]bool, len(toks)), soft: make([]bool, len(toks)), text: make([]bool, len(toks)), now: now, target: map[string]any{}}
}

// free reports a word neither taken by a value nor explained by a literal.
func (b *binding) free(i int) bool { return !b.used[i] && !b.lit[i] }

// explained reports a word accounted for.
func (b *binding) explained(i int) bool { return b.used[i] || b.lit[i] }

// degreeWords qualify a change ("a bit brighter"); the default step
// covers them.
var degreeWords = map[string]bool{"bit": true, "little": true, "slightly": true, "tad": true, "touch": true, "lot": true, "much": true, "notch": true}

var upWords = map[string]bool{"up": true, "increase": true, "raise": true, "louder": true, "brighter": true, "higher": true, "more": true, "boost": true, "turn-up": true, "brighten": true, "lighter": true, "crank": true, "bump": true, "plus": true, "+": true}
var downWords = map[string]bool{"down": true, "decrease": true, "lower": true, "reduce": true, "quieter": true, "softer": true, "dimmer": true, "darker": true, "dim": true, "less": true, "minus": true, "decrement": true, "turn-down": true, "darken": true, "-": true}
var onWords = map[string]bool{"on": true, "enable": true, "enabled": true, "activate": true, "start": true, "switch-on": true, "true": true, "yes": true, "allow": true, "unmute": false}
var offWords = map[string]bool{"off": true, "disable": true, "disabled": true, "deactivate": true, "stop": true, "false": true, "no": true, "kill": true}

// stopwords carry no meaning for which action or value is meant.
var stopwords = map[string]bool{
	"the": true, "a": true, "an": true, "my": true, "to": true, "of": true, "for": true, "in": true, "on": false, "at": true,
	"is": true, "it": true, "me": true, "please": true, "and": true, "with": true, "from": true, "by": true, "this": true,
	"that": true, "some": true, "your": true, "our": true, ",": true, "be": true, "i": true, "you": true, "would": true,
	"like": true, "want": true, "can": true, "could": true, "do": true, "what": false, "all": true, "about": false, "its": true,
}

var unitSuffix = regexp.MustCompile(`\.(service|socket|timer|target|mount|path|slice|scope|device|swap|automount)$`)
var pathLike = regexp.MustCompile(`^~$|^(~|\.{1,2})?/|^[\w.@+-]+/|^[\w .@+-]*\.[A-Za-z0-9]{1,8}$`)

// acceptSpan reports whether words toks[i:j] can be the value of field;
// the template matcher tries other spans when not.
func (s *spec) acceptSpan(toks []token, now time.Time, known, appExists, notApp func(string) bool) func(string, int, int) bool {
	return func(name string, i, j int) bool {
		f := s.field(name)
		if f == nil {
			return false
		}
		b := newBinding(s, toks, nil, now)
		if !b.span(name, [2]int{i, j}) {
			return false
		}
		if f.kind == kText && s.hasKind(kTime) && mentionsTime(b.words[i:j]) {
			// "meeting tomorrow": the time belongs to the time slot.
			return false
		}
		switch f.kind {
		case kUnit:
			// A service or process is named in a word or two, and not with
			// a word that names something else Noema does.
			if j-i > 2 {
				return false
			}
			var content []string
			for _, w := range b.words[i:j] {
				if !stopwords[w] {
					content = append(content, w)
				}
			}
			// "start the bluetooth service": a word Noema knows for
			// something else is a unit when the words say service.
			said := j < len(toks) && (toks[j].norm == "service" || toks[j].norm == "daemon" || toks[j].norm == "unit")
			if n := len(content); n > 0 && !said && !unitSuffix.MatchString(content[n-1]) && known != nil && known(content[n-1]) {
				// "start a new timer" is not a unit named "new timer": the
				// last word names what the words are about.
				return false
			}
		case kPackage:
			// "remove the timer" is not a package called timer: a thing
			// Noema handles is that thing, unless the words say package.
			said := j < len(toks) && toks[j].norm == "package" || i > 0 && toks[i-1].norm == "package"
			if j-i == 1 && !said && noemaThings[stem(b.words[i])] {
				return false
			}
		case kApp:
			if appExists != nil && appExists(origJoin(toks[i:j])) {
				return true
			}
			if notApp != nil && notApp(origJoin(toks[i:j])) {
				return false
			}
			// A path ("budget.xlsx", "~/docs") is a file to open and a
			// flag ("-la") belongs to a command line, neither an app.
			for _, t := range toks[i:j] {
				if strings.ContainsRune(t.orig, '/') || strings.HasPrefix(t.orig, "-") || strings.HasPrefix(t.orig, "~") || pathLike.MatchString(t.orig) && strings.Contains(t.orig, ".") {
					return false
				}
			}
			// An app Noema cannot find is taken only as a short name.
			if j-i > 2 {
				return false
			}
			// Words that name other things Noema does are not an app
			// ("start the timer").
			for _, w := range b.words[i:j] {
				if known != nil && known(w) && !stopwords[w] {
					return false
				}
			}
		case kPath:
			// A path is a word or a few (a name with spaces), never a
			// clause: "delete /tmp/x and dim the screen" is two requests.
			if j-i > 3 {
				return false
			}
			for _, w := range b.words[i:j] {
				if w == "and" || w == "then" || w == "," {
					return false
				}
			}
		case kText:
			// A title or note of function or vague words only ("on the",
			// "anything") is words the template did not expect; an
			// optional field may take them as saying nothing (see span).
			if j-i > 40 || vague(b.words[i:j]) && (f.required || !namesVaguely(b.words[i:j])) {
				return false
			}
			// "… for taxes and open the first one": a second request, not
			// the rest of this one's text.
			for k := i; k+1 < j; k++ {
				if w := b.words[k]; (w == "and" || w == "then") && known != nil && known(b.words[k+1]) && !stopwords[b.words[k+1]] {
					return false
				}
			}
			return true
		case kArgv, kTags:
			return j-i <= 40
		}
		return true
	}
}

func (s *spec) hasKind(k kind) bool {
	for _, f := range s.fields {
		if f.kind == k {
			return true
		}
	}
	return false
}

// mentionsTime reports a day or time word among words.
func mentionsTime(words []string) bool {
	for i, w := range words {
		if _, ok := weekdays[w]; ok {
			return true
		}
		if _, ok := partsOfDay[w]; ok && w != "night" {
			return true
		}
		switch w {
		case "today", "tomorrow", "tonight", "yesterday":
			return true
		}
		if (w == "at" || w == "in") && i+1 < len(words) {
			if _, _, ok := parseWhen(words[i:], time.Time{}); ok {
				return true
			}
		}
	}
	return false
}

// fixed applies a template's implied values.
func (b *binding) fixed(binds map[string]string) {
	for k, v := range binds {
		f := b.s.field(k)
		if f == nil {
			continue
		}
		switch f.kind {
		case kBool:
			b.target[k] = v == "true"
		case kInt, kPercent, kDelta, kDuration, kMinutes:
			if n, err := strconv.Atoi(v); err == nil {
				b.target[k] = n
			}
		case kNumber:
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				b.target[k] = n
			}
		default:
			b.target[k] = v
		}
	}
}

// span parses a template capture for a field.
func (b *binding) span(name string, sp [2]int) bool {
	f := b.s.field(name)
	if f == nil {
		b.bad = "template names unknown field " + name
		return false
	}
	toks := b.toks[sp[0]:sp[1]]
	words := b.words[sp[0]:sp[1]]
	prev := "" // the word before the span
	if sp[0] > 0 {
		prev = b.words[sp[0]-1]
	}
	var v any
	ok := true
	switch f.kind {
	case kText, kApp:
		if f.kind == kApp && vague(words) {
			ok = false
			break
		}
		if f.kind == kText && !f.required && vague(words) && namesVaguely(words) {
			// "do I have anything on Thursday": no query at all.
			b.mark(sp[0], sp[1])
			return true
		}
		if f.kind == kText {
			// "a 45 minute call with Paul": the length is the event's
			// duration, not part of its title.
			if n := b.leadingDuration(words); n > 0 && n < len(words) {
				toks, words = toks[n:], words[n:]
			}
		}
		text := strings.TrimSpace(origJoin(trimStop(toks)))
		if f.kind == kText && len(words) > 1 && words[0] == "with" && sp[0] > 0 && !stopwords[b.words[sp[0]-1]] {
			// "a meeting with Bob": the word before "with" is part of
			// the title, even when the template read it.
			text = b.toks[sp[0]-1].orig + " " + origJoin(toks)
		}
		v, ok = text, text != ""
	case kPath:
		// "the file a.txt", "the pdf manual.pdf": the kind of file is not
		// part of its name.
		for len(toks) > 1 && (toks[0].norm == "the" || fileNouns[toks[0].norm] && pathLike.MatchString(cleanPath(origJoin(toks[1:])))) {
			toks = toks[1:]
		}
		folder := false
		if n := len(toks); n > 1 && (toks[n-1].norm == "folder" || toks[n-1].norm == "directory") && (prev == "into" || prev == "to") {
			// "into the documents folder": the folder is "documents".
			toks, folder = toks[:n-1], true
		}
		p := cleanPath(origJoin(toks))
		next := ""
		if sp[1] < len(b.words) {
			next = b.words[sp[1]]
		}
		// A path must look like one unless the words call it a file
		// ("the file notes", "the documents folder").
		// "the file manager" is an application, not a file named "manager".
		compound := prev == "file" && (toks[0].norm == "manager" || toks[0].norm == "browser" || toks[0].norm == "explorer")
		v, ok = p, pathLike.MatchString(p) || fileNouns[prev] && prev != "pdf" && !compound || folder || (next == "folder" || next == "directory") && (prev == "into" || prev == "to")
	case kUnit, kPackage:
		if len(toks) != 1 && f.kind == kPackage || vague(words) || onlyKinds(words) {
			// "remove everything" names no package, nor does "remove
			// package".
			ok = false
			break
		}
		v, ok = strings.ToLower(origJoin(trimStop(toks))), len(trimStop(toks)) > 0
	case kArgv:
		args := make([]string, len(toks))
		for i, t := range toks {
			args[i] = t.orig
		}
		v = args
	case kTags:
		var tags []string
		for _, t := range toks {
			if t.norm != "and" && t.norm != "," {
				tags = append(tags, strings.ToLower(t.orig))
			}
		}
		v, ok = tags, len(tags) > 0
	case kTime:
		if f.name == "from" && b.s.field("to") != nil {
			// "what do I have this week": a period is a whole range.
			if from, to, n, good := parsePeriod(words, b.now); good && n == len(words) {
				b.target["to"] = to.Format(time.RFC3339)
				v = from.Format(time.RFC3339)
				break
			}
		}
		// A template put a time here: after "at" or "by", or "for" when
		// an alarm is set ("an alarm for 6"), a bare number is an hour.
		slot := prev == "at" || prev == "by" || prev == "for" && b.wakeUp()
		t, n, day, good := parseWhenOpts(words, b.now, whenOpts{morning: b.wakeUp(), slot: slot})
		v, ok = b.timeValue(f.name, t, day), good && n == len(words)
	case kDuration, kMinutes:
		d, n, good := parseDuration(words)
		if !good || n != len(words) {
			if num, n2, pct, good2 := parseNumber(words); good2 && !pct && n2 == len(words) {
				d, good = time.Duration(num*float64(time.Minute)), true
				if f.kind == kDuration {
					d = time.Duration(num * float64(time.Second))
				}
			} else {
				ok = false
				break
			}
		}
		if f.kind == kMinutes {
			v = int(math.Round(d.Minutes()))
		} else {
			v = int(math.Round(d.Seconds()))
		}
	case kEnum:
		val, n := b.enumAt(f, sp[0], sp[1])
		v, ok = val, val != "" && n == sp[1]-sp[0]
	case kPercent, kInt, kNumber, kDelta:
		num, n, _, good := parseNumber(words)
		if !good || n != len(words) {
			if f.kind == kPercent && len(words) == 1 {
				if p, ok2 := percentWord(words[0]); ok2 {
					num, good, n = p, true, 1
				}
			}
		}
		if !good || n != len(words) {
			ok = false
			break
		}
		if f.kind == kNumber {
			v = num
		} else {
			if f.kind == kPercent && num < 1 && num > 0 {
				num *= 100
			}
			if f.kind == kDelta && b.direction() < 0 && num > 0 {
				// "lower the volume by 20"
				num = -num
			}
			v = int(math.Round(num))
		}
	case kBool:
		val, found := b.polarity(f, sp[0], sp[1])
		v, ok = val, found
		for _, w := range words {
			// "shut off the wifi": shut is only a verb for the switch.
			if !onWords[w] && !offWords[w] && !stopwords[w] && w != "back" && w != "mute" && w != "unmute" && w != "muted" && w != "silence" && w != "shut" {
				ok = false
			}
		}
	}
	if str, isStr := v.(string); ok && isStr && !f.allows(str) {
		// The words are meant for this field ("forget my locker code"),
		// but they are not a value it takes: the field stays missing and
		// the question for it is asked.
		b.mark(sp[0], sp[1])
		return true
	}
	if !ok {
		b.bad = "could not read " + name + " from \"" + origJoin(toks) + "\""
		return false
	}
	b.target[name] = v
	b.mark(sp[0], sp[1])
	return true
}

// functionWords carry no content but are no stopwords (some are switch
// words): alone they are no title, note or query ("on the").
var functionWords = map[string]bool{"on": true, "off": true, "about": true, "or": true, "then": true}

// vagueWords name nothing in particular: alone they are no title, note
// or query ("do I have anything on Thursday").
var vagueWords = map[string]bool{
	"anything": true, "something": true, "everything": true, "stuff": true, "things": true,
	// "the first one", "the other one": a thing pointed at, not named.
	"one": true, "ones": true, "first": true, "second": true, "another": true,
}

// kindNouns name a kind of thing, never one thing of that kind.
var kindNouns = map[string]bool{
	"package": true, "packages": true, "service": true, "services": true, "unit": true, "daemon": true,
	"program": true, "programs": true, "app": true, "application": true, "process": true, "processes": true,
	"window": true, "windows": true, "tab": true, "tabs": true,
}

// noemaThings are what Noema's own actions handle; said alone, they
// name those, not a package.
var noemaThings = map[string]bool{
	"timer": true, "alarm": true, "reminder": true, "event": true, "meeting": true, "appointment": true,
	"calendar": true, "wifi": true, "bluetooth": true, "volume": true, "brightness": true, "theme": true,
	"memory": true, "notification": true, "file": true, "tag": true,
}

// onlyKinds reports words that name only kinds of thing ("all windows").
func onlyKinds(words []string) bool {
	kinds := 0
	for _, w := range words {
		switch {
		case kindNouns[w]:
			kinds++
		case !stopwords[w]:
			return false
		}
	}
	return kinds > 0
}

// fileNouns name a kind of file.
var fileNouns = map[string]bool{"file": true, "folder": true, "directory": true, "document": true, "pdf": true, "doc": true}

// switchedOff reports an off-word ("off", "disable", …) in the words,
// which turns a value named off rather than on.
func (b *binding) switchedOff() bool {
	return slices.ContainsFunc(b.words, func(w string) bool { return offWords[w] && w != "kill" && w != "stop" })
}

// otherValue is the value a field falls back to when v is switched off:
// the other of two, or a balanced or default one; "" (ask) otherwise.
func otherValue(enum []string, v string) string {
	if len(enum) == 2 {
		if enum[0] == v {
			return enum[1]
		}
		return enum[0]
	}
	for _, d := range []string{"balanced", "default", "auto", "normal"} {
		if d != v && slices.Contains(enum, d) {
			return d
		}
	}
	return ""
}

// leadingDuration reads a length at the start of a title ("one hour
// meeting", "45 minute call") into the action's length in minutes when
// it has one that is not set, and returns the words it used. (A timer's
// label is left alone: there a length is another timer.)
func (b *binding) leadingDuration(words []string) int {
	for _, f := range b.s.fields {
		if f.kind != kMinutes {
			continue
		}
		if _, set := b.target[f.name]; set {
			return 0
		}
		d, n, ok := parseDuration(words)
		if !ok {
			return 0
		}
		b.target[f.name] = int(math.Round(d.Minutes()))
		return n
	}
	return 0
}

// vague reports words that are all function or vague words.
func vague(words []string) bool {
	return !slices.ContainsFunc(words, func(w string) bool { return !stopwords[w] && !isVague(w) })
}

// isVague reports a function or vague word.
func isVague(w string) bool { return functionWords[w] || vagueWords[w] }

// namesVaguely reports a vague word among words ("anything"), as opposed
// to function words only ("it"): "do I have anything on Thursday" asks
// about everything, "what time is it" about no event at all.
func namesVaguely(words []string) bool {
	return slices.ContainsFunc(words, func(w string) bool {
		return vagueWords[w] && !stopwords[w]
	})
}

// wakeUp reports a request to be woken (or an alarm), whose bare hours
// are in the morning.
func (b *binding) wakeUp() bool {
	return slices.ContainsFunc(b.words, func(w string) bool {
		return w == "wake" || w == "waking" || w == "wakeup" || w == "wake-up" || w == "alarm" || w == "alarms"
	})
}

func (b *binding) mark(i, j int) {
	for k := i; k < j; k++ {
		b.used[k] = true
	}
}

// timeValue formats an instant for the field name. A bare day bounding a
// range covers all of it: "from friday" starts at midnight, "to friday"
// ends at the next midnight (ranges end exclusive).
func (b *binding) timeValue(name string, t time.Time, wholeDay bool) string {
	if wholeDay {
		midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		switch name {
		case "from":
			t = midnight
		case "to", "until":
			t = midnight.AddDate(0, 0, 1)
		}
	}
	return t.Format(time.RFC3339)
}

func percentWord(w string) (float64, bool) {
	switch w {
	case "full", "max", "maximum", "highest", "top", "brightest", "loudest":
		return 100, true
	case "half":
		return 50, true
	case "min", "minimum", "lowest", "dimmest", "quietest":
		return 0, true
	}
	return 0, false
}

func trimStop(toks []token) []token {
	for len(toks) > 0 && stopwords[toks[0].norm] {
		toks = toks[1:]
	}
	for len(toks) > 0 && stopwords[toks[len(toks)-1].norm] {
		toks = toks[:len(toks)-1]
	}
	return toks
}

func cleanPath(p string) string {
	p = strings.TrimSpace(p)
	p = strings.Trim(p, "\"'`")
	return p
}

// fill binds the fields no template captured, from unexplained words.
func (b *binding) fill() {
	b.timeRange()
	order := []kind{kTime, kDuration, kMinutes, kEnum, kBool, kDelta, kPercent, kInt, kNumber, kUnit, kPackage, kPath, kTags, kApp, kArgv, kText}
	// "down to 30 percent" names a level; "down by 30" names a change.
	hasDirection := b.direction() != 0 && !b.levelNamed()
	for _, k := range order {
		for i := range b.s.fields {
			f := &b.s.fields[i]
			if f.kind != k {
				continue
			}
			if _, done := b.target[f.name]; done {
				continue
			}
			// With both {percent} and {delta}, a direction word means a
			// change, otherwise a level.
			if f.kind == kPercent && hasDirection && b.s.field("delta") != nil {
				continue
			}
			if f.kind == kDelta && !hasDirection && b.s.field("percent") != nil && b.hasNumber() {
				continue
			}
			if b.otherAlternativeMet(f.name) {
				// {percent} or {delta}: one is enough, both is invalid.
				continue
			}
			b.generic(f)
		}
	}
	b.orderRange()
}

// timeRange binds "from" and "to" together from words such as "tomorrow
// between 1 and 3", whose bounds read as times only as a pair.
func (b *binding) timeRange() {
	ff, tf := b.s.field("from"), b.s.field("to")
	if ff == nil || tf == nil || ff.kind != kTime || tf.kind != kTime {
		return
	}
	if _, done := b.target["from"]; done {
		return
	}
	if _, done := b.target["to"]; done {
		return
	}
	for i := range b.words {
		if b.used[i] {
			continue
		}
		from, to, n, ok := parsePeriod(b.words[i:], b.now)
		if !ok {
			from, to, n, ok = parseRange(b.words[i:], b.now)
		}
		if ok && !b.anyUsed(i, i+n) {
			b.target["from"], b.target["to"] = from.Format(time.RFC3339), to.Format(time.RFC3339)
			b.mark(i, i+n)
			return
		}
	}
}

// orderRange mends a range whose end came out before its start because a
// weekday means the next one: "from monday to friday" said on a Monday is
// this week, and "from saturday to tuesday" ends in the week after.
func (b *binding) orderRange() {
	fs, _ := b.target["from"].(string)
	ts, _ := b.target["to"].(string)
	from, err1 := time.Parse(time.RFC3339, fs)
	to, err2 := time.Parse(time.RFC3339, ts)
	if err1 != nil || err2 != nil || to.After(from) {
		return
	}
	today := time.Date(b.now.Year(), b.now.Month(), b.now.Day(), 0, 0, 0, 0, b.now.Location())
	week := 7 * 24 * time.Hour
	switch {
	case !from.Add(-week).Before(today) && to.After(from.Add(-week)):
		b.target["from"] = from.Add(-week).Format(time.RFC3339)
	case to.Add(week).After(from):
		b.target["to"] = to.Add(week).Format(time.RFC3339)
	}
}

// levelNamed reports a number after "to" or "at" (a level), with no "by"
// (a change) before a number.
func (b *binding) levelNamed() bool {
	level := false
	for i, w := range b.words {
		if i+1 >= len(b.words) {
			break
		}
		_, _, _, num := parseNumber(b.words[i+1 : i+2])
		_, word := percentWord(b.words[i+1])
		if !num && !word {
			continue
		}
		switch w {
		case "by":
			return false
		case "to", "at":
			level = true
		}
	}
	return level
}

// otherAlternativeMet reports that a oneOf branch not containing name is
// already complete.
func (b *binding) otherAlternativeMet(name string) bool {
	for _, alt := range b.s.alternatives {
		has := false
		for _, f := range alt {
			if f == name {
				has = true
			}
		}
		if has {
			continue
		}
		met := len(alt) > 0
		for _, f := range alt {
			if _, ok := b.target[f]; !ok {
				met = false
			}
		}
		if met {
			return true
		}
	}
	return false
}

func (b *binding) hasNumber() bool {
	for i, w := range b.words {
		if b.used[i] {
			continue
		}
		if _, _, _, ok := parseNumber([]string{w}); ok && w != "a" && w != "an" {
			return true
		}
		if _, ok := percentWord(w); ok {
			return true
		}
	}
	return false
}

// direction is +1 or -1 when the words ask for a change.
func (b *binding) direction() int {
	for i, w := range b.words {
		if upWords[w] || (w == "turn" && i+1 < len(b.words) && b.words[i+1] == "up") {
			return 1
		}
		if downWords[w] {
			return -1
		}
	}
	return 0
}

func (b *binding) generic(f *field) {
	n := len(b.words)
	switch f.kind {
	case kTime:
		for i := 0; i < n; i++ {
			if b.used[i] {
				continue
			}
			start := i
			if i > 0 && !b.used[i-1] && (b.words[i-1] == "at" || b.words[i-1] == "on" || b.words[i-1] == "by") {
				start = i - 1
			}
			t, m, day, ok := parseWhenOpts(b.words[start:], b.now, whenOpts{morning: b.wakeUp()})
			if ok && !b.anyUsed(start, start+m) {
				b.target[f.name] = b.timeValue(f.name, t, day)
				b.mark(start, start+m)
				return
			}
		}
	case kDuration, kMinutes:
		for i := 0; i < n; i++ {
			if b.used[i] {
				continue
			}
			d, m, ok := parseDuration(b.words[i:])
			if ok && !b.anyUsed(i, i+m) {
				if f.kind == kMinutes {
					b.target[f.name] = int(math.Round(d.Minutes()))
				} else {
					b.target[f.name] = int(math.Round(d.Seconds()))
				}
				b.mark(i, i+m)
				if i > 0 && b.words[i-1] == "for" {
					b.used[i-1] = true
				}
				return
			}
		}
	case kEnum:
		var found string
		for i := 0; i < n; i++ {
			if b.used[i] {
				continue
			}
			if v, m := b.enumAt(f, i, n); v != "" {
				found = v
				b.mark(i, i+m)
				i += m - 1
			}
		}
		if found != "" && b.switchedOff() {
			// "turn off performance mode" asks for any value but that one.
			found = otherValue(f.enum, found)
		}
		if found != "" {
			b.target[f.name] = found
		}
	case kBool:
		if v, ok := b.polarity(f, 0, n); ok {
			b.target[f.name] = v
		}
	case kDelta:
		dir := b.direction()
		if dir == 0 {
			return
		}
		amount := 10
		for i := 0; i < n; i++ {
			if b.used[i] {
				continue
			}
			num, m, _, ok := parseNumber(b.words[i:])
			if ok && b.words[i] != "a" && b.words[i] != "an" {
				if num > 0 && num < 1 {
					num *= 100
				}
				amount = int(math.Round(num))
				b.mark(i, i+m)
				break
			}
			if b.words[i] == "lot" || b.words[i] == "much" {
				amount = 30
			}
		}
		b.target[f.name] = dir * amount
		for i, w := range b.words {
			if upWords[w] || downWords[w] || w == "by" || degreeWords[w] {
				b.used[i] = true
			}
		}
	case kPercent, kInt, kNumber:
		for i := 0; i < n; i++ {
			if b.used[i] {
				continue
			}
			w := b.words[i]
			if f.kind == kPercent {
				if p, ok := percentWord(w); ok {
					b.target[f.name] = int(p)
					b.used[i] = true
					return
				}
			}
			num, m, _, ok := parseNumber(b.words[i:])
			if !ok || w == "a" || w == "an" || w == "half" && f.kind != kPercent {
				continue
			}
			if f.kind == kPercent && num > 0 && num < 1 {
				num *= 100
			}
			if f.max != nil && num > *f.max || f.min != nil && num < *f.min {
				continue
			}
			if f.kind == kNumber {
				b.target[f.name] = num
			} else {
				b.target[f.name] = int(math.Round(num))
			}
			b.mark(i, i+m)
			return
		}
		if f.name == "steps" {
			for i, w := range b.words {
				if (w == "previous" || w == "last") && !b.used[i] {
					b.target[f.name] = 1
					b.used[i] = true
					return
				}
			}
		}
	case kUnit:
		for i, t := range b.toks {
			if !b.used[i] && unitSuffix.MatchString(t.norm) {
				b.target[f.name] = t.norm
				b.used[i] = true
				return
			}
		}
		b.single(f, []string{"service", "daemon", "unit"})
	case kPackage:
		b.single(f, []string{"package", "packages", "program", "app"})
	case kPath:
		for i, t := range b.toks {
			if !b.used[i] && pathLike.MatchString(t.orig) && !isDigits(strings.ReplaceAll(t.orig, ".", "")) {
				b.target[f.name] = cleanPath(t.orig)
				b.used[i] = true
				return
			}
		}
	case kApp, kText, kArgv, kTags:
		// Free text found without a template fills only a field the
		// action cannot do without; an optional filter stays empty rather
		// than swallow words that were meant otherwise.
		if !f.required {
			return
		}
		rest := b.rest()
		if len(rest) == 0 {
			return
		}
		if f.kind == kApp && b.appExists != nil {
			var parts []string
			for _, i := range rest {
				parts = append(parts, b.toks[i].orig)
			}
			if !b.appExists(strings.Join(parts, " ")) {
				return
			}
		}
		switch f.kind {
		case kArgv:
			var args []string
			for _, i := range rest {
				args = append(args, b.toks[i].orig)
			}
			b.target[f.name] = args
		case kTags:
			var tags []string
			for _, i := range rest {
				tags = append(tags, strings.ToLower(b.toks[i].orig))
			}
			b.target[f.name] = tags
		default:
			var parts []string
			for _, i := range rest {
				parts = append(parts, b.toks[i].orig)
			}
			if i := rest[0]; f.kind == kText && i >= 2 && b.words[i-1] == "with" && !stopwords[b.words[i-2]] {
				// "meeting with Bob at 3": the title is the meeting with Bob.
				parts = append([]string{b.toks[i-2].orig, b.toks[i-1].orig}, parts...)
			}
			// Words that are not a value the field takes (its pattern,
			// or only vague words) leave it missing, so that the
			// question for it is asked.
			var words []string
			for _, i := range rest {
				words = append(words, b.words[i])
			}
			named := f.kind != kText || !vague(words)
			if f.kind == kUnit || f.kind == kPackage || f.kind == kApp {
				// "close all windows" names no process.
				named = !vague(words) && !onlyKinds(words)
			}
			if v := strings.Join(parts, " "); f.allows(v) && named {
				b.target[f.name] = v
			}
		}
		for _, i := range rest {
			b.used[i], b.soft[i] = true, true
			if f.kind == kText {
				b.text[i] = true
			}
		}
	}
}

// typed reports a word taken by a typed value (a number, a time, a value
// word), as opposed to free text.
func (b *binding) typed(i int) bool { return b.used[i] && !b.soft[i] }

// rest is the unexplained content words, edges trimmed of stopwords.
func (b *binding) rest() []int {
	var idx []int
	for i := range b.toks {
		if b.free(i) {
			idx = append(idx, i)
		}
	}
	for len(idx) > 0 && stopwords[b.words[idx[0]]] {
		idx = idx[1:]
	}
	for len(idx) > 0 && stopwords[b.words[idx[len(idx)-1]]] {
		idx = idx[:len(idx)-1]
	}
	return idx
}

// single takes the one word after a cue ("package vim") or the only
// unexplained content word.
func (b *binding) single(f *field, cues []string) {
	for i, w := range b.words {
		for _, c := range cues {
			if w == c && i+1 < len(b.words) && b.free(i+1) && !stopwords[b.words[i+1]] {
				b.target[f.name] = strings.ToLower(b.toks[i+1].orig)
				b.used[i], b.used[i+1] = true, true
				return
			}
			if w == c && i > 0 && b.free(i-1) && !stopwords[b.words[i-1]] {
				b.target[f.name] = strings.ToLower(b.toks[i-1].orig)
				b.used[i], b.used[i-1] = true, true
				return
			}
		}
	}
	if !f.required {
		return
	}
	rest := b.rest()
	var content []int
	for _, i := range rest {
		if !stopwords[b.words[i]] {
			content = append(content, i)
		}
	}
	if len(content) == 1 {
		b.target[f.name] = strings.ToLower(b.toks[content[0]].orig)
		b.used[content[0]], b.soft[content[0]] = true, true
	}
}

func (b *binding) anyUsed(i, j int) bool {
	for k := i; k < j && k < len(b.used); k++ {
		if b.used[k] {
			return true
		}
	}
	return false
}

// enumAt matches a value phrase for f starting at token i (not past
// end); it returns the value and words used.
func (b *binding) enumAt(f *field, i, end int) (string, int) {
	best, bestN := "", 0
	for _, vw := range b.s.values[b.words[i]] {
		if vw.field != f.name || len(vw.words) > end-i || len(vw.words) <= bestN {
			continue
		}
		ok := true
		for k, w := range vw.words {
			if b.words[i+k] != w {
				ok = false
				break
			}
		}
		if ok {
			best, bestN = vw.value, len(vw.words)
		}
	}
	if best == "" {
		// A typo of a single-word value ("perfomance").
		for _, v := range f.enum {
			if wordDistance(b.words[i], v, nil) > 0 && !strings.Contains(v, "-") {
				return v, 1
			}
		}
	}
	return best, bestN
}

// polarity reads on/off for a boolean field. Fields that name an
// off-state (muted) read the other way round.
func (b *binding) polarity(f *field, i, j int) (bool, bool) {
	negative := f.name == "muted" || f.name == "disabled" || f.name == "hidden"
	for k := i; k < j; k++ {
		w := b.words[k]
		switch {
		case f.name == "muted" && (w == "mute" || w == "silence" || w == "silent" || w == "muted"):
			b.used[k] = true
			return true, true
		case f.name == "muted" && (w == "unmute" || w == "unmuted"):
			b.used[k] = true
			return false, true
		case onWords[w]:
			b.used[k] = true
			return !negative, true
		case offWords[w]:
			b.used[k] = true
			return negative, true
		}
	}
	return false, false
}
