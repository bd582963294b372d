package translate

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of an utterance, lower-cased, with the original text
// kept for slots that need it (titles, paths, names).
type token struct {
	norm string
	orig string
}

// tokenize splits text into words. Paths, file names, times (9:30),
// percentages and hyphenated words stay whole; other punctuation
// separates words.
func tokenize(text string) []token {
	var out []token
	var cur strings.Builder
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		w := cur.String()
		cur.Reset()
		w = strings.TrimRight(w, ".,;:!?")
		w = strings.TrimLeft(w, "\"'“‘(")
		w = strings.TrimRight(w, "\"'”’)")
		if w == "" {
			return
		}
		out = append(out, token{norm: normWord(w), orig: w})
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			flush()
		case r == '=' && i > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i-1]) && unicode.IsDigit(rs[i+1]):
			// "brightness=60"; "a=b" in a command line stays whole.
			flush()
		case r == ',' || r == ';' || r == '!' || r == '?':
			// A comma inside a number (1,000) stays.
			if r == ',' && i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]) {
				continue
			}
			flush()
			if r == ',' || r == ';' {
				out = append(out, token{norm: ",", orig: string(r)})
			}
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

var apostrophes = strings.NewReplacer("’", "'", "‘", "'")

// normWord lower-cases a word and folds typographic quotes.
func normWord(w string) string {
	// ’ and ‘ both start with the byte 0xE2 in UTF-8.
	if strings.IndexByte(w, 0xE2) >= 0 && strings.ContainsAny(w, "’‘") {
		w = apostrophes.Replace(w)
	}
	return lowerASCII(w)
}

// contractions expand before matching.
var contractions = map[string][]string{
	"what's": {"what", "is"}, "whats": {"what", "is"}, "it's": {"it", "is"}, "that's": {"that", "is"},
	"i'm": {"i", "am"}, "i'd": {"i", "would"}, "i'll": {"i", "will"}, "don't": {"do", "not"},
	"doesn't": {"does", "not"}, "isn't": {"is", "not"}, "can't": {"can", "not"}, "won't": {"will", "not"},
	"let's": {"let", "us"}, "there's": {"there", "is"}, "who's": {"who", "is"}, "how's": {"how", "is"},
	"wifi": {"wifi"}, "wi-fi": {"wifi"}, "wlan": {"wifi"}, "e-mail": {"email"},
	"pls": {"please"}, "plz": {"please"}, "thx": {"thanks"}, "u": {"you"}, "ur": {"your"},
	"gimme": {"give", "me"}, "lemme": {"let", "me"}, "wanna": {"want", "to"}, "@": {"at"},
}

func expand(toks []token) []token {
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if ex, ok := contractions[t.norm]; ok {
			for _, e := range ex {
				out = append(out, token{norm: e, orig: e})
			}
			continue
		}
		out = append(out, t)
	}
	return out
}

// politeness is removed from the edges of a request; it carries no
// meaning for what to do.
var leadingFiller = [][]string{
	{"hey", "noema"}, {"ok", "noema"}, {"noema"}, {"hey"}, {"hi"}, {"ok"}, {"okay"}, {"so"}, {"now"},
	{"please"}, {"kindly"}, {"could", "you", "please"}, {"could", "you"}, {"can", "you", "please"}, {"can", "you"},
	{"would", "you", "please"}, {"would", "you", "mind"}, {"would", "you"}, {"will", "you"},
	{"i", "want", "you", "to"}, {"i", "need", "you", "to"}, {"i", "would", "like", "you", "to"},
	{"i", "would", "like", "to"}, {"i", "want", "to"}, {"i", "need", "to"}, {"i", "wanna"},
	{"go", "ahead", "and"}, {"just"}, {"quickly"}, {"for", "me"}, {"alright"}, {"all", "right"}, {"right"},
	{"well"}, {"um"}, {"uh"}, {"yo"},
}

// Longer fillers come first: "right now" goes whole, not as "now".
var trailingFiller = [][]string{
	{"if", "you", "can"}, {"for", "a", "while"}, {"right", "now"}, {"for", "now"}, {"for", "me"}, {"thank", "you"},
	{"please"}, {"thanks"}, {"now"}, {"asap"}, {"thx"},
}

// stripFiller removes politeness at the edges and reports how many
// tokens it removed.
func stripFiller(toks []token) []token {
	changed := true
	for changed && len(toks) > 0 {
		changed = false
		for _, f := range leadingFiller {
			if hasPrefix(toks, f) && len(toks) > len(f) {
				toks = toks[len(f):]
				changed = true
				break
			}
		}
		for _, f := range trailingFiller {
			if hasSuffix(toks, f) && len(toks) > len(f) {
				toks = toks[:len(toks)-len(f)]
				changed = true
				break
			}
		}
		for len(toks) > 1 && toks[len(toks)-1].norm == "," {
			toks = toks[:len(toks)-1]
			changed = true
		}
	}
	return toks
}

func hasPrefix(toks []token, words []string) bool {
	if len(toks) < len(words) {
		return false
	}
	for i, w := range words {
		if toks[i].norm != w {
			return false
		}
	}
	return true
}

func hasSuffix(toks []token, words []string) bool {
	if len(toks) < len(words) {
		return false
	}
	off := len(toks) - len(words)
	for i, w := range words {
		if toks[off+i].norm != w {
			return false
		}
	}
	return true
}

func norms(toks []token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.norm
	}
	return out
}

func origJoin(toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.orig
	}
	return strings.Join(parts, " ")
}

// editDistance is the Damerau-Levenshtein distance (adjacent swaps count
// once), bounded: it returns max+1 as soon as the distance exceeds max.
func editDistance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	// Rows live on the stack for words of ordinary length.
	var rows [3][33]int
	var prev2, prev, cur []int
	if n := len(rb) + 1; n <= len(rows[0]) {
		prev2, prev, cur = rows[0][:n], rows[1][:n], rows[2][:n]
	} else {
		prev2, prev, cur = make([]int, n), make([]int, n), make([]int, n)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// typoBudget is how many edits a word of this length may carry and still
// count as the vocabulary word.
func typoBudget(word string) int {
	// Short words are too often other real words ("might" is not a typo
	// of "night"); only longer ones get a budget.
	n := utf8.RuneCountInString(word)
	switch {
	case n >= 9:
		return 2
	case n >= 6:
		return 1
	}
	return 0
}
