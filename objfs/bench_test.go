package objfs

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkIndex measures indexing throughput (MB/s of text) on
// synthetic notes: reading, chunking, hashing, extracting, analysing,
// storing and learning the LSI model, from an empty store. Two corpora:
// 12,000 notes averaging 4 KB, and 30,000 short ones averaging 1.5 KB,
// where the cost per file weighs most.
func BenchmarkIndex(b *testing.B) {
	for _, bc := range []struct {
		name      string
		n, meanSz int
	}{{"notes-4KB", 12000, 4000}, {"notes-1.5KB", 30000, 1500}} {
		b.Run(bc.name, func(b *testing.B) {
			src := b.TempDir()
			c := newSynthCorpus(1, 40000, 60)
			total := writeCorpus(b, src, c, bc.n, bc.meanSz)
			ctx := context.Background()
			b.SetBytes(total)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, err := Open(ctx, Options{Dir: filepath.Join(b.TempDir(), "store")})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				rep, err := st.Index(ctx, []string{src}, IndexOptions{})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(total)/1e6/time.Since(start).Seconds(), "MB/s-text")
				if rep.New != bc.n {
					b.Fatalf("indexed %d files", rep.New)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkSearch100k measures query latency in process over 100,000
// synthetic notes (about 1.5 KB each), beside SQLite FTS5 BM25 (porter
// stemmer, terms joined by OR, as the search scorer's baseline) over the
// same documents and queries. Half the queries also hold one of the
// corpus's hundred most frequent words. Each iteration runs every query
// once (ten hits, with snippets, for Noema); the p50 and p90 latencies
// are reported. Run with -v for the indexing figures.
func BenchmarkSearch100k(b *testing.B) {
	const n = 100000
	ctx := context.Background()
	src := b.TempDir()
	c := newSynthCorpus(2, 50000, 80)
	var texts []string
	for i := 0; i < n; i++ {
		text, _ := c.doc(1500)
		texts = append(texts, text)
	}
	for i, text := range texts {
		sub := filepath.Join(src, fmt.Sprintf("d%03d", i/1000))
		if i%1000 == 0 {
			os.MkdirAll(sub, 0o755)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("n%06d.txt", i)), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	queries := make([]string, 200)
	for i := range queries {
		queries[i] = c.query(i%len(c.topics), i%2 == 1)
	}
	st, err := Open(ctx, Options{Dir: filepath.Join(b.TempDir(), "store")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	rep, err := st.Index(ctx, []string{src}, IndexOptions{})
	if err != nil {
		b.Fatal(err)
	}
	el := time.Since(start).Seconds()
	b.Logf("indexed %d documents (%.0f MB) in %.1f s: %.1f MB/s", rep.Documents, float64(rep.Bytes)/1e6, el, float64(rep.Bytes)/1e6/el)
	if _, err := st.Search(ctx, Query{Text: queries[0]}); err != nil { // load the snapshot
		b.Fatal(err)
	}
	fts := buildFTS(b, texts)
	defer fts.Close()
	var p50 [2]float64
	for k, run := range []struct {
		name string
		fn   func(q string) error
	}{
		{"noema", func(q string) error {
			hits, err := st.Search(ctx, Query{Text: q, Limit: 10})
			if err == nil && len(hits) == 0 {
				err = fmt.Errorf("no hits for %q", q)
			}
			return err
		}},
		{"fts5-bm25", func(q string) error { return ftsQuery(ctx, fts, q) }},
	} {
		b.Run(run.name, func(b *testing.B) {
			var lat []time.Duration
			for i := 0; i < b.N; i++ {
				for _, q := range queries {
					t0 := time.Now()
					if err := run.fn(q); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
			}
			slices.Sort(lat)
			p50[k] = float64(lat[len(lat)/2].Microseconds()) / 1000
			b.ReportMetric(p50[k], "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
	if p50[1] > 0 {
		b.Logf("query p50: noema %.2f ms, FTS5 BM25 %.2f ms (ratio %.2f)", p50[0], p50[1], p50[0]/p50[1])
	}
}

// buildFTS loads texts into an in-memory FTS5 table like the scorer's
// baseline.
func buildFTS(b *testing.B, texts []string) *sql.DB {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE VIRTUAL TABLE d USING fts5(body, tokenize='porter')`); err != nil {
		b.Fatal(err)
	}
	tx, _ := db.Begin()
	st, _ := tx.Prepare(`INSERT INTO d(rowid, body) VALUES(?, ?)`)
	for i, t := range texts {
		if _, err := st.Exec(i+1, t); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db
}

func ftsQuery(ctx context.Context, db *sql.DB, q string) error {
	var terms []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
	}
	rows, err := db.QueryContext(ctx, `SELECT rowid FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT 10`, strings.Join(terms, " OR "))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
