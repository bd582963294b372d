// Package translate turns plain words into typed action drafts, offline
// and in milliseconds, from the catalog's own manifests: T1 matches the
// utterance templates each action declares (with typo tolerance, optional
// words and typed slots for numbers, times, durations, names and free
// text); T2 ranks actions by how well their vocabulary explains the words
// when no template fits. A calibrated decision then selects, asks one
// question, or refuses with a reason — it never guesses its way into an
// action. Compound requests are split into ordered steps.
//
// The translator proposes; it has no way to execute anything.
package translate

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/noema-project/noema/action"
)

// Status of a plan, as in `noema plan --json`.
type Status string

const (
	Ready     Status = "READY"
	Clarify   Status = "NEEDS_CLARIFICATION"
	Rejected  Status = "REJECTED"
	Partial   Status = "PARTIAL"
	NoMatch          = "NoMatchingCapability"
	Ambiguous        = "AmbiguousRequest"
)

// Step is one proposed action.
type Step struct {
	Action     string          `json:"action"`
	Target     json.RawMessage `json:"target"`
	Confidence float64         `json:"confidence"`
	Tier       string          `json:"tier"`
	Text       string          `json:"text"`
}

// Plan is the translation of an utterance.
type Plan struct {
	Status    Status   `json:"status"`
	Tier      string   `json:"tier"`
	Steps     []Step   `json:"steps"`
	Questions []string `json:"questions,omitempty"`
	Refusal   string   `json:"refusal,omitempty"`
	Message   string   `json:"message,omitempty"`
	// Volatile is set when the plan depends on the current time
	// ("tomorrow at nine"), so it must not be reused later.
	Volatile bool `json:"-"`
}

// Translator holds the compiled catalog.
type Translator struct {
	specs []*spec
	// known holds every word that identifies an action (template, alias,
	// value and title words), for typo decisions, with the actions that
	// use it literally: a name slot may not take another action's word.
	known map[string]wordUse
	// stems maps a word stem to its entry in vocab, the weighted
	// vocabulary T2 ranks with; both are built when a request first
	// reaches T2.
	stems map[string]int32
	vocab []stemPostings
	n     int
	// AppExists, when set, says whether words name an installed
	// application; free words are read as an app to open only then.
	AppExists func(string) bool
	// UnitExists and CommandExists, when set, say whether a name is a
	// systemd unit or a program on PATH: one that is either and no
	// installed application is not read as an application ("start
	// docker" starts the service, "run ls" runs the program).
	UnitExists, CommandExists func(string) bool

	vocabOnce sync.Once
	byLenOnce sync.Once
	byLen     map[int][]string
}

// wordUse says which actions use a word literally: in a template, an
// alias or a value word.
type wordUse struct {
	action int32 // the first action using it literally; -1 when none
	shared bool  // more than one action uses it literally
}

// stemPostings are the actions whose vocabulary has a word stem.
type stemPostings struct {
	idf   float64
	posts []posting
}

// posting is one action's weight for a word stem.
type posting struct {
	spec int32
	// valueOnly marks a word the action knows only as a target value: it
	// binds a field but does not identify the action.
	valueOnly bool
	w         float64
}

// New compiles the catalog's manifests.
func New(manifests []action.Manifest) *Translator {
	t := &Translator{specs: make([]*spec, 0, len(manifests)), known: make(map[string]wordUse, 512), n: len(manifests)}
	size := 0
	for _, m := range manifests {
		for _, u := range m.Utterances {
			size += len(u)
		}
	}
	a := newArena(size)
	// Templates and the words that identify an action are needed for
	// every request (T1); the weighted vocabulary is built only when a
	// request reaches T2.
	var walk wordWalker
	for i, m := range manifests {
		s := newSpec(m, a)
		s.idx = int32(i)
		t.specs = append(t.specs, s)
		walk.each(s, false, func(word string, w float64, _ bool) {
			u, ok := t.known[word]
			if !ok {
				u.action = -1
			}
			if w >= 1 {
				switch {
				case u.action < 0:
					u.action = s.idx
				case u.action != s.idx:
					u.shared = true
				}
			}
			t.known[word] = u
		})
	}
	return t
}

// notApp reports a name that is a unit or a program and no application.
func (t *Translator) notApp(name string) bool {
	if t.AppExists != nil && t.AppExists(name) {
		return false
	}
	return t.UnitExists != nil && t.UnitExists(name) || t.CommandExists != nil && t.CommandExists(name)
}

// literalElsewhere reports whether an action other than s uses word
// literally.
func (t *Translator) literalElsewhere(word string, s *spec) bool {
	u, ok := t.known[word]
	return ok && u.action >= 0 && (u.shared || u.action != s.idx)
}

// wordWalker walks the vocabulary words of actions, reusing its buffers.
type wordWalker struct {
	buf []string
	tw  []tplWord
}

// each calls fn for every vocabulary word of s with its weight: template
// words (1, or 0.7 when only optional), aliases and value words (1), the
// title (0.6) and, when full, examples (0.5) and the description (0.3).
// free marks template and alias words, which name the action rather than
// a value of it.
func (ww *wordWalker) each(s *spec, full bool, fn func(word string, w float64, free bool)) {
	m := s.m
	add := func(text string, w float64, free bool) {
		ww.buf = appendVocabWords(ww.buf[:0], text)
		for _, word := range ww.buf {
			if !stopwords[word] && word != "," && !strings.HasPrefix(word, "{") {
				fn(word, w, free)
			}
		}
	}
	// Words a template requires are stronger evidence than words it only
	// allows.
	ww.tw = ww.tw[:0]
	for _, tpl := range s.templates {
		ww.tw = literalWords(tpl.seq, false, ww.tw)
	}
	for _, x := range ww.tw {
		w := 1.0
		if x.optional {
			w = 0.7
		}
		add(x.word, w, true)
	}
	for _, a := range m.Aliases {
		add(a, 1, true)
	}
	for _, vws := range s.values {
		for _, vw := range vws {
			for _, word := range vw.words {
				add(word, 1, false)
			}
		}
	}
	add(m.Title, 0.6, false)
	if full {
		for _, ex := range m.Examples {
			add(ex.Text, 0.5, false)
		}
		add(m.Description, 0.3, false)
	}
}

// postings returns the vocabulary entry of a word stem.
func (t *Translator) postings(stem string) (stemPostings, bool) {
	id, ok := t.stems[stem]
	if !ok {
		return stemPostings{}, false
	}
	return t.vocab[id], true
}

// weight is an action's posting for a word stem.
func (t *Translator) weight(stem string, s *spec) (posting, bool) {
	sp, _ := t.postings(stem)
	for _, p := range sp.posts {
		if p.spec == s.idx {
			return p, true
		}
	}
	return posting{}, false
}

// vocabulary builds the weighted vocabulary T2 ranks with, once: the
// identifying words plus examples and descriptions. The postings of all
// stems share one block.
func (t *Translator) vocabulary() {
	t.vocabOnce.Do(func() {
		type entry struct {
			stem int32
			p    posting
		}
		// Sized from the catalog's text: a word every 9 bytes or so, a
		// new stem every 33.
		size := t.textSize()
		t.stems = make(map[string]int32, size/32)
		entries := make([]entry, 0, size/8)
		var walk wordWalker
		var free []string
		for _, s := range t.specs {
			free = free[:0]
			walk.each(s, true, func(word string, w float64, isFree bool) {
				st := stem(word)
				id, ok := t.stems[st]
				if !ok {
					id = int32(len(t.stems))
					t.stems[st] = id
				}
				entries = append(entries, entry{id, posting{spec: s.idx, w: w}})
				if isFree {
					free = append(free, st)
				}
			})
			// Words an action knows only as target values bind a field but
			// do not identify the action; the mark carries no weight.
			for _, vws := range s.values {
				for _, vw := range vws {
					for _, w := range vw.words {
						st := stem(w)
						if id, ok := t.stems[st]; ok && !slices.Contains(free, st) {
							entries = append(entries, entry{id, posting{spec: s.idx, valueOnly: true, w: -1}})
						}
					}
				}
			}
		}
		start := make([]int32, len(t.stems)+1)
		for _, e := range entries {
			start[e.stem+1]++
		}
		for i := 1; i < len(start); i++ {
			start[i] += start[i-1]
		}
		posts := make([]posting, len(entries))
		next := slices.Clone(start)
		for _, e := range entries {
			posts[next[e.stem]] = e.p
			next[e.stem]++
		}
		t.vocab = make([]stemPostings, len(t.stems))
		for id := range t.vocab {
			// An action's entries for a stem are adjacent (actions were
			// walked in order): merge them to the highest weight.
			ps := posts[start[id]:start[id+1]]
			out := ps[:0]
			for _, p := range ps {
				if n := len(out); n > 0 && out[n-1].spec == p.spec {
					out[n-1].w = max(out[n-1].w, p.w)
					out[n-1].valueOnly = out[n-1].valueOnly || p.valueOnly
					continue
				}
				out = append(out, p)
			}
			out = slices.DeleteFunc(out, func(p posting) bool { return p.w < 0 })
			t.vocab[id] = stemPostings{idf: math.Log(1 + float64(t.n)/float64(len(out))), posts: out}
		}
	})
}

func (t *Translator) vocabHas(w string) bool { _, ok := t.known[w]; return ok }

// timeDependent reports a step with a time or date field.
func (t *Translator) timeDependent(st Step) bool {
	for _, s := range t.specs {
		if s.m.Name == st.Action {
			return s.hasKind(kTime)
		}
	}
	return false
}

// vocabWords splits catalog text into lower-case words.
func vocabWords(text string) []string { return appendVocabWords(nil, text) }

// appendVocabWords appends the lower-case words of catalog text to dst,
// without allocating for words already in lower case: it runs for every
// manifest on every start.
func appendVocabWords(dst []string, text string) []string {
	isWord := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '\'' || c >= 0x80
	}
	for i := 0; i < len(text); {
		if !isWord(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isWord(text[j]) {
			j++
		}
		f := strings.Trim(text[i:j], "-'")
		i = j
		if f == "" {
			continue
		}
		f = lowerASCII(f)
		if ex, ok := contractions[f]; ok {
			dst = append(dst, ex...)
			continue
		}
		dst = append(dst, f)
	}
	return dst
}

// lowerASCII lowers s, allocating only when it has upper-case letters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// mend repairs two slips the templates cannot see past: "turn of the
// wifi" (off), and hyphenated words whose parts Noema knows but whose
// whole it does not ("dark-mode", "night-light").
func (t *Translator) mend(toks []token) []token {
	out := make([]token, 0, len(toks))
	for i, tk := range toks {
		if tk.norm == "of" && i > 0 && (toks[i-1].norm == "turn" || toks[i-1].norm == "switch" || toks[i-1].norm == "shut") {
			tk = token{norm: "off", orig: "off"}
		}
		if strings.Contains(tk.norm, "-") && !strings.HasPrefix(tk.norm, "-") && !t.vocabHas(tk.norm) {
			norms, origs := strings.Split(tk.norm, "-"), strings.Split(tk.orig, "-")
			if len(norms) == len(origs) && !slices.ContainsFunc(norms, func(w string) bool { return !t.vocabHas(w) }) {
				for j := range norms {
					out = append(out, token{norm: norms[j], orig: origs[j]})
				}
				continue
			}
		}
		out = append(out, tk)
	}
	return out
}

// Translate plans text; now resolves relative times (in now's location).
func (t *Translator) Translate(text string, now time.Time) Plan {
	toks := stripFiller(t.mend(expand(tokenize(text))))
	if len(toks) == 0 {
		return Plan{Status: Rejected, Tier: "T1", Refusal: NoMatch, Message: "nothing to do", Steps: []Step{}}
	}
	steps, qs, status := t.segments(toks, &pass{now: now, left: passBudget}, 0, nil)
	p := Plan{Status: status, Steps: steps, Questions: qs, Tier: "T1"}
	for _, s := range steps {
		if s.Tier == "T2" {
			p.Tier = "T2"
		}
		if t.timeDependent(s) {
			p.Volatile = true
		}
	}
	if p.Steps == nil {
		p.Steps = []Step{}
	}
	switch status {
	case Rejected:
		p.Refusal = NoMatch
		p.Message = "Noema has no action for that."
	case Clarify:
		if len(p.Questions) == 0 {
			p.Questions = []string{"Could you say that differently?"}
		}
	}
	return p
}

// pass is one translation: the instant times are read against, and
// what is left of its budget of segment readings. A request with many
// conjunctions ("a; b; c; …") can be split in exponentially many ways;
// the budget bounds the work any request causes.
type pass struct {
	now  time.Time
	left int
}

// passBudget is the segment readings one translation may make: a long
// list of requests needs a few dozen.
const passBudget = 300

// maxDepth bounds how many times a request is split; a list may have
// this many parts.
const maxDepth = 32

// candidate is one reading of a segment.
type candidate struct {
	s        *spec
	target   map[string]any
	missing  []string
	conf     float64
	coverage float64 // share of content words explained by vocabulary or typed values
	absorbed float64 // share taken by free text
	words    int     // content words read (T2)
	// specific: a word of the reading is shared by few actions (T2);
	// "turn off the screen" has none, "running programs" has.
	specific bool
	// ask, when set, is the only answer: the words read as the action
	// but ask for something it cannot do (a time it cannot wait for).
	ask    string
	tier   string
	anchor bool
	strong bool // an explaining word belongs to very few actions
	// foreignVerb: a command whose first word the action does not know.
	foreignVerb bool
	score       float64
}

func (c *candidate) step(text string) Step {
	b, _ := json.Marshal(c.target)
	return Step{Action: c.s.m.Name, Target: b, Confidence: math.Round(c.conf*1000) / 1000, Tier: c.tier, Text: text}
}

// segments plans toks, splitting at conjunctions when the whole does not
// read as one action.
//
// prev is the part before toks in a list ("switch off wifi, bluetooth and
// …"): a part that does not read alone may borrow its verb.
func (t *Translator) segments(toks []token, p *pass, depth int, prev []token) ([]Step, []string, Status) {
	if p.left <= 0 {
		return nil, nil, Rejected
	}
	p.left--
	now := p.now
	best := t.best(toks, now)
	status, q := verdict(best)
	if status == Ready && (best.tier == "T1" && !best.swallowedTimes() || !hasSep(toks)) || depth > maxDepth {
		return stepsOf(best, toks, status), q, status
	}
	if status == Ready {
		// A retrieval reading of words with a conjunction in them may be
		// two requests read as one ("switch off wifi, bluetooth and turn on
		// airplane mode"); the split wins when every part reads.
		steps, qs, st := t.split(toks, p, depth, prev)
		switch {
		case st == Ready:
			return steps, qs, st
		case st == Partial && len(steps) > 0 && best.coverage < 1:
			// The one reading leaves words out ("turn on wifi and open
			// it" is not one Wi-Fi request): do the part that reads and
			// ask about the rest rather than drop it.
			return steps, qs, st
		}
		return stepsOf(best, toks, status), q, status
	}
	if steps, qs, st, ok := t.trySplit(toks, p, depth, prev); ok {
		return steps, qs, st
	}
	return stepsOf(best, toks, status), q, status
}

// swallowedTimes reports free text that took a time the action has a slot
// for, which in words with a conjunction is a list read as one request:
// "create alarms for 8 pm and 9 pm" read as an event titled "alarms for
// 8 pm" at 9 pm is two alarms, not one event.
func (c *candidate) swallowedTimes() bool {
	times, durations := c.s.hasKind(kTime), c.s.hasKind(kDuration) || c.s.hasKind(kMinutes)
	if !times && !durations {
		return false
	}
	for _, f := range c.s.fields {
		v, ok := c.target[f.name].(string)
		if f.kind != kText || !ok {
			continue
		}
		words := strings.Fields(strings.ToLower(v))
		for i := range words {
			if _, _, ok := parseWhen(words[i:], time.Time{}); ok && times {
				return true
			}
			if _, _, ok := parseDuration(words[i:]); ok && durations {
				return true
			}
		}
	}
	return false
}

// anotherLen is the length of words at the start of toks that stand for
// "the same again" ("another", "one more", "a second one").
func anotherLen(toks []token) int {
	words := make([]string, 0, 3)
	for _, t := range toks[:min(3, len(toks))] {
		words = append(words, t.norm)
	}
	for _, p := range [][]string{{"another", "one"}, {"one", "more"}, {"a", "second", "one"}, {"a", "second"}, {"another"}, {"one"}} {
		if len(words) >= len(p) && slices.Equal(words[:len(p)], p) {
			return len(p)
		}
	}
	return 0
}

func hasSep(toks []token) bool {
	for i := 1; i < len(toks)-1; i++ {
		if sepLen(toks, i) > 0 {
			return true
		}
	}
	return false
}

// split is trySplit's result, or REJECTED when there is no split.
func (t *Translator) split(toks []token, p *pass, depth int, prev []token) ([]Step, []string, Status) {
	steps, qs, st, ok := t.trySplit(toks, p, depth, prev)
	if !ok {
		return nil, nil, Rejected
	}
	return steps, qs, st
}

// onlyRetrieved reports steps that all came from T2.
func onlyRetrieved(steps []Step) bool {
	for _, st := range steps {
		if st.Tier != "T2" {
			return false
		}
	}
	return len(steps) > 0
}

// borrow reads part with the leading words of the part before it, shortest
// verb first that makes it read; a template reading beats a retrieval one
// ("turn off … night light": "turn night light" retrieves a theme, "turn
// off night light" matches the night-light template).
func (t *Translator) borrow(before, part []token, p *pass, depth int) ([]Step, []string, Status) {
	if len(part) > 0 && commandVerbs[part[0].norm] {
		// A part with a verb of its own ("… and open the first one")
		// does not take the verb before it.
		return nil, nil, Rejected
	}
	var fs []Step
	var fq []string
	for k := 1; k < len(before); k++ {
		borrowed := append(append([]token{}, before[:k]...), part...)
		bs, bq, bst := t.segments(borrowed, p, depth+1, nil)
		if bst != Ready {
			continue
		}
		if !onlyRetrieved(bs) {
			return bs, bq, bst
		}
		if fs == nil {
			fs, fq = bs, bq
		}
	}
	if fs != nil {
		return fs, fq, Ready
	}
	return nil, nil, Rejected
}

// trySplit splits at the first conjunction whose left side reads, and
// plans both sides; the right side may borrow the left side's verb.
func (t *Translator) trySplit(toks []token, p *pass, depth int, prev []token) ([]Step, []string, Status, bool) {
	now := p.now
	for i := 1; i < len(toks)-1; i++ {
		n := sepLen(toks, i)
		if n == 0 {
			continue
		}
		left, right := toks[:i], toks[i+n:]
		ls, lq, lst := t.segments(left, p, depth+1, nil)
		verbs := left // where a verb-less part after this one borrows from
		if lst != Ready && len(prev) > 0 {
			ls, lq, lst = t.borrow(prev, left, p, depth)
			verbs = prev
		}
		if lst != Ready || len(ls) == 0 {
			continue
		}
		var rs []Step
		var rq []string
		rst := Rejected
		if k := anotherLen(right); k > 0 && k < len(right) {
			// "set an alarm for 6am and another for 7am": "another" stands
			// for the left side's request.
			right = right[k:]
		} else {
			rs, rq, rst = t.segments(right, p, depth+1, verbs)
		}
		if as, ok := t.again(ls[len(ls)-1], right, now); ok {
			// "turn off wifi, then turn it back on": "it" is Wi-Fi.
			rs, rq, rst = as, nil, Ready
		}
		if rst != Ready || onlyRetrieved(rs) {
			// "turn on bluetooth and wifi": the right side borrows the
			// left side's verb, and a template reading with the verb beats
			// a retrieval reading without it ("…, bluetooth and night light").
			if bs, bq, bst := t.borrow(verbs, right, p, depth); bst == Ready && (rst != Ready || !onlyRetrieved(bs)) {
				rs, rq, rst = bs, bq, bst
			}
		}
		all := append(ls, rs...)
		qs := append(lq, rq...)
		switch {
		case rst == Ready:
			return all, qs, Ready, true
		case len(rs) > 0 || rst == Clarify:
			return all, qs, Partial, true
		default:
			return ls, append(qs, "I did not understand \""+origJoin(right)+"\"."), Partial, true
		}
	}
	return nil, nil, Rejected, false
}

// again reads toks, which say "it" for their object, as another request
// of the action of the step before: after "turn off wifi", "turn it back
// on" switches Wi-Fi back on, not the sound. Every word must be one the
// action knows or a value it takes.
func (t *Translator) again(prev Step, toks []token, now time.Time) ([]Step, bool) {
	if !slices.ContainsFunc(toks, func(tk token) bool { return tk.norm == "it" || tk.norm == "its" || tk.norm == "them" }) {
		return nil, false
	}
	i := slices.IndexFunc(t.specs, func(s *spec) bool { return s.m.Name == prev.Action })
	if i < 0 {
		return nil, false
	}
	// Another action on the same thing: "restart nginx and check its
	// status" takes the unit from the part before.
	if c := t.reading(toks, now); c != nil && c.ask == "" && c.s.m.Name != prev.Action && len(c.missing) > 0 {
		var before map[string]any
		json.Unmarshal(prev.Target, &before)
		target := maps.Clone(c.target)
		for _, f := range c.missing {
			if v, ok := before[f]; ok && c.s.field(f) != nil {
				target[f] = v
			}
		}
		if len(c.s.missing(target)) == 0 {
			c.target, c.missing = target, nil
			return []Step{c.step(origJoin(toks))}, true
		}
	}
	s := t.specs[i]
	t.vocabulary()
	b := newBinding(s, toks, nil, now)
	b.fill()
	if len(b.target) == 0 || len(s.missing(b.target)) > 0 {
		return nil, false
	}
	for i, w := range b.words {
		if stopwords[w] || w == "," || w == "back" || w == "again" || b.used[i] && !b.text[i] {
			continue
		}
		if p, ok := t.weight(stem(w), s); !ok || p.w < 0.6 {
			return nil, false
		}
	}
	c := &candidate{s: s, target: b.target, tier: prev.Tier, conf: prev.Confidence}
	return []Step{c.step(origJoin(toks))}, true
}

func stepsOf(c *candidate, toks []token, status Status) []Step {
	if c == nil || status != Ready {
		return nil
	}
	return []Step{c.step(origJoin(toks))}
}

// sepLen is the length of a conjunction at toks[i], or 0.
func sepLen(toks []token, i int) int {
	w := toks[i].norm
	switch w {
	case ",", ";":
		if i+1 < len(toks) && (toks[i+1].norm == "and" || toks[i+1].norm == "then") {
			if i+2 < len(toks) && toks[i+2].norm == "then" {
				return 3
			}
			return 2
		}
		return 1
	case "and", "then", "also", "plus":
		if w == "and" && i+1 < len(toks) && toks[i+1].norm == "then" {
			return 2
		}
		if w == "and" && inRange(toks, i) {
			return 0
		}
		return 1
	case "after":
		if i+1 < len(toks) && toks[i+1].norm == "that" {
			return 2
		}
	}
	return 0
}

// inRange reports an "and" that closes a range ("between 9 and 10:30"),
// which joins two bounds of one request rather than two requests.
func inRange(toks []token, i int) bool {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if toks[j].norm == "between" {
			return true
		}
	}
	return false
}

// verdict decides what a candidate allows.
func verdict(c *candidate) (Status, []string) {
	if c == nil {
		return Rejected, nil
	}
	if c.ask != "" {
		return Clarify, []string{c.ask}
	}
	if c.tier == "T1" {
		if len(c.missing) == 0 {
			return Ready, nil
		}
		return Clarify, []string{c.s.question(c.missing[0])}
	}
	switch {
	case c.anchor && c.coverage >= 0.7 && len(c.missing) == 0 && c.conf >= 0.6 && !c.foreignVerb:
		return Ready, nil
	case !c.foreignVerb && c.specific && c.words >= 3 && c.coverage >= 0.99 && c.score >= 0.95 && len(c.missing) == 0:
		// No word is rare enough to name the action alone, but every word
		// belongs to it ("show me the list of running programs").
		return Ready, nil
	case c.strong && !c.foreignVerb && c.coverage >= 0.4 && c.coverage+c.absorbed >= 0.99 && c.score >= 0.15 && len(c.missing) == 0:
		// The action's words are there and the rest is its free text
		// ("remind me to water the plants in an hour").
		return Ready, nil
	case c.anchor && c.coverage >= 0.6 && len(c.missing) > 0:
		return Clarify, []string{c.s.question(c.missing[0])}
	case c.anchor && c.coverage >= 0.6 && c.conf >= 0.45, c.strong && c.coverage >= 0.5:
		return Clarify, []string{"Did you mean: " + strings.ToLower(c.s.m.Title) + "?"}
	}
	return Rejected, nil
}

// best returns the best reading of a whole segment.
func (t *Translator) best(toks []token, now time.Time) *candidate {
	c := t.reading(toks, now)
	if c != nil && c.ask == "" && !c.s.m.ReadOnly && askingAbout(norms(toks)) {
		if st, _ := verdict(c); st != Ready {
			return c
		}
		// "is wifi on?" asks about the state; it never changes it.
		c.ask = fmt.Sprintf("That is a question Noema cannot answer; did you mean: %s?", strings.ToLower(c.s.m.Title))
	}
	return c
}

func (t *Translator) reading(toks []token, now time.Time) *candidate {
	if c := t.repeating(toks, now); c != nil {
		return c
	}
	if c := t.tier1(toks, now); c != nil {
		return c
	}
	if c := t.later(toks, now); c != nil {
		return c
	}
	return t.tier2(toks, now)
}

// askingAbout reports a question about how things are ("is wifi on",
// "what is the brightness"), as opposed to a request that happens to
// start with a verb like "do" ("do not disturb").
func askingAbout(words []string) bool {
	if len(words) == 0 {
		return false
	}
	switch words[0] {
	case "is", "are", "am", "was", "were", "does", "did", "what", "which", "how", "who", "where", "why":
		return true
	case "do":
		return len(words) > 1 && words[1] != "not"
	case "have", "has":
		// "have I got …" asks; "have a timer …" does not.
		return len(words) > 1 && (words[1] == "i" || words[1] == "you" || words[1] == "we" || words[1] == "it" || words[1] == "the")
	}
	return false
}

// repeating reads a request that a template reads but for a repetition
// ("remind me every day at 9 to stand up"): nothing in the catalog
// repeats, so Noema says so rather than let retrieval read the rest as
// something else.
func (t *Translator) repeating(toks []token, now time.Time) *candidate {
	words := norms(toks)
	for i, w := range words {
		n := 0
		switch {
		case w == "daily" || w == "weekly" || w == "hourly" || w == "nightly":
			n = 1
		case (w == "every" || w == "each") && i+1 < len(words):
			k := i + 1
			if words[k] == "other" && k+1 < len(words) {
				k++
			}
			if _, day := weekdays[words[k]]; day || timeUnits[stem(words[k])] {
				n = k + 1 - i
			}
		}
		if n == 0 {
			continue
		}
		rest := slices.Concat(toks[:i], toks[i+n:])
		// The rest may lack its time: the repetition said it ("every
		// monday").
		c := t.tier1(rest, now)
		if c == nil || !c.s.hasKind(kTime) && !c.s.hasKind(kDuration) {
			return nil
		}
		c.ask = fmt.Sprintf("Noema cannot repeat %q (%s); ask without the repetition to set the next one.", c.s.m.Title, origJoin(toks[i:i+n]))
		return c
	}
	return nil
}

// timeUnits are what a repetition counts in ("every day", "each week").
var timeUnits = map[string]bool{
	"minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true, "morning": true,
	"evening": true, "night": true, "afternoon": true, "weekday": true, "weekend": true, "time": true,
}

// later reads a request that a template reads but for a time at its end
// the action has no field for ("put the computer to sleep in 10
// minutes"): Noema cannot wait to do it, and says so rather than let
// retrieval read the words as something that takes a time.
func (t *Translator) later(toks []token, now time.Time) *candidate {
	words := norms(toks)
	for k := 1; k < len(words); k++ {
		_, n, _, ok := parseWhenDay(words[k:], now)
		if !ok || k+n != len(words) {
			continue
		}
		c := t.tier1(toks[:k], now)
		if c == nil || len(c.missing) > 0 || c.s.hasKind(kTime) || c.s.hasKind(kDuration) || c.s.hasKind(kMinutes) {
			return nil
		}
		c.ask = fmt.Sprintf("Noema cannot schedule %q (%s); ask without the time to do it now.", c.s.m.Title, origJoin(toks[k:]))
		return c
	}
	return nil
}

func (t *Translator) tier1(toks []token, now time.Time) *candidate {
	var best *candidate
	bestLits, bestTypos := -1, 0
	pres := newPresence(toks, t.vocabHas)
	for _, s := range t.specs {
		for _, tpl := range s.templates {
			if !pres.possible(tpl.seq) {
				continue
			}
			otherWord := func(w string) bool { return t.literalElsewhere(w, s) }
			m := tpl.matchAll(toks, t.vocabHas, s.acceptSpan(toks, now, otherWord, t.AppExists, t.notApp))
			if m == nil || m.literals == 0 {
				continue
			}
			b := newBinding(s, toks, m.used, now)
			b.fixed(tpl.binds)
			ok := true
			for f, sp := range m.spans {
				if !b.span(f, sp) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			b.fill()
			c := &candidate{s: s, target: b.target, missing: s.missing(b.target), tier: "T1", anchor: true, coverage: 1}
			c.conf = 0.97 - 0.03*float64(m.typos)
			if len(c.missing) > 0 {
				c.conf -= 0.2
			}
			better := best == nil ||
				(len(c.missing) == 0 && len(best.missing) > 0) ||
				(len(c.missing) == len(best.missing) && (m.literals > bestLits || m.literals == bestLits && m.typos < bestTypos))
			if better {
				best, bestLits, bestTypos = c, m.literals, m.typos
			}
		}
	}
	return best
}

// tier2 ranks actions by vocabulary and binds slots generically.
func (t *Translator) tier2(toks []token, now time.Time) *candidate {
	t.vocabulary()
	words := norms(toks)
	var content []int
	for i, w := range words {
		if !stopwords[w] && w != "," {
			content = append(content, i)
		}
	}
	if len(content) == 0 {
		return nil
	}
	maxIDF := math.Log(1 + float64(t.n))
	// Resolve each content word to a vocabulary stem (typos allowed).
	stems := make([]string, len(words))
	for _, i := range content {
		st := stem(words[i])
		if _, ok := t.stems[st]; !ok && !t.vocabHas(words[i]) && len(words[i]) >= 4 {
			if fix := t.correct(words[i]); fix != "" {
				st = stem(fix)
			}
		}
		stems[i] = st
	}
	total := 0.0
	for _, i := range content {
		if sp, ok := t.postings(stems[i]); ok {
			total += sp.idf
		} else {
			total += maxIDF
		}
	}
	type scored struct {
		s     *spec
		score float64
	}
	var ranked []scored
	for _, s := range t.specs {
		sc := 0.0
		for _, i := range content {
			if p, ok := t.weight(stems[i], s); ok {
				sc += p.w * t.vocab[t.stems[stems[i]]].idf
			}
		}
		if sc > 0 {
			ranked = append(ranked, scored{s, sc / total})
		}
	}
	sort.Slice(ranked, func(i, j int) bool { return ranked[i].score > ranked[j].score })
	if len(ranked) > 5 {
		ranked = ranked[:5]
	}
	var best *candidate
	anchorIDF := math.Log(1 + float64(t.n)/6)
	question := isQuestion(words)
	for _, r := range ranked {
		used := make([]bool, len(toks))
		anchor, strong, specific := false, false, false
		strongIDF := math.Log(1 + float64(t.n)/3)
		specificIDF := math.Log(1 + float64(t.n)/8)
		for _, i := range content {
			// Words only from descriptions and examples rank an action
			// but do not explain a word: they may be slot content.
			if p, ok := t.weight(stems[i], r.s); ok && p.w >= 0.6 {
				used[i] = true
				if p.valueOnly || genericWords[words[i]] || isVague(words[i]) {
					continue
				}
				idf := t.vocab[t.stems[stems[i]]].idf
				if idf >= anchorIDF {
					anchor = true
				}
				if idf >= specificIDF {
					specific = true
				}
				if idf >= strongIDF && stems[i] == stem(words[i]) {
					strong = true
				}
			}
		}
		if r.s.m.ReadOnly && lookingVerbs[words[content[0]]] {
			// "check what is on my calendar": any read-only action reads.
			used[content[0]] = true
		}
		b := newBinding(r.s, toks, used, now)
		b.appExists = t.AppExists
		b.fill()
		explained, absorbed := 0, 0
		for _, i := range content {
			switch {
			case b.lit[i] || b.typed(i):
				explained++
			case b.text[i]:
				absorbed++
			}
		}
		c := &candidate{s: r.s, target: b.target, missing: r.s.missing(b.target), tier: "T2", anchor: anchor, strong: strong, score: r.score}
		// The first word of a command is its verb: when the action does
		// not know it ("take 5 minutes off my timer" is not "start a
		// timer"), the reading may ask but not proceed.
		first := content[0]
		// Nor is it when the verb only became free text and names
		// another action ("delete all my files" is no search for
		// "delete") or asks to look at something.
		w0 := words[first]
		asText := b.text[first] && (lookingVerbs[w0] || !genericWords[w0] && t.literalElsewhere(w0, r.s))
		c.foreignVerb = !question && (!b.explained(first) || asText)
		c.coverage = float64(explained) / float64(len(content))
		c.words, c.specific = len(content), specific
		c.absorbed = float64(absorbed) / float64(len(content))
		c.conf = 0.5*r.score + 0.5*(c.coverage+0.5*c.absorbed)
		// A question asks for information: between readings of the same
		// words, the one that reads the system wins over one that changes
		// it ("what alarms do I have" lists; it does not set one).
		if question {
			if r.s.m.ReadOnly {
				c.conf += 0.05
			} else {
				c.conf -= 0.05
			}
		}
		if best == nil || better(c, best) {
			best = c
		}
	}
	if best != nil && len(ranked) > 1 {
		// A near tie between two actions is not a confident choice.
		if ranked[0].s == best.s && ranked[1].score > 0.85*ranked[0].score {
			best.conf -= 0.15
		}
	}
	return best
}

// isQuestion reports a request phrased as a question.
func isQuestion(words []string) bool {
	if len(words) == 0 {
		return false
	}
	switch words[0] {
	case "what", "when", "which", "who", "where", "how", "do", "does", "did", "is", "are", "am", "any", "have", "has":
		return true
	}
	return false
}

// lookingVerbs begin a request to read something ("check what is on my
// calendar"): they explain themselves for any read-only action, and no
// action that changes something.
var lookingVerbs = map[string]bool{
	"check": true, "show": true, "tell": true, "see": true, "look": true, "find": true, "give": true,
	"read": true, "list": true, "get": true, "view": true, "display": true, "confirm": true, "verify": true,
}

// commandVerbs begin a request of their own.
var commandVerbs = map[string]bool{
	"open": true, "launch": true, "start": true, "stop": true, "run": true, "execute": true, "kill": true,
	"delete": true, "remove": true, "install": true, "uninstall": true, "search": true, "find": true,
	"set": true, "turn": true, "switch": true, "mute": true, "unmute": true, "create": true, "add": true,
	"schedule": true, "remind": true, "restart": true, "reboot": true, "show": true, "list": true,
	"copy": true, "move": true, "rename": true, "write": true, "read": true, "tag": true, "forget": true,
	"remember": true, "cancel": true, "enable": true, "disable": true, "close": true, "check": true,
}

// genericWords are verbs and question words every kind of request uses;
// they never identify an action by themselves.
var genericWords = map[string]bool{
	"tell": true, "know": true, "what": true, "show": true, "give": true, "get": true, "make": true, "let": true,
	"say": true, "want": true, "need": true, "find": true, "look": true, "see": true, "is": true, "are": true,
	"do": true, "does": true, "have": true, "has": true, "set": true, "put": true, "take": true, "go": true,
	"can": true, "could": true, "would": true, "help": true, "like": true, "how": true, "which": true, "who": true,
	"when": true, "where": true, "why": true, "will": true, "should": true, "new": true, "now": true, "again": true,
	"next": true, "time": true, "screen": true, "display": true,
}

// better orders readings: one that can proceed beats one that must ask,
// which beats one that must be refused; then confidence decides.
func better(a, b *candidate) bool {
	// The reading that explains the words best wins, even if it must ask
	// for a detail; near ties go to the one that can proceed.
	if d := a.conf - b.conf; d > 0.05 || d < -0.05 {
		return d > 0
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra > rb
	}
	return a.conf > b.conf
}

func rank(c *candidate) int {
	switch st, _ := verdict(c); st {
	case Ready:
		return 2
	case Clarify:
		return 1
	}
	return 0
}

// correct maps a misspelt word to a vocabulary word within its typo
// budget, or "". Only words of a near length are compared.
func (t *Translator) correct(w string) string {
	budget := typoBudget(w)
	if budget == 0 {
		return ""
	}
	t.byLenOnce.Do(func() {
		t.byLen = map[int][]string{}
		for k := range t.known {
			n := len([]rune(k))
			t.byLen[n] = append(t.byLen[n], k)
		}
		for _, ws := range t.byLen {
			sort.Strings(ws) // a stable choice among equally close words
		}
	})
	n := len([]rune(w))
	bestD, best := budget+1, ""
	for l := n - budget; l <= n+budget; l++ {
		for _, k := range t.byLen[l] {
			if d := editDistance(w, k, budget); d < bestD {
				bestD, best = d, k
			}
		}
	}
	return best
}

// textSize is the length of the catalog text the vocabulary is built from.
func (t *Translator) textSize() int {
	n := 0
	for _, s := range t.specs {
		m := s.m
		n += len(m.Title) + len(m.Description)
		for _, u := range m.Utterances {
			n += len(u)
		}
		for _, e := range m.Examples {
			n += len(e.Text)
		}
	}
	return n
}
