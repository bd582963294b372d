package memory

import (
	"strings"
	"unicode"
)

// Limits on a recall query.
const (
	maxQueryTerms = 32
	maxTermRunes  = 64
)

// stopwords are left out of a query unless nothing else is left: in an OR
// query they would match nearly every memory.
var stopwords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "about": true, "as": true, "at": true, "be": true,
	"by": true, "do": true, "for": true, "from": true, "how": true, "i": true, "in": true, "is": true,
	"it": true, "know": true, "me": true, "my": true, "of": true, "on": true, "or": true, "that": true,
	"the": true, "this": true, "to": true, "was": true, "what": true, "when": true, "where": true,
	"which": true, "who": true, "with": true, "you": true, "your": true,
}

// terms splits free text into lower-case words of letters and digits.
func terms(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
		w = strings.ToLower(w)
		if r := []rune(w); len(r) > maxTermRunes {
			w = string(r[:maxTermRunes])
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// ftsQuery turns what a person asked into an FTS5 query. Every word is a
// quoted prefix term and the terms are joined with OR, so nothing in the
// input is read as FTS5 syntax (NEAR, column filters, quotes, operators)
// and a memory that shares any word is a candidate; BM25 ranks those that
// share more, and rarer, words first. An empty result means the text
// holds no words.
func ftsQuery(text string) string {
	all := terms(text)
	var keep []string
	for _, w := range all {
		if !stopwords[w] {
			keep = append(keep, w)
		}
	}
	if len(keep) == 0 {
		keep = all
	}
	if len(keep) > maxQueryTerms {
		keep = keep[:maxQueryTerms]
	}
	parts := make([]string, len(keep))
	for i, w := range keep {
		parts[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
	}
	return strings.Join(parts, " OR ")
}
