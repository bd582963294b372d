package fusefs

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/noema-project/noema/objfs"
)

// requireFUSE skips a test that needs a real mount where there can be
// none, saying why.
func requireFUSE(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE here: %v", err)
	}
	if os.Geteuid() != 0 {
		if _, err := fusermount(); err != nil {
			t.Skipf("not root, and %v", err)
		}
	}
}

// mountTest mounts st on a fresh folder, skipping when this machine does
// not allow mounting, and makes sure nothing stays mounted after the test.
func mountTest(t *testing.T, st *objfs.Store) (*Server, string) {
	t.Helper()
	requireFUSE(t)
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	srv, err := Mount(context.Background(), st, mnt, Options{Logf: t.Logf})
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		t.Skipf("mounting is not permitted here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if info, err := Probe(mnt); err == nil && info.State != NotMounted {
			t.Errorf("%s still mounted (%s) at the end of the test", mnt, info.State)
			Unmount(context.Background(), mnt, true)
		}
	})
	return srv, srv.Dir()
}

// clock is a settable time source for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type corpus struct {
	st    *objfs.Store
	clk   *clock
	dir   string // the indexed folder
	ml    string // path of the file with two versions
	mlOld string
	mlNew string
	t1    time.Time
	t2    time.Time
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newCorpus indexes a few notes, then a second version of one of them.
func newCorpus(t *testing.T) *corpus {
	t.Helper()
	ctx := context.Background()
	c := &corpus{
		clk:   &clock{},
		dir:   filepath.Join(t.TempDir(), "docs"),
		mlOld: "Gradient descent trains the neural network.\nMachine learning needs data.\n",
		mlNew: "Machine learning: gradient descent trains the neural network; the learning rate matters for machine learning models.\n",
		t1:    time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.UTC),
		t2:    time.Date(2024, 3, 2, 11, 30, 0, 987654321, time.UTC),
	}
	c.ml = filepath.Join(c.dir, "ml.txt")
	write(t, c.ml, c.mlOld)
	write(t, filepath.Join(c.dir, "garden.md"), "# Garden\nTomatoes need sun. Water the basil and prune the roses in spring.\n")
	write(t, filepath.Join(c.dir, "budget.txt"), "Monthly budget: rent, groceries, electricity bill and savings.\n")
	write(t, filepath.Join(c.dir, "work", "todo.md"), "- order tomatoes seeds for the office plants\n")
	write(t, filepath.Join(c.dir, "home", "todo.md"), "- plant tomatoes\n- call the plumber\n")
	st, err := objfs.Open(ctx, objfs.Options{Dir: filepath.Join(t.TempDir(), "store"), Now: c.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.st = st
	c.clk.set(c.t1)
	if _, err := st.Index(ctx, []string{c.dir}, objfs.IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	write(t, c.ml, c.mlNew)
	c.clk.set(c.t2)
	if _, err := st.Index(ctx, []string{c.dir}, objfs.IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetUserTags(ctx, c.ml, []string{"research", "work/ml"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func readDirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ls %s: %v", dir, err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cat %s: %v", path, err)
	}
	return string(b)
}

// inProcMounts reports whether dir appears in /proc/mounts.
func inProcMounts(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.Open("/proc/mounts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 1 && unescapeMount(fields[1]) == dir {
			return true
		}
	}
	return false
}

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func TestMountedView(t *testing.T) {
	c := newCorpus(t)
	srv, mnt := mountTest(t, c.st)
	if info, err := Probe(mnt); err != nil || info.State != Mounted || !info.Noema() {
		t.Fatalf("probe of the live mount: %+v %v", info, err)
	}
	if !inProcMounts(t, mnt) {
		t.Fatalf("%s is not in /proc/mounts", mnt)
	}
	if got := readDirNames(t, mnt); !slices.Equal(got, []string{"current", "history", "search", "tags"}) {
		t.Errorf("top folder: %q", got)
	}

	// search/<query>/: the best match first, holding the current version.
	hits := readDirNames(t, filepath.Join(mnt, "search", "machine learning"))
	if len(hits) == 0 || hits[0] != "01 ml.txt" {
		t.Fatalf("search/machine learning: %q, want 01 ml.txt first", hits)
	}
	if got := readFile(t, filepath.Join(mnt, "search", "machine learning", hits[0])); got != c.mlNew {
		t.Errorf("search hit holds %q, want the current version", got)
	}
	// Same base name in two folders: told apart by folder.
	tom := readDirNames(t, filepath.Join(mnt, "search", "tomatoes"))
	var todos []string
	for _, n := range tom {
		if strings.Contains(n, "todo") {
			todos = append(todos, n[3:])
		}
	}
	slices.Sort(todos)
	if !slices.Equal(todos, []string{"todo (home).md", "todo (work).md"}) {
		t.Errorf("search/tomatoes: %q, want todo (home).md and todo (work).md", tom)
	}
	for _, n := range tom {
		if strings.HasSuffix(n, "todo (home).md") {
			if got := readFile(t, filepath.Join(mnt, "search", "tomatoes", n)); !strings.Contains(got, "plumber") {
				t.Errorf("%s holds %q", n, got)
			}
		}
	}
	if _, err := os.ReadDir(filepath.Join(mnt, "search", "tomatoes type:nonsense")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("a query with an unknown type: %v, want EINVAL", err)
	}
	if got := readDirNames(t, filepath.Join(mnt, "search")); len(got) != 0 {
		t.Errorf("search/ lists %q; it should list nothing", got)
	}

	// tags/<tag>/, with a tag below another as a subfolder.
	if got := readDirNames(t, filepath.Join(mnt, "tags", "research")); !slices.Equal(got, []string{"ml.txt"}) {
		t.Errorf("tags/research: %q", got)
	}
	if got := readFile(t, filepath.Join(mnt, "tags", "research", "ml.txt")); got != c.mlNew {
		t.Errorf("tags/research/ml.txt holds %q", got)
	}
	if got := readDirNames(t, filepath.Join(mnt, "tags", "work")); !slices.Equal(got, []string{"ml"}) {
		t.Errorf("tags/work: %q", got)
	}
	if got := readDirNames(t, filepath.Join(mnt, "tags", "work", "ml")); !slices.Equal(got, []string{"ml.txt"}) {
		t.Errorf("tags/work/ml: %q", got)
	}
	if tags := readDirNames(t, filepath.Join(mnt, "tags")); !slices.Contains(tags, "research") || !slices.Contains(tags, "work") {
		t.Errorf("tags/: %q", tags)
	}
	if _, err := os.Stat(filepath.Join(mnt, "tags", "no-such-tag")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tags/no-such-tag: %v", err)
	}

	// history/<path>/<version>: every version, dated when recorded.
	vs, err := c.st.Versions(context.Background(), c.ml)
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions: %v %v", vs, err)
	}
	hdir := filepath.Join(mnt, "history", c.ml)
	got := readDirNames(t, hdir)
	want := []string{vs[0].ID, vs[1].ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("history of ml.txt: %q, want %q", got, want)
	}
	for _, v := range vs {
		p := filepath.Join(hdir, v.ID)
		content, created := c.mlNew, c.t2
		if v.Seq == 1 {
			content, created = c.mlOld, c.t1
		}
		if got := readFile(t, p); got != content {
			t.Errorf("version %d holds %q, want %q", v.Seq, got, content)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(created) || !fi.ModTime().Equal(v.CreatedAt) || fi.Size() != int64(len(content)) {
			t.Errorf("version %d: mtime %v size %d, want %v and %d", v.Seq, fi.ModTime(), fi.Size(), created, len(content))
		}
		if fi.Mode() != 0o444 {
			t.Errorf("version %d: mode %v", v.Seq, fi.Mode())
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != uint32(os.Getuid()) || st.Gid != uint32(os.Getgid()) {
			t.Errorf("version %d owned by %d:%d", v.Seq, st.Uid, st.Gid)
		}
	}
	// The folders leading there mirror the path.
	parent := filepath.Join(mnt, "history", filepath.Dir(c.ml))
	if got := readDirNames(t, parent); !slices.Equal(got, []string{"budget.txt", "garden.md", "home", "ml.txt", "work"}) {
		t.Errorf("history of the folder: %q", got)
	}
	if fi, err := os.Stat(parent); err != nil || fi.Mode() != os.ModeDir|0o555 {
		t.Errorf("history folder: %v %v", fi, err)
	}

	// current/<path>.
	if got := readFile(t, filepath.Join(mnt, "current", c.ml)); got != c.mlNew {
		t.Errorf("current/…/ml.txt holds %q", got)
	}
	if got := readDirNames(t, filepath.Join(mnt, "current", c.dir)); !slices.Equal(got, []string{"budget.txt", "garden.md", "home", "ml.txt", "work"}) {
		t.Errorf("current folder: %q", got)
	}

	// Nothing can be changed.
	cur := filepath.Join(mnt, "current", c.ml)
	wantErrno(t, "write", os.WriteFile(cur, []byte("x"), 0o644), syscall.EROFS)
	_, err = os.OpenFile(filepath.Join(mnt, "search", "machine learning", "01 ml.txt"), os.O_RDWR, 0)
	wantErrno(t, "open for writing", err, syscall.EROFS)
	_, err = os.Create(filepath.Join(mnt, "current", c.dir, "new.txt"))
	wantErrno(t, "create", err, syscall.EROFS)
	wantErrno(t, "mkdir", os.Mkdir(filepath.Join(mnt, "tags", "new"), 0o755), syscall.EROFS)
	wantErrno(t, "remove", os.Remove(filepath.Join(hdir, vs[1].ID)), syscall.EROFS)
	wantErrno(t, "rename", os.Rename(cur, cur+".bak"), syscall.EROFS)
	wantErrno(t, "chmod", os.Chmod(cur, 0o644), syscall.EROFS)
	wantErrno(t, "truncate", os.Truncate(cur, 0), syscall.EROFS)
	wantErrno(t, "symlink", os.Symlink("x", filepath.Join(mnt, "current", "link")), syscall.EROFS)
	if got := readFile(t, cur); got != c.mlNew {
		t.Errorf("after the refused writes the file holds %q", got)
	}

	// Search folders follow the store within a moment.
	zdir := filepath.Join(mnt, "search", "zeppelin")
	if got := readDirNames(t, zdir); len(got) != 0 {
		t.Fatalf("search/zeppelin before indexing: %q", got)
	}
	write(t, filepath.Join(c.dir, "airship.txt"), "The zeppelin floated over the lake.\n")
	if _, err := c.st.Index(context.Background(), []string{c.dir}, objfs.IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := readDirNames(t, zdir)
		if slices.Equal(got, []string{"01 airship.txt"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search/zeppelin still lists %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := srv.Unmount(context.Background()); err != nil {
		t.Fatal(err)
	}
	if inProcMounts(t, mnt) {
		t.Fatalf("%s still in /proc/mounts after Unmount", mnt)
	}
	if info, err := Probe(mnt); err != nil || info.State != NotMounted {
		t.Fatalf("after Unmount: %+v %v", info, err)
	}
}

// TestUnmountedElsewhere: umount (or fusermount3 -u, or noema fs umount)
// ends Run without an error.
func TestUnmountedElsewhere(t *testing.T) {
	c := newCorpus(t)
	srv, mnt := mountTest(t, c.st)
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(context.Background()) }()
	if err := Unmount(context.Background(), mnt, false); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run after an outside unmount: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the view was unmounted")
	}
	if inProcMounts(t, mnt) {
		t.Fatal("still mounted")
	}
}

// TestUnmountBusy: a file open in the view does not keep it mounted;
// the open file keeps working until it is closed.
func TestUnmountBusy(t *testing.T) {
	c := newCorpus(t)
	srv, mnt := mountTest(t, c.st)
	f, err := os.Open(filepath.Join(mnt, "current", c.ml))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for inProcMounts(t, mnt) {
		if time.Now().After(deadline) {
			t.Fatal("a busy view was not detached")
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, len(c.mlNew))
	if n, err := f.ReadAt(buf, 0); err != nil || string(buf[:n]) != c.mlNew {
		t.Errorf("the open file after detaching: %q %v", buf[:n], err)
	}
	f.Close()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the last open file closed")
	}
}

func TestProbeNotMounted(t *testing.T) {
	info, err := Probe(t.TempDir())
	if err != nil || info.State != NotMounted {
		t.Fatalf("%+v %v", info, err)
	}
}
