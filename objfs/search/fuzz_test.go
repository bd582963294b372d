package search

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"notes type:pdf", "tag:work in:~/x after:2024-01-01 before:3d", "a:b:c", "in:", ":::", "type:", "after:99999999d", "tag:" + strings.Repeat("é", 70)} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		text, flt, err := ParseQuery(s, "/home/u", now)
		if err != nil {
			return
		}
		if len(text) > len(s) {
			t.Fatalf("text grew: %q from %q", text, s)
		}
		for _, d := range flt.Folders {
			if !strings.HasPrefix(d, "/") {
				t.Fatalf("relative folder %q", d)
			}
		}
		for _, tag := range flt.Tags {
			if _, err := NormalizeTag(tag); err != nil {
				t.Fatalf("tag %q does not normalise: %v", tag, err)
			}
		}
		flt.Match(Meta{Path: "/home/u/a", Kind: "text"})
	})
}

func FuzzDecodeTerms(f *testing.F) {
	f.Add(EncodeTerms([]TermFreq{{1, 2}, {5, 1}}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		tfs, err := DecodeTerms(nil, b)
		if err != nil {
			return
		}
		for i := 1; i < len(tfs); i++ {
			if tfs[i].ID <= tfs[i-1].ID || tfs[i].TF == 0 {
				t.Fatalf("decoded an unsorted or empty vector: %v", tfs)
			}
		}
		back, err := DecodeTerms(nil, EncodeTerms(tfs))
		if err != nil || len(back) != len(tfs) {
			t.Fatalf("re-encoding failed: %v", err)
		}
	})
}

func FuzzDecodeVector(f *testing.F) {
	f.Add(EncodeVector([]float32{1, 2}), 2)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		v, err := DecodeVector(b, n%64)
		if err == nil && len(v)*4 != len(b) {
			t.Fatal("length mismatch accepted")
		}
	})
}

func FuzzAnalyzer(f *testing.F) {
	for _, s := range []string{"The quick brown fox", "ﬂour café naïve", "\xff\xfe bad utf8", "x" + strings.Repeat("ab", 60)} {
		f.Add(s)
	}
	a := NewAnalyzer()
	f.Fuzz(func(t *testing.T, s string) {
		toks := a.Tokens(s)
		for _, tk := range toks {
			if tk.Start < 0 || tk.End > len(s) || tk.Start >= tk.End || tk.Term == "" || !utf8.ValidString(tk.Term) {
				t.Fatalf("bad token %+v in %q", tk, s)
			}
		}
		terms := map[string]bool{}
		for _, tk := range toks {
			terms[tk.Term] = true
		}
		sn := a.Snippet(s, terms)
		if len(sn) > snippetMaxBytes+8 || !utf8.ValidString(sn) {
			t.Fatalf("snippet %q", sn)
		}
	})
}

func FuzzReadIndex(f *testing.F) {
	docs, _, _ := corpus(20)
	docs[0].Semantic = []float32{1, 0}
	var buf strings.Builder
	Build(docs, 2, 0).WriteTo(&buf)
	f.Add([]byte(buf.String()))
	f.Add([]byte(indexMagic + "\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ReadIndex(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		// A file that reads must be safe to query.
		for id := uint32(0); id < 8; id++ {
			ix.Rank(Query{Terms: []QueryTerm{{ID: id, Weight: 1}}, Semantic: make([]float32, ix.semDim), Limit: 3}, DefaultParams())
		}
	})
}
