package objfs

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noema-project/noema/objfs/search"
)

func TestVocabulary(t *testing.T) {
	v, err := ParseVocabulary([]byte("# comment\n\nBird Watching: heron, egret, great crested grebe\ncooking: oven\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Tags) != 2 || v.Tags[0].Tag != "bird-watching" {
		t.Fatalf("%+v", v.Tags)
	}
	a := search.NewAnalyzer()
	doc := a.Terms("A heron stood still while a great crested grebe dived; later an egret. The oven was cold.")
	if got := v.Match(doc); len(got) != 1 || got[0] != "bird-watching" {
		t.Fatalf("match %v", got)
	}
	for _, bad := range []string{"no colon here", "a/../b: x", "dup: a\ndup: b"} {
		if _, err := ParseVocabulary([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if v, err := LoadVocabulary(filepath.Join(t.TempDir(), "missing.txt")); err != nil || len(v.Tags) == 0 {
		t.Fatalf("missing file: default vocabulary expected: %v", err)
	}
}

// fakeEmbedServer answers Ollama's /api/embed with bag-of-words vectors
// hashed into 64 dimensions. No model server runs in the test
// environment, so this stands in for Ollama to exercise the protocol and
// the fusion, not the model.
func fakeEmbedServer(t *testing.T, calls *int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/embed" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "fake-embed" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		*calls++
		var out struct {
			Embeddings [][]float32 `json:"embeddings"`
		}
		for _, s := range req.Input {
			v := make([]float32, 64)
			for _, w := range strings.Fields(strings.ToLower(s)) {
				h := fnv.New32a()
				h.Write([]byte(strings.Trim(w, ".,;")))
				v[h.Sum32()%64]++
			}
			v[0] += 0.01
			out.Embeddings = append(out.Embeddings, v)
		}
		json.NewEncoder(w).Encode(out)
	}))
}

func TestEmbeddingsJoinTheRanking(t *testing.T) {
	calls := 0
	srv := fakeEmbedServer(t, &calls)
	defer srv.Close()
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("kayak paddle river"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("river bank loan"), 0o644)
	st := openTest(t, Options{Embedder: NewHTTPEmbedder(srv.URL, "fake-embed")})
	if _, err := st.Index(ctx, []string{dir}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("documents were not embedded")
	}
	before := calls
	hits, err := st.Search(ctx, Query{Text: "kayak river"})
	if err != nil || len(hits) != 2 || !strings.HasSuffix(hits[0].Path, "a.txt") {
		t.Fatalf("%+v %v", hits, err)
	}
	if calls != before+1 {
		t.Fatal("the query was not embedded")
	}
	// A server that fails does not stop searching.
	srv.Close()
	if hits, err := st.Search(ctx, Query{Text: "kayak"}); err != nil || len(hits) != 1 {
		t.Fatalf("search without the model server: %+v %v", hits, err)
	}
}

func TestParseEmbeddings(t *testing.T) {
	v, err := parseEmbeddings([]byte(`{"embeddings":[[3,4],[0,2]]}`), false)
	if err != nil || math.Abs(float64(v[0][0])-0.6) > 1e-6 {
		t.Fatalf("%v %v", v, err)
	}
	if _, err := parseEmbeddings([]byte(`{"data":[{"embedding":[1,0]}]}`), true); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"embeddings":[[1],[1,2]]}`, `{"embeddings":[[0,0]]}`, `{"embeddings":[[]]}`, `nope`} {
		if _, err := parseEmbeddings([]byte(bad), false); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func FuzzParseVocabulary(f *testing.F) {
	f.Add([]byte(DefaultVocabulary))
	f.Add([]byte("a: b\n# c\nd:\n:e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVocabulary(data)
		if err != nil {
			return
		}
		for _, tag := range v.Tags {
			if _, err := search.NormalizeTag(tag.Tag); err != nil {
				t.Fatalf("tag %q: %v", tag.Tag, err)
			}
		}
		v.Match([]string{"a", "b", "c"})
	})
}

func FuzzParseEmbeddings(f *testing.F) {
	f.Add([]byte(`{"embeddings":[[1,2,3]]}`), false)
	f.Add([]byte(`{"data":[{"embedding":[1e38,1e38]}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, openai bool) {
		vecs, err := parseEmbeddings(data, openai)
		if err != nil {
			return
		}
		for _, v := range vecs {
			n := 0.0
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatal("non-finite value accepted")
				}
				n += float64(x) * float64(x)
			}
			if math.Abs(n-1) > 1e-3 {
				t.Fatalf("not unit length: %v", n)
			}
		}
	})
}
