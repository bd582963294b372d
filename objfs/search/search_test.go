package search

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAnalyzer(t *testing.T) {
	a := NewAnalyzer()
	got := a.Terms("The Runners were RUNNING quickly; café Ünïcode ﬂour x 7 and 42-b, naïve résumé")
	want := []string{"runner", "run", "quick", "cafe", "unicod", "flour", "7", "42", "naiv", "resum"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("terms\n got %q\nwant %q", got, want)
	}
	toks := a.Tokens("alpha beta")
	if len(toks) != 2 || toks[1].Start != 6 || toks[1].End != 10 {
		t.Fatalf("offsets: %+v", toks)
	}
	if terms := a.Terms(strings.Repeat("x", 100) + " ok"); len(terms) != 1 || terms[0] != "ok" {
		t.Fatalf("long runs are not words: %q", terms)
	}
	counts, n := a.Counts("cat cat dog the")
	if n != 3 || counts["cat"] != 2 || counts["dog"] != 1 {
		t.Fatalf("counts %v %d", counts, n)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	tfs := []TermFreq{{1, 3}, {2, 1}, {900000, 70000}, {1<<32 - 1, 1}}
	got, err := DecodeTerms(nil, EncodeTerms(tfs))
	if err != nil || !reflect.DeepEqual(got, tfs) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range [][]byte{{0x80}, {1, 0}, {1, 1, 0, 1}} {
		if _, err := DecodeTerms(nil, bad); err == nil {
			t.Errorf("%x decoded", bad)
		}
	}
	v := []float32{0.5, -1, 3}
	if got, err := DecodeVector(EncodeVector(v), 3); err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("vector: %v %v", got, err)
	}
	if _, err := DecodeVector([]byte{0, 0, 0xc0, 0x7f}, 1); err == nil {
		t.Fatal("NaN accepted")
	}
}

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	text, f, err := ParseQuery(`notes type:md tag:Work in:~/docs after:2026-01-01 before:7d "quoted" a:b`, "/home/u", now)
	if err != nil {
		t.Fatal(err)
	}
	if text != `notes "quoted" a:b` {
		t.Fatalf("text %q", text)
	}
	if !reflect.DeepEqual(f.Kinds, []string{"markdown"}) || !reflect.DeepEqual(f.Tags, []string{"work"}) ||
		!reflect.DeepEqual(f.Folders, []string{"/home/u/docs"}) || f.After.Year() != 2026 || !f.Before.Equal(now.AddDate(0, 0, -7)) {
		t.Fatalf("filters %+v", f)
	}
	for _, bad := range []string{"type:exe", "in:relative", "after:soon", "tag:../x"} {
		if _, _, err := ParseQuery(bad, "/home/u", now); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	m := Meta{Path: "/home/u/docs/a.md", Kind: "markdown", ModTime: now.AddDate(0, 0, -30).Unix(), Tags: []string{"work"}}
	if !f.Match(m) {
		t.Fatal("filters reject a matching document")
	}
	m.Path = "/home/u/docsother/a.md"
	if f.Match(m) {
		t.Fatal("folder filter matched a sibling folder with the same prefix")
	}
}

func TestSnippet(t *testing.T) {
	a := NewAnalyzer()
	text := strings.Repeat("filler words here. ", 40) + "The gradient descent optimiser trains neural networks.\n\n" + strings.Repeat("more filler. ", 40)
	s := a.Snippet(text, map[string]bool{"gradient": true, "neural": true})
	if !strings.Contains(s, "gradient descent") || !strings.Contains(s, "neural") || !strings.HasPrefix(s, "…") || strings.Contains(s, "\n") {
		t.Fatalf("snippet %q", s)
	}
	if s := a.Snippet("short text", nil); s != "short text" {
		t.Fatalf("no-match snippet %q", s)
	}
}

// corpus makes documents on a few topics with shared background words.
func corpus(n int) ([]Doc, [][]TermFreq, func(string) []QueryTerm) {
	a := NewAnalyzer()
	dict := map[string]uint32{}
	id := func(t string) uint32 {
		if v, ok := dict[t]; ok {
			return v
		}
		dict[t] = uint32(len(dict) + 1)
		return dict[t]
	}
	topics := [][]string{
		{"neural", "network", "gradient", "training", "layer", "model", "learning"},
		{"garden", "tomato", "soil", "compost", "seed", "water", "harvest"},
		{"budget", "invoice", "tax", "payment", "bank", "expense", "salary"},
	}
	background := []string{"report", "week", "note", "plan", "today", "people", "time", "work"}
	rng := rand.New(rand.NewPCG(1, 2))
	var docs []Doc
	var fwd [][]TermFreq
	for i := 0; i < n; i++ {
		tp := topics[i%len(topics)]
		var words []string
		for j := 0; j < 40; j++ {
			if rng.IntN(2) == 0 {
				words = append(words, tp[rng.IntN(len(tp))])
			} else {
				words = append(words, background[rng.IntN(len(background))])
			}
		}
		counts, l := a.Counts(strings.Join(words, " "))
		var tfs []TermFreq
		for t, c := range counts {
			tfs = append(tfs, TermFreq{ID: id(t), TF: uint32(c)})
		}
		SortTerms(tfs)
		docs = append(docs, Doc{Key: int64(i), Len: l, Terms: tfs, Meta: Meta{Kind: "text"}})
		fwd = append(fwd, tfs)
	}
	query := func(s string) []QueryTerm {
		counts, _ := a.Counts(s)
		var q []QueryTerm
		for t, c := range counts {
			if v, ok := dict[t]; ok {
				q = append(q, QueryTerm{ID: v, Weight: float64(c)})
			}
		}
		return q
	}
	return docs, fwd, query
}

func TestRankHybrid(t *testing.T) {
	docs, fwd, query := corpus(300)
	ix := Build(docs, 0, 0)
	basis, err := LearnBasis(context.Background(), fwd, ix.DF, len(docs), BasisOptions{Seed: 1})
	if err != nil || basis == nil {
		t.Fatalf("basis: %v", err)
	}
	for i := range docs {
		docs[i].Semantic = basis.Project(docs[i].Terms)
	}
	ix = Build(docs, basis.K, 0)
	q := query("neural gradient")
	hits := ix.Rank(Query{Terms: q, Semantic: Fold(basis.K, q, basis.Terms), Limit: 20}, DefaultParams())
	if len(hits) != 20 {
		t.Fatalf("%d hits", len(hits))
	}
	for _, h := range hits {
		if h.Key%3 != 0 {
			t.Fatalf("hit %d is off topic (score %.3f lex %.3f sem %.3f)", h.Key, h.Score, h.Lexical, h.Semantic)
		}
		if h.Semantic <= 0 {
			t.Fatalf("no semantic signal on %+v", h)
		}
	}
	// Filters apply before ranking.
	allow := func(d int) bool { return ix.Key(d) > 150 }
	for _, h := range ix.Rank(Query{Terms: q, Allow: allow, Limit: 5}, DefaultParams()) {
		if h.Key <= 150 {
			t.Fatalf("filtered document %d returned", h.Key)
		}
	}
	if hits := ix.Rank(Query{Terms: query("zebra"), Limit: 5}, DefaultParams()); len(hits) != 0 {
		t.Fatalf("unknown word found %v", hits)
	}
	// The basis projects a document like its neighbours.
	if LearnBasisTooSmall(t) {
		t.Fatal("a tiny corpus got a model")
	}
}

func LearnBasisTooSmall(t *testing.T) bool {
	docs, fwd, _ := corpus(10)
	ix := Build(docs, 0, 0)
	b, err := LearnBasis(context.Background(), fwd, ix.DF, len(docs), BasisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b != nil
}

func TestBasisIsDeterministic(t *testing.T) {
	docs, fwd, _ := corpus(200)
	ix := Build(docs, 0, 0)
	a, _ := LearnBasis(context.Background(), fwd, ix.DF, len(docs), BasisOptions{Seed: 5})
	b, _ := LearnBasis(context.Background(), fwd, ix.DF, len(docs), BasisOptions{Seed: 5})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different model")
	}
}

func TestIndexPersists(t *testing.T) {
	docs, fwd, query := corpus(120)
	ix := Build(docs, 0, 0)
	basis, _ := LearnBasis(context.Background(), fwd, ix.DF, len(docs), BasisOptions{})
	for i := range docs {
		docs[i].Semantic = basis.Project(docs[i].Terms)
		docs[i].Meta.Tags = []string{"t"}
	}
	ix = Build(docs, basis.K, 0)
	var buf strings.Builder
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadIndex(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ix, back) {
		t.Fatal("index differs after a round trip")
	}
	q := query("garden soil")
	a := ix.Rank(Query{Terms: q, Semantic: Fold(basis.K, q, basis.Terms), Limit: 10}, DefaultParams())
	b := back.Rank(Query{Terms: q, Semantic: Fold(basis.K, q, basis.Terms), Limit: 10}, DefaultParams())
	if !reflect.DeepEqual(a, b) {
		t.Fatal("rankings differ")
	}
	s := buf.String()
	if _, err := ReadIndex(strings.NewReader(s[:len(s)-5])); err == nil {
		t.Fatal("truncated file read")
	}
}
