package trash

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a fresh tmpfs, which is a different filesystem from
// the temporary home, or skips the test if that is not permitted.
func mountTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: mounting a tmpfs for cross-filesystem tests needs root")
	}
	dir := realDir(t, t.TempDir())
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64m,mode=0755"); err != nil {
		t.Skipf("skipping: cannot mount a tmpfs at %s (%v), so cross-filesystem trashing is not tested", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

func uidString() string { return strconv.Itoa(os.Getuid()) }

func TestCrossDeviceTopdirTrash(t *testing.T) {
	e := newEnv(t)
	mnt := mountTmpfs(t)
	ctx := context.Background()

	file := filepath.Join(mnt, "sub dir", "file.txt")
	writeFile(t, file, "on tmpfs", 0o640)
	tree := filepath.Join(mnt, "tree")
	makeTree(t, tree)
	before := snapshot(t, tree)

	fit, err := e.tr.Put(ctx, file)
	if err != nil {
		t.Fatalf("Put file: %v", err)
	}
	trashDir := filepath.Join(mnt, ".Trash-"+uidString())
	if fit.TrashDir != trashDir {
		t.Errorf("TrashDir = %s, want %s", fit.TrashDir, trashDir)
	}
	if fi, err := os.Lstat(trashDir); err != nil || fi.Mode() != fs.ModeDir|0o700 {
		t.Errorf("%s: mode %v, %v; want drwx------", trashDir, fi.Mode(), err)
	}
	// Relative to the mount point, as the specification recommends.
	if info := readString(t, fit.InfoPath); !strings.Contains(info, "\nPath=sub%20dir/file.txt\n") {
		t.Errorf("info file lacks relative Path:\n%s", info)
	}
	tit, err := e.tr.Put(ctx, tree)
	if err != nil {
		t.Fatalf("Put tree: %v", err)
	}
	if tit.TrashDir != trashDir {
		t.Errorf("tree TrashDir = %s, want %s", tit.TrashDir, trashDir)
	}
	compareTrees(t, "in trash", before, snapshot(t, tit.FilesPath))
	if entries, _ := os.ReadDir(filepath.Join(e.tr.HomeTrashDir(), "files")); len(entries) != 0 {
		t.Errorf("home trash used for an item with its own filesystem trash: %v", entries)
	}

	items, err := e.tr.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	found := map[string]string{}
	for _, it := range items {
		if it.TrashDir == trashDir {
			found[it.ID] = it.OriginalPath
		}
	}
	if found["file.txt"] != file || found["tree"] != tree {
		t.Errorf("List found %v in %s", found, trashDir)
	}

	// Items on a trash reached inside the mount point must be refused.
	for _, p := range []string{mnt, trashDir, filepath.Join(trashDir, "files", "tree")} {
		if _, err := e.tr.Put(ctx, p); !errors.Is(err, ErrProtected) {
			t.Errorf("Put(%s) = %v, want ErrProtected", p, err)
		}
	}

	for _, it := range []Item{fit, tit} {
		if err := e.tr.Restore(ctx, it); err != nil {
			t.Fatalf("Restore %s: %v", it.ID, err)
		}
	}
	if got := readString(t, file); got != "on tmpfs" {
		t.Errorf("restored %q", got)
	}
	compareTrees(t, "restored", before, snapshot(t, tree))
}

func TestCrossDeviceSharedTrash(t *testing.T) {
	e := newEnv(t)
	mnt := mountTmpfs(t)
	ctx := context.Background()
	shared := filepath.Join(mnt, ".Trash")

	// Without the sticky bit, $topdir/.Trash must be ignored.
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(mnt, "a")
	writeFile(t, p, "a", 0o644)
	it, err := e.tr.Put(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(mnt, ".Trash-"+uidString()); it.TrashDir != want {
		t.Errorf("non-sticky .Trash: TrashDir = %s, want %s", it.TrashDir, want)
	}

	if err := os.Chmod(shared, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(mnt, "b")
	writeFile(t, q, "b", 0o644)
	it, err = e.tr.Put(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(shared, uidString())
	if it.TrashDir != want {
		t.Errorf("sticky .Trash: TrashDir = %s, want %s", it.TrashDir, want)
	}
	if info := readString(t, it.InfoPath); !strings.Contains(info, "\nPath=b\n") {
		t.Errorf("info file lacks relative Path:\n%s", info)
	}
	got, err := e.tr.Lookup(ctx, want, "b")
	if err != nil || got.OriginalPath != q {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if err := e.tr.Restore(ctx, got); err != nil {
		t.Fatal(err)
	}
	if readString(t, q) != "b" {
		t.Error("wrong content restored")
	}
}

func TestCrossDeviceFallbackCopy(t *testing.T) {
	e := newEnv(t)
	mnt := mountTmpfs(t)
	ctx := context.Background()

	// A planted symlink must not be used as the filesystem's trash:
	// Put falls back to copying into the home trash.
	elsewhere := realDir(t, t.TempDir())
	if err := os.Symlink(elsewhere, filepath.Join(mnt, ".Trash-"+uidString())); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(mnt, "tree")
	makeTree(t, tree)
	before := snapshot(t, tree)

	it, err := e.tr.Put(ctx, tree)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if it.TrashDir != e.tr.HomeTrashDir() {
		t.Errorf("TrashDir = %s, want the home trash", it.TrashDir)
	}
	mustNotExist(t, tree)
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("symlinked trash was written to: %v", entries)
	}
	// Absolute in the home trash.
	if info := readString(t, it.InfoPath); !strings.Contains(info, "\nPath="+escapePath(tree)+"\n") {
		t.Errorf("info file lacks absolute Path:\n%s", info)
	}
	compareTrees(t, "copied to home trash", before, snapshot(t, it.FilesPath))

	// Restoring crosses filesystems again.
	if err := e.tr.Restore(ctx, it); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	compareTrees(t, "restored", before, snapshot(t, tree))
	mustNotExist(t, it.FilesPath)
	mustNotExist(t, it.InfoPath)

	// A regular file planted as the trash directory: same fallback.
	if err := os.Remove(filepath.Join(mnt, ".Trash-"+uidString())); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mnt, ".Trash-"+uidString()), "not a dir", 0o644)
	p := filepath.Join(mnt, "single")
	writeFile(t, p, "single", 0o600)
	it, err = e.tr.Put(ctx, p)
	if err != nil || it.TrashDir != e.tr.HomeTrashDir() {
		t.Fatalf("Put = %+v, %v; want home trash", it, err)
	}
	mustNotExist(t, p)
}

func TestCrossDeviceFallbackRefusals(t *testing.T) {
	e := newEnv(t)
	mnt := mountTmpfs(t)
	ctx := context.Background()
	writeFile(t, filepath.Join(mnt, ".Trash-"+uidString()), "blocks the filesystem trash", 0o644)
	home := e.tr.HomeTrashDir()

	// A directory containing a socket cannot be copied faithfully.
	withSocket := filepath.Join(mnt, "with-socket")
	writeFile(t, filepath.Join(withSocket, "data"), "data", 0o644)
	l, err := net.Listen("unix", filepath.Join(withSocket, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	// A directory with another filesystem mounted inside: copying would
	// take that filesystem's content along.
	withMount := filepath.Join(mnt, "with-mount")
	writeFile(t, filepath.Join(withMount, "data"), "data", 0o644)
	inner := filepath.Join(withMount, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", inner, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(inner, unix.MNT_DETACH)

	for _, p := range []string{withSocket, withMount} {
		before := snapshot(t, p)
		_, err := e.tr.Put(ctx, p)
		if !errors.Is(err, ErrNoTrash) {
			t.Errorf("Put(%s) = %v, want ErrNoTrash", p, err)
		}
		t.Logf("Put(%s): %v", filepath.Base(p), err)
		compareTrees(t, p, before, snapshot(t, p))
	}
	for _, sub := range []string{"files", "info"} {
		if entries, _ := os.ReadDir(filepath.Join(home, sub)); len(entries) != 0 {
			t.Errorf("home trash %s/ not empty: %v", sub, entries)
		}
	}
}

func TestCrossDeviceReadOnly(t *testing.T) {
	e := newEnv(t)
	mnt := mountTmpfs(t)
	ctx := context.Background()
	p := filepath.Join(mnt, "keep.txt")
	writeFile(t, p, "precious", 0o644)
	if err := unix.Mount("", mnt, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("skipping: cannot remount tmpfs read-only: %v", err)
	}

	// No trash can be created on a read-only filesystem, and the copy
	// fallback is refused because the original could not be removed.
	_, err := e.tr.Put(ctx, p)
	if !errors.Is(err, ErrNoTrash) {
		t.Fatalf("Put = %v, want ErrNoTrash", err)
	}
	t.Logf("Put on read-only filesystem: %v", err)
	if got := readString(t, p); got != "precious" {
		t.Errorf("file changed: %q", got)
	}
	home := e.tr.HomeTrashDir()
	for _, sub := range []string{"files", "info"} {
		if entries, _ := os.ReadDir(filepath.Join(home, sub)); len(entries) != 0 {
			t.Errorf("home trash %s/ not empty: %v", sub, entries)
		}
	}
}

func TestCrossDeviceRestoreToReadOnly(t *testing.T) {
	e := newEnv(t)
	mnt := mountTmpfs(t)
	ctx := context.Background()
	writeFile(t, filepath.Join(mnt, ".Trash-"+uidString()), "blocks the filesystem trash", 0o644)
	p := filepath.Join(mnt, "f")
	writeFile(t, p, "f", 0o644)
	it, err := e.tr.Put(ctx, p)
	if err != nil || it.TrashDir != e.tr.HomeTrashDir() {
		t.Fatalf("Put = %+v, %v; want home trash", it, err)
	}
	if err := unix.Mount("", mnt, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("skipping: cannot remount tmpfs read-only: %v", err)
	}
	if err := e.tr.Restore(ctx, it); err == nil {
		t.Fatal("Restore onto a read-only filesystem succeeded")
	}
	if got := readString(t, it.FilesPath); got != "f" {
		t.Errorf("trashed file changed: %q", got)
	}
	if _, err := e.tr.Lookup(ctx, it.TrashDir, it.ID); err != nil {
		t.Errorf("item lost from trash: %v", err)
	}
}
