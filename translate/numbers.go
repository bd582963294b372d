package translate

import (
	"strconv"
	"strings"
)

var units = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "a": 1, "an": 1, "single": 1, "couple": 2,
}

var tens = map[string]int{"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}

var ordinals = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
	"eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
	"eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "twenty-first": 21, "twenty-second": 22,
	"twenty-third": 23, "thirty-first": 31,
}

// parseNumber reads a number at the start of words: digits ("20",
// "20%", "1,000", "2.5"), words ("seventy five", "twenty-one",
// "a hundred"), "half" (0.5) and "quarter" (0.25). It returns the value,
// how many words it used, and whether a percent sign was attached.
func parseNumber(words []string) (val float64, n int, percent bool, ok bool) {
	if len(words) == 0 {
		return 0, 0, false, false
	}
	w := words[0]
	if s, pct := strings.CutSuffix(w, "%"); pct || isDigits(w) || isDecimal(w) {
		s = strings.ReplaceAll(s, ",", "")
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			n = 1
			if !pct && len(words) > 1 && (words[1] == "%" || words[1] == "percent" || words[1] == "per" && len(words) > 2 && words[2] == "cent") {
				pct = true
				n = 2
				if words[1] == "per" {
					n = 3
				}
			}
			return f, n, pct, true
		}
	}
	switch w {
	case "half":
		return 0.5, 1, false, true
	case "quarter":
		return 0.25, 1, false, true
	}
	total, i := 0, 0
	seen := false
	for i < len(words) {
		x := words[i]
		if a, b, ok := strings.Cut(x, "-"); ok {
			if t, ok1 := tens[a]; ok1 {
				if u, ok2 := units[b]; ok2 && u < 10 && u > 0 {
					total += t + u
					i++
					seen = true
					continue
				}
			}
		}
		if t, ok := tens[x]; ok {
			total += t
			i++
			seen = true
			if i < len(words) {
				if u, ok := units[words[i]]; ok && u > 0 && u < 10 && words[i] != "a" && words[i] != "an" {
					total += u
					i++
				}
			}
			continue
		}
		if x == "a" || x == "an" {
			// An article is a number only before "hundred", "thousand" or
			// "couple" ("a hundred"); "an hour" is the duration parser's.
			if seen || i+1 >= len(words) || (words[i+1] != "hundred" && words[i+1] != "thousand" && words[i+1] != "couple") {
				break
			}
			i++
			if words[i] != "couple" {
				total += 1
				seen = true
			}
			continue
		}
		if x == "couple" {
			total += 2
			i++
			seen = true
			if i < len(words) && words[i] == "of" {
				i++
			}
			continue
		}
		if u, ok := units[x]; ok {
			if seen && total%10 != 0 {
				break
			}
			total += u
			i++
			seen = true
			continue
		}
		if x == "hundred" && seen {
			if total == 0 {
				total = 1
			}
			total *= 100
			i++
			continue
		}
		if x == "thousand" && seen {
			total *= 1000
			i++
			continue
		}
		if x == "and" && seen && i+1 < len(words) {
			if _, ok := units[words[i+1]]; ok && words[i+1] != "a" && words[i+1] != "an" {
				i++
				continue
			}
			if _, ok := tens[words[i+1]]; ok {
				i++
				continue
			}
		}
		break
	}
	if !seen {
		if o, ok := ordinals[w]; ok {
			return float64(o), 1, false, true
		}
		if o, ok := parseOrdinalDigits(w); ok {
			return float64(o), 1, false, true
		}
		return 0, 0, false, false
	}
	n = i
	if n < len(words) && (words[n] == "percent" || words[n] == "%") {
		return float64(total), n + 1, true, true
	}
	return float64(total), n, false, true
}

func parseOrdinalDigits(w string) (int, bool) {
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if s, ok := strings.CutSuffix(w, suf); ok && isDigits(s) {
			v, err := strconv.Atoi(s)
			return v, err == nil
		}
	}
	return 0, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != ',' {
			return false
		}
	}
	return s[0] != ','
}

func isDecimal(s string) bool {
	a, b, ok := strings.Cut(s, ".")
	return ok && isDigits(a) && isDigits(b)
}
