package fusefs

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEntryNames(t *testing.T) {
	for _, tc := range []struct {
		paths  []string
		ranked bool
		taken  []string
		want   []string
	}{
		{[]string{"/a/notes.md"}, true, nil, []string{"01 notes.md"}},
		{[]string{"/h/u/work/notes.md", "/x/ml.txt", "/h/u/play/notes.md"}, false, nil,
			[]string{"notes (work).md", "ml.txt", "notes (play).md"}},
		{[]string{"/h/u/work/notes.md", "/h/u/play/notes.md"}, true, nil,
			[]string{"01 notes (work).md", "02 notes (play).md"}},
		// The same last folder: go up until they differ.
		{[]string{"/a/x/n.md", "/b/x/n.md"}, false, nil, []string{"n (a-x).md", "n (b-x).md"}},
		{[]string{"/n.md", "/a/n.md"}, false, nil, []string{"n (root).md", "n (a).md"}},
		{[]string{"/a/.bashrc", "/b/.bashrc"}, false, nil, []string{".bashrc (a)", ".bashrc (b)"}},
		{[]string{"/a/Makefile", "/b/Makefile"}, false, nil, []string{"Makefile (a)", "Makefile (b)"}},
		{[]string{"/a/ml", "/a/x.txt"}, false, []string{"ml"}, []string{"ml~2", "x.txt"}},
		{[]string{"/a/ml.txt"}, false, []string{"ml.txt"}, []string{"ml~2.txt"}},
	} {
		taken := make(map[string]bool)
		for _, n := range tc.taken {
			taken[n] = true
		}
		if got := entryNames(tc.paths, tc.ranked, taken); !slices.Equal(got, tc.want) {
			t.Errorf("entryNames(%q, %v) = %q, want %q", tc.paths, tc.ranked, got, tc.want)
		}
	}
}

func TestEntryNamesRankWidth(t *testing.T) {
	var paths []string
	for i := range 120 {
		paths = append(paths, "/d/f"+strconv.Itoa(i)+".txt")
	}
	got := entryNames(paths, true, nil)
	if got[0] != "001 f0.txt" || got[119] != "120 f119.txt" {
		t.Errorf("first and last of 120: %q %q", got[0], got[119])
	}
}

func TestEntryNamesLong(t *testing.T) {
	long := "/d/" + strings.Repeat("é", 200) + ".txt" // 400 bytes of name
	other := "/e/" + strings.Repeat("é", 200) + ".txt"
	for _, n := range entryNames([]string{long, other}, true, nil) {
		if len(n) > maxName || !utf8.ValidString(n) || !strings.HasSuffix(n, ".txt") {
			t.Errorf("%d bytes, valid %v: %q", len(n), utf8.ValidString(n), n)
		}
	}
}

// FuzzEntryNames: whatever paths the store holds, the names are usable
// (no slash, no NUL, not . or .., at most NAME_MAX bytes) and unique.
func FuzzEntryNames(f *testing.F) {
	f.Add("/a/notes.md\n/b/notes.md\n/c/x", true)
	f.Add("/\n.\n..\n/a/\x00", false)
	f.Fuzz(func(t *testing.T, list string, ranked bool) {
		paths := strings.Split(list, "\n")
		names := entryNames(paths, ranked, map[string]bool{"x": true})
		if len(names) != len(paths) {
			t.Fatalf("%d names for %d paths", len(names), len(paths))
		}
		seen := map[string]bool{"x": true}
		for _, n := range names {
			if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") || len(n) > maxName {
				t.Fatalf("unusable name %q", n)
			}
			if seen[n] {
				t.Fatalf("%q twice in %q", n, names)
			}
			seen[n] = true
		}
	})
}
