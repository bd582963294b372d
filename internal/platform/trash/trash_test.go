//go:build unix

package trash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// env is a Trash over a temporary XDG_DATA_HOME and HOME, plus a
// temporary work directory on the same filesystem.
type env struct {
	tr       *Trash
	dataHome string
	work     string
}

// newEnv builds the Trash from the environment, as a program would. The
// clock starts at a fixed local time and advances one second per
// deletion, so List order is deterministic.
func newEnv(t *testing.T) env {
	t.Helper()
	home := realDir(t, t.TempDir())
	dataHome := filepath.Join(realDir(t, t.TempDir()), "xdg-data")
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", dataHome)
	tick := time.Date(2024, 3, 5, 14, 7, 9, 0, time.Local)
	tr, err := New(Options{Now: func() time.Time {
		tick = tick.Add(time.Second)
		return tick
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.HomeTrashDir(); got != filepath.Join(dataHome, "Trash") {
		t.Fatalf("HomeTrashDir = %s, want %s/Trash", got, dataHome)
	}
	return env{tr: tr, dataHome: dataHome, work: realDir(t, t.TempDir())}
}

func realDir(t *testing.T, dir string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask-independent
		t.Fatal(err)
	}
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s: want it gone, Lstat says %v", path, err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// node is what a tree comparison looks at for each entry.
type node struct {
	Mode  fs.FileMode
	Data  string
	Link  string
	Mtime time.Time // zero for directories, whose mtime moves with their entries
}

// snapshot records a tree by relative path, without following symlinks.
func snapshot(t *testing.T, root string) map[string]node {
	t.Helper()
	m := map[string]node{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		n := node{Mode: fi.Mode()}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.Data, n.Mtime = string(b), fi.ModTime()
		case fi.Mode()&fs.ModeSymlink != 0:
			if n.Link, err = os.Readlink(p); err != nil {
				return err
			}
			n.Mtime = fi.ModTime()
		}
		m[rel] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compareTrees(t *testing.T, what string, want, got map[string]node) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: %q missing", what, k)
		case g.Mode != w.Mode:
			t.Errorf("%s: %q mode %v, want %v", what, k, g.Mode, w.Mode)
		case g.Data != w.Data:
			t.Errorf("%s: %q content differs (%d bytes, want %d)", what, k, len(g.Data), len(w.Data))
		case g.Link != w.Link:
			t.Errorf("%s: %q link target %q, want %q", what, k, g.Link, w.Link)
		case !g.Mtime.Equal(w.Mtime):
			t.Errorf("%s: %q mtime %v, want %v", what, k, g.Mtime, w.Mtime)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %q", what, k)
		}
	}
}

// makeTree builds a tree with assorted modes, a larger binary file, an
// empty and a read-only directory, and good and dangling symlinks.
func makeTree(t *testing.T, root string) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3<<20+17)
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	writeFile(t, filepath.Join(root, "b", "c.bin"), string(big), 0o600)
	writeFile(t, filepath.Join(root, "exec.sh"), "#!/bin/sh\necho hi\n", 0o755)
	writeFile(t, filepath.Join(root, "ro.txt"), "read only\n", 0o444)
	writeFile(t, filepath.Join(root, "empty.txt"), "", 0o640)
	writeFile(t, filepath.Join(root, "ro-dir", "inside"), "x", 0o644)
	for _, d := range []string{"empty-dir"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("b/c.bin", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent/target", filepath.Join(root, "dangling")); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "exec.sh"), old, old); err != nil {
		t.Fatal(err)
	}
	for dir, mode := range map[string]fs.FileMode{"ro-dir": 0o555, "b": 0o750, ".": 0o751} {
		if err := os.Chmod(filepath.Join(root, dir), mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = removeAllForce(root) })
}

func TestPutRestoreFile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	path := filepath.Join(e.work, "report.txt")
	writeFile(t, path, "quarterly numbers\n", 0o640)

	it, err := e.tr.Put(ctx, path)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	mustNotExist(t, path)
	home := filepath.Join(e.dataHome, "Trash")
	want := Item{
		ID:           "report.txt",
		TrashDir:     home,
		OriginalPath: path,
		InfoPath:     filepath.Join(home, "info", "report.txt.trashinfo"),
		FilesPath:    filepath.Join(home, "files", "report.txt"),
	}
	wantDate := time.Date(2024, 3, 5, 14, 7, 10, 0, time.Local)
	if !it.DeletedAt.Equal(wantDate) {
		t.Errorf("DeletedAt = %v, want %v", it.DeletedAt, wantDate)
	}
	it.DeletedAt = time.Time{}
	if it != want {
		t.Errorf("Put returned\n%+v, want\n%+v", it, want)
	}
	if got := readString(t, want.FilesPath); got != "quarterly numbers\n" {
		t.Errorf("trashed content = %q", got)
	}
	wantInfo := "[Trash Info]\nPath=" + escapePath(path) + "\nDeletionDate=2024-03-05T14:07:10\n"
	if got := readString(t, want.InfoPath); got != wantInfo {
		t.Errorf("info file:\n%s\nwant:\n%s", got, wantInfo)
	}
	for _, d := range []string{home, filepath.Join(home, "files"), filepath.Join(home, "info")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", d, fi.Mode(), err)
		}
	}

	got, err := e.tr.Lookup(ctx, home, "report.txt")
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if !got.DeletedAt.Equal(wantDate) || got.OriginalPath != path || got.FilesPath != want.FilesPath {
		t.Errorf("Lookup = %+v", got)
	}

	if err := e.tr.Restore(ctx, got); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := readString(t, path); got != "quarterly numbers\n" {
		t.Errorf("restored content = %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode() != 0o640 {
		t.Errorf("restored mode = %v, want 0640", fi.Mode())
	}
	mustNotExist(t, want.InfoPath)
	mustNotExist(t, want.FilesPath)

	err = e.tr.Restore(ctx, got)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Restore: %v, want fs.ErrNotExist", err)
	}
}

func TestPutRestoreDirectoryTree(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	root := filepath.Join(e.work, "project")
	makeTree(t, root)
	before := snapshot(t, root)

	it, err := e.tr.Put(ctx, root)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	mustNotExist(t, root)
	compareTrees(t, "in trash", before, snapshot(t, it.FilesPath))

	if err := e.tr.Restore(ctx, it); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	compareTrees(t, "restored", before, snapshot(t, root))
	mustNotExist(t, it.FilesPath)
}

func TestPutSymlink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	target := filepath.Join(e.work, "target.txt")
	writeFile(t, target, "target data", 0o644)
	link := filepath.Join(e.work, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	dirTarget := filepath.Join(e.work, "real-dir")
	writeFile(t, filepath.Join(dirTarget, "keep"), "keep", 0o644)
	dirLink := filepath.Join(e.work, "dir-link")
	if err := os.Symlink("real-dir", dirLink); err != nil {
		t.Fatal(err)
	}

	it, err := e.tr.Put(ctx, link)
	if err != nil {
		t.Fatalf("Put(link): %v", err)
	}
	mustNotExist(t, link)
	if got := readString(t, target); got != "target data" {
		t.Errorf("target changed: %q", got)
	}
	if fi, err := os.Lstat(it.FilesPath); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("trashed entry is not a symlink: %v, %v", fi, err)
	}
	if err := e.tr.Restore(ctx, it); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got, err := os.Readlink(link); err != nil || got != target {
		t.Errorf("restored link = %q, %v; want %q", got, err, target)
	}

	// A trailing slash must not turn "trash the link" into "trash the
	// directory it points to".
	dit, err := e.tr.Put(ctx, dirLink+"/")
	if err != nil {
		t.Fatalf("Put(dir-link/): %v", err)
	}
	if dit.OriginalPath != dirLink {
		t.Errorf("OriginalPath = %s, want %s", dit.OriginalPath, dirLink)
	}
	if got := readString(t, filepath.Join(dirTarget, "keep")); got != "keep" {
		t.Errorf("link target directory changed")
	}
	if fi, err := os.Lstat(dit.FilesPath); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("trashed entry is not a symlink: %v, %v", fi, err)
	}
}

func TestPutResolvesParentSymlinks(t *testing.T) {
	e := newEnv(t)
	real := filepath.Join(e.work, "real")
	writeFile(t, filepath.Join(real, "f"), "x", 0o644)
	if err := os.Symlink(real, filepath.Join(e.work, "alias")); err != nil {
		t.Fatal(err)
	}
	it, err := e.tr.Put(context.Background(), filepath.Join(e.work, "alias", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(real, "f"); it.OriginalPath != want {
		t.Errorf("OriginalPath = %s, want %s", it.OriginalPath, want)
	}
}

func TestPutRelativePath(t *testing.T) {
	e := newEnv(t)
	writeFile(t, filepath.Join(e.work, "rel.txt"), "r", 0o644)
	t.Chdir(e.work)
	it, err := e.tr.Put(context.Background(), "rel.txt")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(e.work, "rel.txt"); it.OriginalPath != want {
		t.Errorf("OriginalPath = %s, want %s", it.OriginalPath, want)
	}
}

func TestNameCollisions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A files/ entry without an info file (left by a crash or another
	// program) must be neither reused nor touched.
	orphan := filepath.Join(e.dataHome, "Trash", "files", "report.2.txt")
	writeFile(t, orphan, "orphan", 0o600)

	var items []Item
	for i, dir := range []string{"a", "b", "c"} {
		p := filepath.Join(e.work, dir, "report.txt")
		writeFile(t, p, fmt.Sprintf("content %d", i), 0o644)
		it, err := e.tr.Put(ctx, p)
		if err != nil {
			t.Fatalf("Put %s: %v", p, err)
		}
		items = append(items, it)
	}
	for _, dir := range []string{"a", "b"} {
		p := filepath.Join(e.work, dir, ".profile")
		writeFile(t, p, dir, 0o644)
		it, err := e.tr.Put(ctx, p)
		if err != nil {
			t.Fatalf("Put %s: %v", p, err)
		}
		items = append(items, it)
	}
	wantIDs := []string{"report.txt", "report.3.txt", "report.4.txt", ".profile", ".profile.2"}
	for i, it := range items {
		if it.ID != wantIDs[i] {
			t.Errorf("item %d: ID %q, want %q", i, it.ID, wantIDs[i])
		}
	}
	if got := readString(t, orphan); got != "orphan" {
		t.Errorf("orphan files/ entry changed: %q", got)
	}
	for i, it := range items[:3] {
		if err := e.tr.Restore(ctx, it); err != nil {
			t.Fatalf("Restore %s: %v", it.ID, err)
		}
		if got, want := readString(t, it.OriginalPath), fmt.Sprintf("content %d", i); got != want {
			t.Errorf("%s restored with %q, want %q", it.OriginalPath, got, want)
		}
	}
}

func TestCandidateName(t *testing.T) {
	tests := []struct {
		base string
		n    int
		want string
	}{
		{"a.txt", 1, "a.txt"},
		{"a.txt", 2, "a.2.txt"},
		{"archive.tar.gz", 3, "archive.tar.3.gz"},
		{".bashrc", 2, ".bashrc.2"},
		{"noext", 2, "noext.2"},
		{"dot.", 2, "dot..2"},
	}
	for _, tt := range tests {
		if got := candidateName(tt.base, tt.n); got != tt.want {
			t.Errorf("candidateName(%q, %d) = %q, want %q", tt.base, tt.n, got, tt.want)
		}
	}
	long := strings.Repeat("ü", 127) + ".txt" // 258 bytes
	for _, n := range []int{1, 2, sequentialNames + 1} {
		got := candidateName(long, n)
		if len(got) > maxNameLen || !utf8.ValidString(got) || !strings.HasSuffix(got, ".txt") {
			t.Errorf("candidateName(long, %d) = %q (%d bytes): want valid UTF-8, <= %d bytes, .txt kept", n, got, len(got), maxNameLen)
		}
	}
	if a, b := candidateName("x", sequentialNames+1), candidateName("x", sequentialNames+1); a == b {
		t.Errorf("random candidates repeat: %q", a)
	}
}

func TestPutLongName(t *testing.T) {
	e := newEnv(t)
	name := strings.Repeat("n", 250) + ".txt" // fits NAME_MAX, but NAME.trashinfo does not
	p := filepath.Join(e.work, name)
	writeFile(t, p, "long", 0o644)
	it, err := e.tr.Put(context.Background(), p)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(it.ID) > maxNameLen || it.OriginalPath != p {
		t.Errorf("ID %d bytes, OriginalPath %s", len(it.ID), it.OriginalPath)
	}
	if err := e.tr.Restore(context.Background(), it); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if readString(t, p) != "long" {
		t.Errorf("wrong content restored")
	}
}

func TestRestoreRefusesExistingPath(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := filepath.Join(e.work, "notes.txt")
	writeFile(t, p, "old", 0o644)
	it, err := e.tr.Put(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, "new", 0o644)

	err = e.tr.Restore(ctx, it)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Restore over existing file: %v, want fs.ErrExist", err)
	}
	if !strings.Contains(err.Error(), p) {
		t.Errorf("error %q does not name the path", err)
	}
	if got := readString(t, p); got != "new" {
		t.Errorf("existing file changed to %q", got)
	}
	if got := readString(t, it.FilesPath); got != "old" {
		t.Errorf("trashed file changed to %q", got)
	}
	if _, err := e.tr.Lookup(ctx, it.TrashDir, it.ID); err != nil {
		t.Errorf("item no longer in trash: %v", err)
	}

	// A dangling symlink counts as existing too.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent", p); err != nil {
		t.Fatal(err)
	}
	if err := e.tr.Restore(ctx, it); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Restore over dangling symlink: %v, want fs.ErrExist", err)
	}

	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := e.tr.Restore(ctx, it); err != nil {
		t.Fatalf("Restore after removing the new file: %v", err)
	}
	if got := readString(t, p); got != "old" {
		t.Errorf("restored %q, want old", got)
	}
}

func TestRestoreStaleItem(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := filepath.Join(e.work, "f")
	writeFile(t, p, "x", 0o644)
	it, err := e.tr.Put(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	forged := it
	forged.OriginalPath = "/etc/elsewhere"
	if err := e.tr.Restore(ctx, forged); err == nil {
		t.Fatal("Restore accepted an Item whose OriginalPath disagrees with the info file")
	}
	bad := it
	bad.ID = "../info/f.trashinfo"
	if err := e.tr.Restore(ctx, bad); err == nil {
		t.Fatal("Restore accepted an ID with a slash")
	}
	bad = it
	bad.TrashDir = e.work
	if err := e.tr.Restore(ctx, bad); err == nil {
		t.Fatal("Restore accepted a directory that is not a trash directory")
	}
}

func TestRestoreRecreatesParents(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := filepath.Join(e.work, "x", "y", "z", "deep.txt")
	writeFile(t, p, "deep", 0o600)
	it, err := e.tr.Put(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(e.work, "x")); err != nil {
		t.Fatal(err)
	}
	if err := e.tr.Restore(ctx, it); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := readString(t, p); got != "deep" {
		t.Errorf("restored %q", got)
	}
}

func TestPercentEncodedNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct{ name, wantEncoded string }{
		{"with space.txt", "with%20space.txt"},
		{"ünïcødé 日本.txt", "%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E6%97%A5%E6%9C%AC.txt"},
		{"100%.txt", "100%25.txt"},
		{"a+b=c&d#e?f;g'h.txt", "a%2Bb%3Dc%26d%23e%3Ff%3Bg%27h.txt"},
		{"new\nline", "new%0Aline"},
		{"%41", "%2541"},
	}
	want := map[string]string{}
	for _, tt := range tests {
		p := filepath.Join(e.work, "dir with space", tt.name)
		writeFile(t, p, tt.name, 0o644)
		it, err := e.tr.Put(ctx, p)
		if err != nil {
			t.Fatalf("Put %q: %v", tt.name, err)
		}
		wantLine := "Path=" + escapePath(filepath.Join(e.work, "dir with space")) + "/" + tt.wantEncoded + "\n"
		if info := readString(t, it.InfoPath); !strings.Contains(info, wantLine) {
			t.Errorf("%q: info file\n%s\nlacks %q", tt.name, info, wantLine)
		}
		if !strings.Contains(wantLine, "dir%20with%20space/") {
			t.Errorf("directory part not encoded: %q", wantLine)
		}
		want[it.ID] = p
	}
	items, err := e.tr.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, it := range items {
		if it.TrashDir != e.tr.HomeTrashDir() {
			continue
		}
		if want[it.ID] != it.OriginalPath {
			t.Errorf("List: %q has OriginalPath %q, want %q", it.ID, it.OriginalPath, want[it.ID])
		}
		if err := e.tr.Restore(ctx, it); err != nil {
			t.Fatalf("Restore %q: %v", it.ID, err)
		}
		if got := readString(t, it.OriginalPath); got != filepath.Base(it.OriginalPath) {
			t.Errorf("restored %q with %q", it.OriginalPath, got)
		}
		delete(want, it.ID)
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v", want)
	}
}

// homeItems filters List results to the home trash, since List also
// reports trash directories on other mounted filesystems of the machine.
func homeItems(tr *Trash, items []Item) []Item {
	var out []Item
	for _, it := range items {
		if it.TrashDir == tr.HomeTrashDir() {
			out = append(out, it)
		}
	}
	return out
}

func TestList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	home := e.tr.HomeTrashDir()

	items, err := e.tr.List(ctx)
	if err != nil || len(homeItems(e.tr, items)) != 0 {
		t.Fatalf("List on a missing trash: %v, %v", items, err)
	}

	var put []Item
	for _, name := range []string{"one", "two", "three"} {
		p := filepath.Join(e.work, name)
		writeFile(t, p, name, 0o644)
		it, err := e.tr.Put(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		put = append(put, it)
	}
	dir := filepath.Join(e.work, "tree")
	writeFile(t, filepath.Join(dir, "f"), "f", 0o644)
	it, err := e.tr.Put(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	put = append(put, it)

	// Entries List must cope with: a malformed info file (reported), an
	// info file whose item is missing (skipped silently, as during a
	// concurrent Put), an unrelated file, an info file that is a FIFO
	// (reported, without blocking) and one that is a symlink (reported).
	info := filepath.Join(home, "info")
	writeFile(t, filepath.Join(info, "bad.trashinfo"), "[Trash Info]\nPath=/x%zz\nDeletionDate=2024-01-01T00:00:00\n", 0o600)
	writeFile(t, filepath.Join(home, "files", "bad"), "bad", 0o600)
	writeFile(t, filepath.Join(info, "ghost.trashinfo"), "[Trash Info]\nPath=/ghost\nDeletionDate=2024-01-01T00:00:00\n", 0o600)
	writeFile(t, filepath.Join(info, "README"), "not an info file", 0o600)
	if err := syscall.Mkfifo(filepath.Join(info, "fifo.trashinfo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(put[0].InfoPath, filepath.Join(info, "sym.trashinfo")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"fifo", "sym"} {
		writeFile(t, filepath.Join(home, "files", id), id, 0o600)
	}

	items, err = e.tr.List(ctx)
	var le *ListError
	if !errors.As(err, &le) {
		t.Fatalf("List error = %v, want *ListError", err)
	}
	if len(le.Errs) != 3 {
		t.Errorf("ListError has %d errors, want 3 (bad, fifo, sym): %v", len(le.Errs), le.Errs)
	}
	if !errors.Is(err, ErrMalformedInfo) {
		t.Errorf("ListError does not wrap ErrMalformedInfo: %v", err)
	}
	for _, want := range []string{"bad.trashinfo", "fifo.trashinfo", "sym.trashinfo"} {
		if !strings.Contains(fmt.Sprint(le.Errs), want) {
			t.Errorf("ListError does not mention %s: %v", want, le.Errs)
		}
	}
	got := homeItems(e.tr, items)
	if len(got) != len(put) {
		t.Fatalf("List returned %d home items, want %d: %+v", len(got), len(put), got)
	}
	for i := range put {
		if got[i].ID != put[i].ID || got[i].OriginalPath != put[i].OriginalPath ||
			!got[i].DeletedAt.Equal(put[i].DeletedAt) || got[i].FilesPath != put[i].FilesPath {
			t.Errorf("List[%d] = %+v, want %+v", i, got[i], put[i])
		}
	}
}

func TestPutRefuses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := filepath.Join(e.work, "f")
	writeFile(t, p, "f", 0o644)
	if _, err := e.tr.Put(ctx, p); err != nil { // creates the home trash
		t.Fatal(err)
	}
	home := e.tr.HomeTrashDir()
	for _, path := range []string{
		"/",
		home,
		home + "/",
		filepath.Join(home, "files"),
		filepath.Join(home, "files", "f"),
		filepath.Join(home, "info", "f.trashinfo"),
		e.dataHome,
		filepath.Dir(e.dataHome),
	} {
		if _, err := e.tr.Put(ctx, path); !errors.Is(err, ErrProtected) {
			t.Errorf("Put(%q) = %v, want ErrProtected", path, err)
		}
	}
	// The home trash reached through a symlinked path is still refused.
	alias := filepath.Join(e.work, "alias")
	if err := os.Symlink(filepath.Dir(home), alias); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tr.Put(ctx, filepath.Join(alias, "Trash", "files", "f")); !errors.Is(err, ErrProtected) {
		t.Errorf("Put via symlinked parent = %v, want ErrProtected", err)
	}
	if _, err := e.tr.Put(ctx, filepath.Join(e.work, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Put(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := e.tr.Put(ctx, ""); err == nil {
		t.Errorf("Put(\"\") succeeded")
	}
	if _, err := os.Stat(filepath.Join(home, "files", "f")); err != nil {
		t.Errorf("trashed item disturbed: %v", err)
	}
}

func TestCanceledContext(t *testing.T) {
	e := newEnv(t)
	p := filepath.Join(e.work, "f")
	writeFile(t, p, "f", 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.tr.Put(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("Put = %v, want context.Canceled", err)
	}
	if readString(t, p) != "f" {
		t.Errorf("file changed")
	}
	if _, err := e.tr.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List = %v, want context.Canceled", err)
	}
	if _, err := e.tr.Lookup(ctx, e.tr.HomeTrashDir(), "f"); !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup = %v, want context.Canceled", err)
	}
}

// countdownCtx reports cancellation after its Err method has been called
// a given number of times, to cancel a copy at a chosen point.
type countdownCtx struct {
	context.Context
	left int
}

func (c *countdownCtx) Err() error {
	if c.left--; c.left < 0 {
		return context.Canceled
	}
	return nil
}

func TestCopyMoveCanceledMidway(t *testing.T) {
	src := filepath.Join(realDir(t, t.TempDir()), "src")
	makeTree(t, src)
	// Count the context checks copyMove makes before it starts removing
	// the source: those of copying and verifying.
	probe := &countdownCtx{Context: context.Background(), left: 1 << 30}
	probeDst := filepath.Join(realDir(t, t.TempDir()), "dst")
	t.Cleanup(func() { _ = removeAllForce(probeDst) })
	if _, err := copyTree(probe, src, probeDst); err != nil {
		t.Fatal(err)
	}
	var verified []removal
	if err := verifyTree(probe, src, probeDst, &verified); err != nil {
		t.Fatal(err)
	}
	total := 1<<30 - probe.left

	before := snapshot(t, src)
	// Cancel at the start, during the copy, during verification, and at
	// the last check before removal begins: each must leave src intact
	// and no copy behind.
	for _, n := range []int{0, total / 4, total / 2, total - 1} {
		dst := filepath.Join(realDir(t, t.TempDir()), "dst")
		err := copyMove(&countdownCtx{Context: context.Background(), left: n}, src, dst)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancel after %d of %d checks: copyMove = %v, want context.Canceled", n, total, err)
		}
		mustNotExist(t, dst)
		compareTrees(t, fmt.Sprintf("source after cancel at %d of %d", n, total), before, snapshot(t, src))
	}
}

func TestCopyMoveToExistingDestination(t *testing.T) {
	dir := realDir(t, t.TempDir())
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, "src", 0o644)
	writeFile(t, dst, "dst", 0o644)
	if err := copyMove(context.Background(), src, dst); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("copyMove onto existing file = %v, want fs.ErrExist", err)
	}
	if readString(t, dst) != "dst" || readString(t, src) != "src" {
		t.Errorf("files changed")
	}
}

func TestRemoveEntriesKeepsUnverified(t *testing.T) {
	dir := realDir(t, t.TempDir())
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, filepath.Join(src, "a"), "a", 0o644)
	if _, err := copyTree(context.Background(), src, dst); err != nil {
		t.Fatal(err)
	}
	var verified []removal
	if err := verifyTree(context.Background(), src, dst, &verified); err != nil {
		t.Fatal(err)
	}
	// A file created after verification must survive.
	writeFile(t, filepath.Join(src, "late"), "late", 0o644)
	n, err := removeEntries(verified)
	if err == nil || n != 1 {
		t.Fatalf("removeEntries = %d, %v; want 1 removed and an error", n, err)
	}
	if readString(t, filepath.Join(src, "late")) != "late" {
		t.Errorf("unverified file removed")
	}
}

func TestVerifyTreeDetectsDifferences(t *testing.T) {
	dir := realDir(t, t.TempDir())
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	makeTree(t, src)
	if _, err := copyTree(context.Background(), src, dst); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = removeAllForce(dst) })
	var v []removal
	if err := verifyTree(context.Background(), src, dst, &v); err != nil {
		t.Fatalf("identical trees: %v", err)
	}
	f, err := os.OpenFile(filepath.Join(dst, "b", "c.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'!'}, 2<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	v = nil
	if err := verifyTree(context.Background(), src, dst, &v); err == nil || !strings.Contains(err.Error(), "content differs") {
		t.Errorf("changed byte: verifyTree = %v, want content difference", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Options{DataHome: "relative/dir"}); err == nil {
		t.Error("New accepted a relative DataHome")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", "relative") // invalid per XDG; must be ignored
	tr, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".local", "share", "Trash"); tr.HomeTrashDir() != want {
		t.Errorf("HomeTrashDir = %s, want %s", tr.HomeTrashDir(), want)
	}
	tr, err = New(Options{DataHome: "/x/y/"})
	if err != nil || tr.HomeTrashDir() != "/x/y/Trash" {
		t.Errorf("New(/x/y/) = %v, %v", tr, err)
	}
}

func TestReadInfoFileLimits(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big.trashinfo")
	writeFile(t, p, string(bytes.Repeat([]byte("#"), MaxInfoSize+1)), 0o600)
	if _, err := readInfoFile(p); !errors.Is(err, ErrMalformedInfo) {
		t.Errorf("oversized info file: %v, want ErrMalformedInfo", err)
	}
}

func TestPreflightPermissions(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("skipping: root bypasses the permission checks under test")
	}
	ctx := context.Background()
	dir := realDir(t, t.TempDir())
	src := filepath.Join(dir, "src")
	writeFile(t, filepath.Join(src, "ro", "f"), "f", 0o644)
	writeFile(t, filepath.Join(src, "secret"), "s", 0o644)
	if err := preflight(ctx, src); err != nil {
		t.Fatalf("preflight on a removable tree: %v", err)
	}
	// Copyable but not removable afterwards.
	if err := os.Chmod(filepath.Join(src, "ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(src, "ro"), 0o755) })
	if err := preflight(ctx, src); err == nil || !strings.Contains(err.Error(), "ro") {
		t.Errorf("preflight with a read-only subdirectory = %v, want an error naming it", err)
	}
	if err := os.Chmod(filepath.Join(src, "ro"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Not copyable.
	if err := os.Chmod(filepath.Join(src, "secret"), 0o200); err != nil {
		t.Fatal(err)
	}
	if err := preflight(ctx, src); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("preflight with an unreadable file = %v, want an error naming it", err)
	}
}
