package translate

import (
	"fmt"
	"slices"
	"strings"
)

// A template is one way of saying an action, from the action's manifest:
//
//	(enable|turn on) dark (mode|theme) => mode=dark
//	set [the] brightness to {percent}
//
// Words match words (with a typo budget); (a|b) is a choice; [x] is
// optional; {field} captures words for a target field; after "=>" come
// fixed target values the template implies.
type template struct {
	action string
	src    string
	seq    []elem
	binds  map[string]string
}

// tplWord is a literal word of a template and whether it sits only
// inside optional parts.
type tplWord struct {
	word     string
	optional bool
}

type elemKind uint8

const (
	lit elemKind = iota
	alt
	opt
	slot
)

// elem is one part of a template. It is kept small: a catalog compiles
// thousands of them on every start.
type elem struct {
	kind elemKind
	word string   // lit: the word; slot: the field
	alts [][]elem // alt: the choices; opt: alts[0] is the optional part
}

// arena hands out the element slices of compiled templates from a few
// large blocks: a catalog compiles thousands of elements on every start,
// and many small slices cost a short-lived process more than the parsing.
type arena struct {
	elems []elem
	seqs  [][]elem
	// scratch holds, per nesting depth, the elements and choices being
	// parsed; they are copied into the blocks when complete.
	scratch    [][]elem
	altScratch [][][]elem
}

// newArena sizes the blocks for about n bytes of templates.
func newArena(n int) *arena {
	return &arena{elems: make([]elem, 0, n/4), seqs: make([][]elem, 0, n/8)}
}

// keep copies a finished sequence into the element block.
func (a *arena) keep(es []elem) []elem {
	n := len(a.elems)
	a.elems = append(a.elems, es...)
	return a.elems[n:len(a.elems):len(a.elems)]
}

// keepAlts copies finished choices into the sequence block.
func (a *arena) keepAlts(alts [][]elem) [][]elem {
	n := len(a.seqs)
	a.seqs = append(a.seqs, alts...)
	return a.seqs[n:len(a.seqs):len(a.seqs)]
}

func compileTemplate(a *arena, action, src string) (*template, error) {
	body, binds, _ := strings.Cut(src, "=>")
	t := &template{action: action, src: src}
	p := &tplParser{s: strings.TrimSpace(body), a: a}
	seq, err := p.seq(0)
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", src, err)
	}
	if p.i < len(p.s) {
		return nil, fmt.Errorf("template %q: unexpected %q", src, p.s[p.i:])
	}
	t.seq = seq
	for _, b := range strings.Split(binds, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		k, v, ok := strings.Cut(b, "=")
		if !ok {
			return nil, fmt.Errorf("template %q: binding %q is not field=value", src, b)
		}
		if t.binds == nil {
			t.binds = map[string]string{}
		}
		t.binds[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return t, nil
}

type tplParser struct {
	s string
	i int
	a *arena
}

// choices parses the alternatives of a (…) or […] group up to its
// closing bracket.
func (p *tplParser) choices(depth int, open, close byte, what string) ([][]elem, error) {
	for len(p.a.altScratch) <= depth {
		p.a.altScratch = append(p.a.altScratch, nil)
	}
	p.a.altScratch[depth] = p.a.altScratch[depth][:0]
	for {
		s, err := p.seq(depth + 1)
		if err != nil {
			return nil, err
		}
		p.a.altScratch[depth] = append(p.a.altScratch[depth], s)
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("unclosed %c", open)
		}
		switch p.s[p.i] {
		case '|':
			p.i++
			continue
		case close:
			p.i++
			return p.a.keepAlts(p.a.altScratch[depth]), nil
		}
		return nil, fmt.Errorf("unexpected %q in %s", p.s[p.i], what)
	}
}

// seq parses until a closing bracket or '|' at this depth.
func (p *tplParser) seq(depth int) ([]elem, error) {
	if depth > 8 {
		return nil, fmt.Errorf("nested too deeply")
	}
	for len(p.a.scratch) <= depth {
		p.a.scratch = append(p.a.scratch, nil)
	}
	out := p.a.scratch[depth][:0]
	defer func() { p.a.scratch[depth] = out[:0] }()
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t':
			p.i++
		case c == ')' || c == ']' || c == '|':
			return p.a.keep(out), nil
		case c == '(':
			p.i++
			alts, err := p.choices(depth, '(', ')', "choice")
			if err != nil {
				return nil, err
			}
			out = append(out, elem{kind: alt, alts: alts})
		case c == '[':
			p.i++
			alts, err := p.choices(depth, '[', ']', "option")
			if err != nil {
				return nil, err
			}
			if len(alts) > 1 {
				alts = p.a.keepAlts([][]elem{p.a.keep([]elem{{kind: alt, alts: alts}})})
			}
			out = append(out, elem{kind: opt, alts: alts})
		case c == '{':
			end := strings.IndexByte(p.s[p.i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed {")
			}
			name := strings.TrimSpace(p.s[p.i+1 : p.i+end])
			if name == "" {
				return nil, fmt.Errorf("empty slot")
			}
			out = append(out, elem{kind: slot, word: name})
			p.i += end + 1
		default:
			j := p.i
			for j < len(p.s) && !isTemplateSyntax(p.s[j]) {
				j++
			}
			if j == p.i {
				// Only a stray '}' ends a word before it starts.
				return nil, fmt.Errorf("unexpected %q", c)
			}
			w := strings.Trim(normWord(p.s[p.i:j]), ".,;:!?\"'")
			if ex, ok := contractions[w]; ok {
				for _, e := range ex {
					out = append(out, elem{kind: lit, word: e})
				}
			} else if w != "" {
				out = append(out, elem{kind: lit, word: w})
			}
			p.i = j
		}
	}
	return p.a.keep(out), nil
}

// isTemplateSyntax reports the bytes that end a literal word.
func isTemplateSyntax(c byte) bool {
	switch c {
	case ' ', '\t', '(', ')', '[', ']', '{', '}', '|':
		return true
	}
	return false
}

// literalWords appends the literal words of seq to out, each once; a
// word anywhere required is required.
func literalWords(seq []elem, optional bool, out []tplWord) []tplWord {
	for _, e := range seq {
		switch e.kind {
		case lit:
			i := slices.IndexFunc(out, func(x tplWord) bool { return x.word == e.word })
			switch {
			case i < 0:
				out = append(out, tplWord{e.word, optional})
			case !optional:
				out[i].optional = false
			}
		case alt:
			for _, a := range e.alts {
				out = literalWords(a, optional, out)
			}
		case opt:
			out = literalWords(e.alts[0], true, out)
		}
	}
	return out
}

// match is one way a template covers an utterance.
type match struct {
	spans    map[string][2]int // field → token span [start, end)
	literals int               // literal words matched
	typos    int
	used     []bool // tokens explained by literals
}

// skippable words may appear anywhere without being in the template.
var skippable = map[string]bool{"the": true, "a": true, "an": true, "my": true, "please": true, "to": false, ",": true, "some": true, "this": true, "that": false, "our": true, "your": true, "all": false, "me": false}

// presence answers, for one segment, whether a template word can match
// some token (as wordDistance decides), so that templates that cannot
// match are skipped before the search.
type presence struct {
	toks     []token
	stems    []string
	vocabHas func(string) bool
	typo     map[string]bool // answers that needed an edit distance
}

func newPresence(toks []token, vocabHas func(string) bool) *presence {
	p := &presence{toks: toks, stems: make([]string, len(toks)), vocabHas: vocabHas}
	for i, tk := range toks {
		p.stems[i] = stem(tk.norm)
	}
	return p
}

// possible reports whether seq could match: each literal outside
// options can match a token, and each choice has a possible alternative.
func (p *presence) possible(seq []elem) bool {
	for _, e := range seq {
		switch e.kind {
		case lit:
			if !p.has(e.word) {
				return false
			}
		case alt:
			if !slices.ContainsFunc(e.alts, p.possible) {
				return false
			}
		}
	}
	return true
}

func (p *presence) has(w string) bool {
	st := stem(w)
	for i, tk := range p.toks {
		if tk.norm == w || p.stems[i] == st || inflects(tk.norm, w) {
			return true
		}
	}
	if typoBudget(w) == 0 {
		return false
	}
	if v, ok := p.typo[w]; ok {
		return v
	}
	v := false
	for _, tk := range p.toks {
		if wordDistance(tk.norm, w, p.vocabHas) >= 0 {
			v = true
			break
		}
	}
	if p.typo == nil {
		p.typo = map[string]bool{}
	}
	p.typo[w] = v
	return v
}

// matchAll returns the best full match of t against toks, or nil. A full
// match explains every token by a literal, a slot or a skippable word.
func (t *template) matchAll(toks []token, vocabHas func(string) bool, accept func(field string, i, j int) bool) *match {
	var best *match
	spans := map[string][2]int{}
	used := make([]bool, len(toks))
	steps := 0
	var try func(seq []elem, k int, i int, lits, typos int, cont func(i, lits, typos int) bool) bool
	try = func(seq []elem, k int, i int, lits, typos int, cont func(i, lits, typos int) bool) bool {
		steps++
		if steps > 20000 {
			return false
		}
		// Skippable words between elements.
		if i < len(toks) && skippable[toks[i].norm] {
			if try(seq, k, i+1, lits, typos, cont) {
				return true
			}
		}
		if k == len(seq) {
			return cont(i, lits, typos)
		}
		e := seq[k]
		switch e.kind {
		case lit:
			if i >= len(toks) {
				return false
			}
			d := wordDistance(toks[i].norm, e.word, vocabHas)
			if d < 0 {
				return false
			}
			used[i] = true
			ok := try(seq, k+1, i+1, lits+1, typos+d, cont)
			used[i] = false
			return ok
		case alt:
			for _, a := range e.alts {
				if try(a, 0, i, lits, typos, func(i2, l2, t2 int) bool { return try(seq, k+1, i2, l2, t2, cont) }) {
					return true
				}
			}
			return false
		case opt:
			if try(e.alts[0], 0, i, lits, typos, func(i2, l2, t2 int) bool { return try(seq, k+1, i2, l2, t2, cont) }) {
				return true
			}
			return try(seq, k+1, i, lits, typos, cont)
		case slot:
			// A slot takes at least one word; try shorter spans first so
			// literals after it anchor the end.
			for end := i + 1; end <= len(toks); end++ {
				if toks[end-1].norm == "," {
					break
				}
				if accept != nil && !accept(e.word, i, end) {
					continue
				}
				spans[e.word] = [2]int{i, end}
				if try(seq, k+1, end, lits, typos, cont) {
					return true
				}
			}
			delete(spans, e.word)
			return false
		}
		return false
	}
	try(t.seq, 0, 0, 0, 0, func(i, lits, typos int) bool {
		for i < len(toks) && skippable[toks[i].norm] {
			i++
		}
		if i != len(toks) {
			return false
		}
		m := &match{spans: map[string][2]int{}, literals: lits, typos: typos, used: append([]bool(nil), used...)}
		for f, s := range spans {
			m.spans[f] = s
		}
		if best == nil || m.literals > best.literals || (m.literals == best.literals && m.typos < best.typos) {
			best = m
		}
		// The first full match with the fewest typos is good enough
		// when it has no typos.
		return typos == 0
	})
	return best
}

// wordDistance is 0 for an exact match, the edit distance for a typo
// within budget, or -1.
func wordDistance(have, want string, vocabHas func(string) bool) int {
	if have == want {
		return 0
	}
	if stem(have) == stem(want) || inflects(have, want) {
		return 0
	}
	// A real word of the vocabulary is not a typo of another.
	if vocabHas != nil && vocabHas(have) {
		return -1
	}
	b := typoBudget(want)
	if b == 0 {
		return -1
	}
	if d := editDistance(have, want, b); d <= b {
		return d
	}
	return -1
}

// inflects reports a verb form of want that stem does not fold: a
// dropped "e" ("muting", "closed" for mute, close) or a doubled consonant
// ("running", "stopped" for run, stop).
func inflects(have, want string) bool {
	for _, suf := range []string{"ing", "ed"} {
		base, ok := strings.CutSuffix(have, suf)
		if !ok || len(base) < 2 {
			continue
		}
		if base+"e" == want {
			return true
		}
		if n := len(base); n >= 3 && base[n-1] == base[n-2] && base[:n-1] == want {
			return true
		}
	}
	return false
}

// stem folds plural and simple verb endings so "files" matches "file"
// and "turning" matches "turn".
func stem(w string) string {
	for _, suf := range []string{"ing", "ies", "es", "s", "ed"} {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			base := strings.TrimSuffix(w, suf)
			if suf == "ies" {
				base += "y"
			}
			return base
		}
	}
	return w
}
