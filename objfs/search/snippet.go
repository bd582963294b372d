package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Snippet sizes.
const (
	snippetTokens   = 24
	snippetMaxBytes = 320
	snippetScan     = 256 << 10
)

// Snippet returns the passage of text that holds the most distinct query
// terms (then the most occurrences) in a window of a couple of dozen
// words, on one line, with "…" where text was cut. Without a match it
// returns the beginning of the text.
func (a *Analyzer) Snippet(text string, terms map[string]bool) string {
	if len(text) > snippetScan {
		cut := snippetScan
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	// Only words that start like a query term can stem to one; the
	// others are kept as positions without being stemmed.
	var initial [256]bool
	for t := range terms {
		if t != "" {
			initial[t[0]] = true
		}
	}
	var toks []Token
	a.words(text, func(word string, start, end int, ascii bool) {
		c := word[0] | 0x20
		if ascii && !initial[c] {
			toks = append(toks, Token{Start: start, End: end})
			return
		}
		t, _ := a.term(word, ascii)
		toks = append(toks, Token{Term: t, Start: start, End: end})
	})
	bestStart, bestDistinct, bestHits := -1, 0, 0
	if len(terms) > 0 {
		count := make(map[string]int)
		distinct, hits := 0, 0
		for i, t := range toks {
			if terms[t.Term] {
				if count[t.Term] == 0 {
					distinct++
				}
				count[t.Term]++
				hits++
			}
			if j := i - snippetTokens; j >= 0 && terms[toks[j].Term] {
				count[toks[j].Term]--
				if count[toks[j].Term] == 0 {
					distinct--
				}
				hits--
			}
			if distinct > bestDistinct || (distinct == bestDistinct && hits > bestHits) {
				bestDistinct, bestHits = distinct, hits
				bestStart = max(0, i-snippetTokens+1)
			}
		}
	}
	if bestStart < 0 || len(toks) == 0 {
		return clip(text, 0, len(text))
	}
	// Start a few words before the first hit in the window.
	first := bestStart
	for first < len(toks) && !terms[toks[first].Term] {
		first++
	}
	first = max(0, first-4)
	last := min(len(toks)-1, first+snippetTokens-1)
	start, end := toks[first].Start, toks[last].End
	if first == 0 {
		start = 0
	}
	return clip(text, start, end)
}

// clip cuts text[start:end] to a line of at most snippetMaxBytes, whitespace
// collapsed and control characters dropped, with ellipses where cut.
func clip(text string, start, end int) string {
	var b strings.Builder
	if hasWord(text[:start]) {
		b.WriteString("…")
	}
	space := false
	cut := false
	for _, r := range text[start:end] {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			continue
		}
		if b.Len()+utf8.RuneLen(r)+1 > snippetMaxBytes {
			cut = true
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if cut || hasWord(text[end:]) {
		b.WriteString("…")
	}
	return b.String()
}

// hasWord reports whether s holds a letter or digit: an ellipsis marks
// cut words, not cut punctuation.
func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}
