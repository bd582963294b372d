package objfs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatcherVersionsChanges runs a real inotify watch: a burst of writes
// becomes one version after the debounce, new folders are watched, a
// removal becomes a deletion version, and changes made while nothing
// watched are caught up at start.
func TestWatcherVersionsChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("waits on the file system")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	st := openTest(t, Options{})
	before := filepath.Join(dir, "before.txt")
	os.WriteFile(before, []byte("written before the watch began"), 0o644)
	if _, err := st.Index(ctx, []string{dir}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(before, []byte("changed while nothing watched"), 0o644)
	batches := make(chan WatchBatch, 16)
	w, err := st.NewWatcher(ctx, WatchOptions{Debounce: 300 * time.Millisecond, OnBatch: func(b WatchBatch) { batches <- b }})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	wait := func(what string, ok func(WatchBatch) bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case b := <-batches:
				if ok(b) {
					return
				}
			case err := <-errc:
				t.Fatalf("watcher stopped: %v", err)
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	wait("the catch-up rescan", func(b WatchBatch) bool { return b.Rescan })
	if vs, _ := st.Versions(ctx, before); len(vs) != 2 {
		t.Fatalf("catch-up: %d versions", len(vs))
	}
	// A burst of writes is one version.
	notes := filepath.Join(dir, "notes.md")
	for i := 0; i < 5; i++ {
		os.WriteFile(notes, []byte("draft "+string(rune('a'+i))), 0o644)
		time.Sleep(20 * time.Millisecond)
	}
	wait("the burst", func(b WatchBatch) bool { return len(b.Versions) > 0 })
	if vs, _ := st.Versions(ctx, notes); len(vs) != 1 {
		t.Fatalf("burst of writes made %d versions", len(vs))
	}
	if data, _ := st.ReadVersion(ctx, mustCurrent(t, st, notes)); string(data) != "draft e" {
		t.Fatalf("burst stored %q", data)
	}
	// A new folder, and a file in it.
	sub := filepath.Join(dir, "trip")
	os.Mkdir(sub, 0o755)
	time.Sleep(100 * time.Millisecond)
	plan := filepath.Join(sub, "plan.txt")
	os.WriteFile(plan, []byte("train to the coast"), 0o644)
	wait("the new folder's file", func(b WatchBatch) bool {
		for _, v := range b.Versions {
			if v.Path == plan {
				return true
			}
		}
		return false
	})
	if hits, _ := st.Search(ctx, Query{Text: "coast train"}); len(hits) != 1 {
		t.Fatalf("watched file not searchable: %+v", hits)
	}
	// Hidden files are left alone; a removal is a deletion version.
	os.WriteFile(filepath.Join(dir, ".swap"), []byte("x"), 0o644)
	os.Remove(plan)
	wait("the deletion", func(b WatchBatch) bool { return len(b.Versions) > 0 && b.Versions[0].Deleted })
	if _, err := st.Versions(ctx, filepath.Join(dir, ".swap")); err == nil {
		t.Fatal("a hidden file was versioned")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func mustCurrent(t *testing.T, st *Store, path string) string {
	t.Helper()
	v, err := st.Current(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}
