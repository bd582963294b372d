package objfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "objfs")
	}
	st, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func put(t *testing.T, st *Store, path string, data []byte) (Version, bool) {
	t.Helper()
	var v Version
	var changed bool
	err := st.Update(context.Background(), func(tx *Tx) error {
		var err error
		v, changed, err = tx.Put(path, bytes.NewReader(data), PutInfo{Mode: 0o640, ModTime: time.Unix(1700000000, 0)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, changed
}

func countChunks(t *testing.T, st *Store) int {
	t.Helper()
	var n int
	if err := st.db.QueryRow(`SELECT COUNT(*) FROM chunks`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPutReadBinaryVersions(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, Options{})
	contents := [][]byte{
		{},
		{0},
		[]byte("hello\x00world\xff\xfe"),
		randomBytes(1, 5000),
		randomBytes(2, 300<<10), // several chunks
	}
	var ids []string
	for _, c := range contents {
		v, changed := put(t, st, "/virtual/blob.bin", c)
		if !changed {
			t.Fatalf("content of %d bytes not stored as a new version", len(c))
		}
		ids = append(ids, v.ID)
	}
	if _, changed := put(t, st, "/virtual/blob.bin", contents[len(contents)-1]); changed {
		t.Fatal("unchanged content made a version")
	}
	vs, err := st.Versions(ctx, "/virtual/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(contents) || vs[0].ID != ids[len(ids)-1] || !vs[0].Current || vs[len(vs)-1].Seq != 1 {
		t.Fatalf("versions not newest first: %+v", vs)
	}
	for i, id := range ids {
		got, err := st.ReadVersion(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, contents[i]) {
			t.Fatalf("version %d does not restore byte for byte", i)
		}
	}
	// Random access across chunk boundaries, as a FUSE read does.
	big := contents[len(contents)-1]
	r, err := st.OpenVersion(ctx, ids[len(ids)-1])
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 200; i++ {
		off := rng.IntN(len(big))
		buf := make([]byte, rng.IntN(100<<10)+1)
		n, err := r.ReadAt(buf, int64(off))
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[:n], big[off:off+n]) || (n < len(buf) && off+n != len(big)) {
			t.Fatalf("ReadAt(%d, %d) = %d bytes, wrong", off, len(buf), n)
		}
	}
	var out bytes.Buffer
	if _, err := r.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), big) {
		t.Fatalf("WriteTo: %v", err)
	}
	if v, _ := st.Version(ctx, ids[len(ids)-1]); v.Mode != 0o640 {
		t.Fatalf("mode %v", v.Mode)
	}
}

func TestDedupAndContentDefinedChunks(t *testing.T) {
	st := openTest(t, Options{})
	base := randomBytes(4, 512<<10)
	put(t, st, "/a", base)
	n1 := countChunks(t, st)
	put(t, st, "/b", base) // same content, other path
	if n := countChunks(t, st); n != n1 {
		t.Fatalf("identical content stored twice: %d → %d chunks", n1, n)
	}
	edited := append(append(append([]byte{}, base[:1000]...), []byte("an insertion near the start")...), base[1000:]...)
	put(t, st, "/a", edited)
	if added := countChunks(t, st) - n1; added > 2 {
		t.Fatalf("an insertion added %d chunks (of %d); content-defined chunking should re-synchronise", added, n1)
	}
}

func TestRollbackLineageKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openTest(t, Options{})
	f := filepath.Join(dir, "todo.txt")
	write := func(s string) {
		if err := os.WriteFile(f, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func() string { b, _ := os.ReadFile(f); return string(b) }
	for _, s := range []string{"one", "one two", "one two three"} {
		write(s)
		if _, err := st.Index(ctx, []string{dir}, IndexOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := st.PlanRollback(ctx, f, 2)
	if err != nil || plan.Unsaved || plan.To.Seq != 1 {
		t.Fatalf("plan %+v %v", plan, err)
	}
	res, err := st.Rollback(ctx, f, 2)
	if err != nil {
		t.Fatal(err)
	}
	if read() != "one" || res.Pointer != "displaced/1" || res.From.Seq != 3 {
		t.Fatalf("rollback left %q, %+v", read(), res)
	}
	if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode not restored: %v", fi.Mode())
	}
	cur, _ := st.Current(ctx, f)
	if cur.Seq != 1 {
		t.Fatalf("current is %d", cur.Seq)
	}
	ptrs, _ := st.Pointers(ctx, f)
	if len(ptrs) != 2 || ptrs[1].Name != "displaced/1" || ptrs[1].Version != res.From.ID {
		t.Fatalf("pointers %+v", ptrs)
	}
	// Search sees the restored content.
	hits, err := st.Search(ctx, Query{Text: "three"})
	if err != nil || len(hits) != 0 {
		t.Fatalf("search still finds the rolled-back words: %+v %v", hits, err)
	}
	// An unsaved edit is kept before the next rollback overwrites it.
	write("one four")
	plan, _ = st.PlanRollback(ctx, f, 1)
	if !plan.Unsaved || plan.To.ID != cur.ID {
		t.Fatalf("plan with unsaved content: %+v", plan)
	}
	res, err = st.Rollback(ctx, f, 1)
	if err != nil || !res.Kept || read() != "one" {
		t.Fatalf("rollback over unsaved content: %+v %v %q", res, err, read())
	}
	vs, _ := st.Versions(ctx, f)
	if len(vs) != 4 || vs[0].Origin != "rollback" {
		t.Fatalf("the unsaved content was not kept: %+v", vs)
	}
	line, _ := st.Lineage(ctx, f)
	if len(line) != 1 {
		t.Fatalf("lineage of version 1: %+v", line)
	}
	// Undo: restore the displaced version.
	if _, err := st.Restore(ctx, f, vs[0].ID); err != nil || read() != "one four" {
		t.Fatalf("restore: %v %q", err, read())
	}
	if _, err := st.PlanRollback(ctx, f, 5); err == nil {
		t.Fatal("rolling back past the first version was accepted")
	}
}

func TestDeletionIsAVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openTest(t, Options{})
	f := filepath.Join(dir, "gone.txt")
	os.WriteFile(f, []byte("precious words about lighthouses"), 0o644)
	st.Index(ctx, []string{dir}, IndexOptions{})
	os.Remove(f)
	rep, err := st.Index(ctx, []string{dir}, IndexOptions{})
	if err != nil || rep.Deleted != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if hits, _ := st.Search(ctx, Query{Text: "lighthouses"}); len(hits) != 0 {
		t.Fatal("a deleted file is still found")
	}
	objs, _ := st.Objects(ctx, ListOptions{})
	all, _ := st.Objects(ctx, ListOptions{Deleted: true})
	if len(objs) != 0 || len(all) != 1 || !all[0].Deleted {
		t.Fatalf("objects %+v / %+v", objs, all)
	}
	if _, err := st.Rollback(ctx, f, 1); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f); string(b) != "precious words about lighthouses" {
		t.Fatalf("not restored: %q", b)
	}
	if hits, _ := st.Search(ctx, Query{Text: "lighthouses"}); len(hits) != 1 {
		t.Fatal("a restored file is not found")
	}
}

func TestSearchKindsFiltersTagsSnippets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	vocab := filepath.Join(t.TempDir(), "tags.txt")
	os.WriteFile(vocab, []byte("# mine\nsailing: boat, sail, harbour, knot\n"), 0o644)
	st := openTest(t, Options{Vocabulary: vocab, Home: dir})
	files := map[string]string{
		"boats.md":        "# Sailing\nThe boat left the harbour. Trim the sail and tie a knot; the sail luffs in light wind.",
		"recipe.txt":      "Knead the dough, let it rise, then bake the bread in a hot oven.",
		"page.html":       "<html><body><h1>Harbour guide</h1><p>Moor the boat at the visitors pontoon.</p><style>.x{}</style></body></html>",
		"code/sail.go":    "package sail\n\n// Trim adjusts the sail for the wind.\nfunc Trim() {}\n",
		".hidden/sail.md": "hidden sail boat harbour",
		"binary.bin":      "\x00\x01\x02sail",
	}
	for n, c := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(c), 0o644)
	}
	rep, err := st.Index(ctx, []string{dir}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 5 || rep.Documents != 4 {
		t.Fatalf("report %+v", rep)
	}
	hits, err := st.Search(ctx, Query{Text: "sail boat harbour", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 3 || !strings.HasSuffix(hits[0].Path, "boats.md") || hits[0].Kind != "markdown" {
		t.Fatalf("hits %+v", hits)
	}
	if !strings.Contains(hits[0].Snippet, "sail") || hits[0].Version == "" {
		t.Fatalf("snippet %+v", hits[0])
	}
	if len(hits[0].Tags) != 1 || hits[0].Tags[0] != "sailing" {
		t.Fatalf("automatic tag from the vocabulary: %v", hits[0].Tags)
	}
	for _, tc := range []struct {
		q    string
		want string
		n    int
	}{
		{"boat type:html", "page.html", 1},
		{"sail type:code", "sail.go", 1},
		{"knot tag:sailing", "boats.md", 1},
		{"sail in:~/code", "sail.go", 1},
		{"sail before:2000-01-01", "", 0},
		{"sail boat after:1d", "", 3},
	} {
		hits, err := st.Search(ctx, Query{Text: tc.q})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != tc.n || (tc.want != "" && !strings.HasSuffix(hits[0].Path, tc.want)) {
			t.Errorf("%q: %d hits %+v", tc.q, len(hits), hits)
		}
	}
	if _, err := st.Search(ctx, Query{Text: "type:nonsense"}); err == nil {
		t.Error("unknown type accepted")
	}
	// Manual tags.
	boats := filepath.Join(dir, "boats.md")
	if err := st.SetUserTags(ctx, boats, []string{"Weekend Trips", "sailing"}); err != nil {
		t.Fatal(err)
	}
	tags, _ := st.TagsOf(ctx, boats)
	if len(tags) != 2 || tags[0] != (ObjectTag{"sailing", TagUser}) || tags[1] != (ObjectTag{"weekend-trips", TagUser}) {
		t.Fatalf("tags %+v", tags)
	}
	if hits, _ := st.Search(ctx, Query{Text: "boat tag:weekend-trips"}); len(hits) != 1 {
		t.Fatal("a manual tag does not filter")
	}
	all, _ := st.Tags(ctx)
	if len(all) != 2 {
		t.Fatalf("tags in use %+v", all)
	}
}

func TestUnreadableFilesSkippedOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openTest(t, Options{})
	os.WriteFile(filepath.Join(dir, "broken.pdf"), []byte("%PDF-1.4 not really"), 0o644)
	os.WriteFile(filepath.Join(dir, "fine.txt"), []byte("fine words"), 0o644)
	rep, err := st.Index(ctx, []string{dir}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Repeated || !strings.Contains(rep.Problems[0].Path, "broken.pdf") {
		t.Fatalf("problems %+v", rep.Problems)
	}
	// Versioned all the same: its bytes are safe.
	if vs, err := st.Versions(ctx, filepath.Join(dir, "broken.pdf")); err != nil || len(vs) != 1 {
		t.Fatalf("broken file not versioned: %v", err)
	}
	// Touch it without changing it: the second run says it was reported.
	os.Chtimes(filepath.Join(dir, "broken.pdf"), time.Now(), time.Now().Add(time.Second))
	os.Chtimes(filepath.Join(dir, "broken.pdf"), time.Now(), time.Now().Add(-time.Hour))
	rep, _ = st.Index(ctx, []string{dir}, IndexOptions{})
	for _, p := range rep.Problems {
		if !p.Repeated {
			t.Fatalf("problem reported again: %+v", p)
		}
	}
}

func TestVerifyFindsDamage(t *testing.T) {
	ctx := context.Background()
	st := openTest(t, Options{})
	put(t, st, "/x", randomBytes(7, 200<<10))
	put(t, st, "/y", []byte("small"))
	rep, err := st.Verify(ctx, nil)
	if err != nil || !rep.OK() || rep.Versions != 2 {
		t.Fatalf("clean store: %+v %v", rep, err)
	}
	packs, _ := filepath.Glob(filepath.Join(st.Dir(), "packs", "*.pack"))
	data, _ := os.ReadFile(packs[0])
	data[len(packs[0])+100] ^= 1
	os.WriteFile(packs[0], data, 0o600)
	st.packs.close()
	rep, err = st.Verify(ctx, nil)
	if err != nil || rep.OK() || len(rep.BadChunks) != 1 || len(rep.BadVersions) != 1 {
		t.Fatalf("damaged store: %+v %v", rep, err)
	}
	if _, err := st.ReadVersion(ctx, rep.BadVersions[0].Version); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged version served: %v", err)
	}
	// A truncated pack is damage too, and writers refuse to append to it.
	os.Truncate(packs[0], 100)
	st.packs.close()
	rep, _ = st.Verify(ctx, nil)
	if rep.OK() {
		t.Fatal("truncation not found")
	}
	err = st.Update(ctx, func(tx *Tx) error {
		_, _, err := tx.Put("/z", strings.NewReader("new"), PutInfo{})
		return err
	})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("append to a truncated pack: %v", err)
	}
}

func TestReindexFromStoredVersionsOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openTest(t, Options{})
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("orchids need humid air"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.html"), []byte("<p>cacti like dry air</p>"), 0o644)
	st.Index(ctx, []string{dir}, IndexOptions{})
	os.RemoveAll(dir) // the files are gone; the store is enough
	rep, err := st.Reindex(ctx, nil)
	if err != nil || rep.Documents != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	if hits, _ := st.Search(ctx, Query{Text: "cacti"}); len(hits) != 1 || hits[0].Snippet != "cacti like dry air" {
		t.Fatalf("after reindex: %+v", hits)
	}
}

func TestTwoStoresWriteTheSameFolder(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "objfs")
	a := openTest(t, Options{Dir: dir})
	b := openTest(t, Options{Dir: dir})
	done := make(chan error, 2)
	for i, st := range []*Store{a, b} {
		go func() {
			for j := 0; j < 20; j++ {
				err := st.Update(ctx, func(tx *Tx) error {
					_, _, err := tx.Put("/shared", bytes.NewReader(randomBytes(uint64(i*100+j), 70<<10)), PutInfo{})
					return err
				})
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	rep, err := a.Verify(ctx, nil)
	if err != nil || !rep.OK() || rep.Versions != 40 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestRestoreIntoRemovedFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openTest(t, Options{})
	f := filepath.Join(dir, "trip", "plan.txt")
	os.MkdirAll(filepath.Dir(f), 0o755)
	os.WriteFile(f, []byte("ferry at nine"), 0o644)
	st.Index(ctx, []string{dir}, IndexOptions{})
	os.RemoveAll(filepath.Join(dir, "trip"))
	if rep, _ := st.Index(ctx, []string{dir}, IndexOptions{}); rep.Deleted != 1 {
		t.Fatalf("deletion not recorded: %+v", rep)
	}
	if _, err := st.Rollback(ctx, f, 1); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f); string(b) != "ferry at nine" {
		t.Fatalf("restored %q", b)
	}
}

// TestLargeFileStreams versions a file bigger than the text extraction
// limit: it is streamed into chunks, not read whole, and restores byte for
// byte.
func TestLargeFileStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 130 MB")
	}
	ctx := context.Background()
	dir := t.TempDir()
	st := openTest(t, Options{})
	f := filepath.Join(dir, "big.bin")
	big := randomBytes(21, maxExtractInput+12345)
	os.WriteFile(f, big, 0o600)
	rep, err := st.Index(ctx, []string{dir}, IndexOptions{})
	if err != nil || rep.New != 1 || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Reason, "not indexed") {
		t.Fatalf("%+v %v", rep, err)
	}
	os.WriteFile(f, []byte("small now"), 0o600)
	st.Index(ctx, []string{dir}, IndexOptions{})
	if _, err := st.Rollback(ctx, f, 1); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(f)
	if !bytes.Equal(got, big) {
		t.Fatal("large version does not restore byte for byte")
	}
}
