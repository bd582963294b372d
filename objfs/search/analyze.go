package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// maxTokenBytes drops longer runs of letters and digits: they are hashes,
// base64 or minified code, never words someone searches for.
const maxTokenBytes = 48

// stemCacheLimit bounds an Analyzer's memory; the cache is emptied when
// it grows past this many words.
const stemCacheLimit = 1 << 18

// Token is one indexed word: its stem and where the original word lies in
// the text, so snippets can point at it.
type Token struct {
	Term       string
	Start, End int
}

// Analyzer turns text into index terms: words of letters and digits, lower
// case, accents and compatibility forms (ligatures such as "ﬂ", full-width
// letters) folded, stop words dropped, English words reduced to
// their Snowball stem. The stem cache makes the same word cheap the second
// time; an Analyzer is not safe for concurrent use, so give each goroutine
// its own.
type Analyzer struct {
	stems map[string]string
	fold  transform.Transformer
}

// NewAnalyzer returns an analyzer with an empty cache.
func NewAnalyzer() *Analyzer {
	return &Analyzer{
		stems: make(map[string]string),
		fold:  transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC),
	}
}

// Tokens returns the index terms of text in order.
func (a *Analyzer) Tokens(text string) []Token {
	var out []Token
	a.each(text, func(term string, start, end int) {
		out = append(out, Token{Term: term, Start: start, End: end})
	})
	return out
}

// Terms returns the index terms of text in order.
func (a *Analyzer) Terms(text string) []string {
	var out []string
	a.each(text, func(term string, _, _ int) { out = append(out, term) })
	return out
}

// Counts returns each index term of text with its frequency and the
// number of terms (the document length BM25 normalises by).
func (a *Analyzer) Counts(text string) (map[string]int, int) {
	counts := make(map[string]int)
	n := 0
	a.each(text, func(term string, _, _ int) {
		counts[term]++
		n++
	})
	return counts, n
}

// each calls fn for every index term of text.
func (a *Analyzer) each(text string, fn func(term string, start, end int)) {
	a.words(text, func(word string, start, end int, ascii bool) {
		if t, ok := a.term(word, ascii); ok {
			fn(t, start, end)
		}
	})
}

// words calls fn for every run of letters and digits in text, before any
// normalisation.
func (a *Analyzer) words(text string, fn func(word string, start, end int, ascii bool)) {
	start := -1
	ascii := true
	flush := func(end int) {
		if start < 0 {
			return
		}
		fn(text[start:end], start, end, ascii)
		start, ascii = -1, true
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if isASCIIWordByte(c) {
				if start < 0 {
					start = i
				}
			} else {
				flush(i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			ascii = false
		} else {
			flush(i)
		}
		i += size
	}
	flush(len(text))
}

func isASCIIWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// term normalises one word; ok is false for words that are not indexed.
func (a *Analyzer) term(word string, ascii bool) (string, bool) {
	if len(word) > maxTokenBytes {
		return "", false
	}
	if t, ok := a.stems[word]; ok {
		return t, t != ""
	}
	t := a.normalize(word, ascii)
	if len(a.stems) >= stemCacheLimit {
		clear(a.stems)
	}
	a.stems[word] = t
	return t, t != ""
}

func (a *Analyzer) normalize(word string, ascii bool) string {
	w := strings.ToLower(word)
	if !ascii {
		if f, _, err := transform.String(a.fold, w); err == nil {
			w = f
		}
	}
	if len(w) == 1 && !(w[0] >= '0' && w[0] <= '9') {
		return ""
	}
	if stopwords[w] {
		return ""
	}
	if isASCIILetters(w) && len(w) > 2 {
		return english.Stem(w, true)
	}
	return w
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
