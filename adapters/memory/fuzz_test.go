package memory

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRecallQuery checks that whatever a person (or a model) asks, the
// query built from it is valid FTS5 that SQLite accepts, so no input can
// fail a recall with a syntax error or use FTS5 operators.
func FuzzRecallQuery(f *testing.F) {
	for _, s := range []string{"cabin wifi", `NEAR("a" b)`, "title:x*", `"`, "a AND OR NOT", "^start", "col : -x", "ünï 日本語 テスト", "\x00\xff"} {
		f.Add(s)
	}
	ctx := context.Background()
	db, err := openStore(ctx, filepath.Join(f.TempDir(), "memory.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	st := &store{db: db}
	if err := st.insert(ctx, record{ID: "mem_1", Text: "the cabin wifi password is under the fridge", Created: time.Now()}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 2000 {
			return
		}
		if _, err := st.search(ctx, ftsQuery(q), 5); err != nil {
			t.Fatalf("query %q built %q: %v", q, ftsQuery(q), err)
		}
	})
}
