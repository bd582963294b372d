package translate

import (
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in   string
		val  float64
		n    int
		pct  bool
		fail bool
	}{
		{"20", 20, 1, false, false},
		{"20%", 20, 1, true, false},
		{"20 percent", 20, 2, true, false},
		{"seventy five", 75, 2, false, false},
		{"seventy-five percent", 75, 2, true, false},
		{"a hundred", 100, 2, false, false},
		{"one hundred and twenty", 120, 4, false, false},
		{"half", 0.5, 1, false, false},
		{"2.5", 2.5, 1, false, false},
		{"1,000", 1000, 1, false, false},
		{"twelve minutes", 12, 1, false, false},
		{"a couple of", 2, 3, false, false},
		{"third", 3, 1, false, false},
		{"21st", 21, 1, false, false},
		{"an hour", 0, 0, false, true},
		{"hello", 0, 0, false, true},
		{"one two", 1, 1, false, false},
	}
	for _, c := range cases {
		v, n, pct, ok := parseNumber(strings.Fields(c.in))
		if ok == c.fail || (ok && (v != c.val || n != c.n || pct != c.pct)) {
			t.Errorf("%q: got %v,%d,%v,%v want %v,%d,%v,%v", c.in, v, n, pct, ok, c.val, c.n, c.pct, !c.fail)
		}
	}
}
