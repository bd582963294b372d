package evindex

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/noema-project/noema/evidence"
)

func TestIndexQueriesAndRebuilds(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	key, _, _ := evidence.LoadOrCreateKey(filepath.Join(home, "keys"))
	dir := filepath.Join(home, "evidence")
	l, err := evidence.Open(ctx, evidence.Options{Dir: dir, RunDir: filepath.Join(home, "run"), Key: key, SegmentBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		act := "act_A"
		if i%3 == 0 {
			act = "act_B"
		}
		if _, err := l.Append(ctx, evidence.Record{Type: "action.transition", ActionID: act, CorrelationID: "cor_1", Data: json.RawMessage(`{"i":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Append(ctx, evidence.Record{Type: "policy.decision", ActionID: "act_B"})
	idxPath := filepath.Join(home, "index", "evidence.db")
	x, err := Open(ctx, idxPath, dir)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := x.Find(ctx, Query{ActionID: "act_B"})
	if err != nil || len(hits) != 11 {
		t.Fatalf("act_B: %d hits, %v", len(hits), err)
	}
	hits, _ = x.Find(ctx, Query{Type: "policy.*"})
	if len(hits) != 1 {
		t.Fatalf("type prefix: %d", len(hits))
	}
	hits, _ = x.Find(ctx, Query{Since: time.Now().Add(time.Hour)})
	if len(hits) != 0 {
		t.Fatalf("future: %d", len(hits))
	}
	rec, err := x.Get(ctx, hits0(t, x).ID)
	if err != nil || rec.Type != "action.transition" {
		t.Fatalf("get: %v %+v", err, rec)
	}
	// Appends after the first sync are picked up incrementally.
	l.Append(ctx, evidence.Record{Type: "late", ActionID: "act_C"})
	if hits, _ := x.Find(ctx, Query{ActionID: "act_C"}); len(hits) != 1 {
		t.Fatalf("incremental: %d", len(hits))
	}
	l.Close()
	x.Close()
	// A corrupt index file is rebuilt from the segments.
	os.WriteFile(idxPath, []byte("not a database"), 0o600)
	os.Remove(idxPath + "-wal")
	x, err = Open(ctx, idxPath, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if hits, _ := x.Find(ctx, Query{}); len(hits) != 32 {
		t.Fatalf("rebuilt index has %d records, want 32", len(hits))
	}
}

func hits0(t *testing.T, x *Index) Hit {
	h, err := x.Find(context.Background(), Query{Limit: 1})
	if err != nil || len(h) != 1 {
		t.Fatal(err)
	}
	return h[0]
}
