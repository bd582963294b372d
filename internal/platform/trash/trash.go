//go:build unix

package trash

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

var (
	// ErrProtected is returned by Put for paths that must not be
	// trashed: the root directory, mount points, and trash directories,
	// their contents and their ancestors.
	ErrProtected = errors.New("protected path")

	// ErrNoTrash is returned by Put when the item's filesystem has no
	// usable trash directory and the copy into the home trash cannot be
	// done safely either. The item is left untouched.
	ErrNoTrash = errors.New("no usable trash directory")

	// ErrIncomplete reports that an item was copied and verified (into
	// the trash by Put, or back to its original location by Restore),
	// but removing the source stopped part-way. No data is lost: the
	// complete copy exists, and what remains of the source is the
	// not-yet-removed part of an identical tree.
	ErrIncomplete = errors.New("source only partly removed after a verified copy")
)

// errOrphan marks a .trashinfo file without its files/ entry. This is
// the normal state while another process is between creating the info
// file and moving the item, so List skips such entries silently.
var errOrphan = fmt.Errorf("no matching entry in files/: %w", fs.ErrNotExist)

// Options configures a Trash. The zero value uses the environment.
type Options struct {
	// DataHome is the XDG data directory holding the home trash
	// (DataHome/Trash). Empty means $XDG_DATA_HOME if it is set to an
	// absolute path, else $HOME/.local/share. It must be absolute.
	DataHome string

	// Now returns the time recorded as DeletionDate. Nil means
	// time.Now.
	Now func() time.Time
}

// Trash puts items into and restores them from freedesktop.org trash
// directories. It holds no mutable state and is safe for concurrent
// use; concurrent use with other implementations of the specification
// is safe too.
type Trash struct {
	dataHome  string
	homeTrash string
	now       func() time.Time
	uid       int
}

// Item is one trashed file or directory.
type Item struct {
	// ID is the item's name in TrashDir/files. It is unique within
	// TrashDir, and together with TrashDir identifies the item.
	ID string
	// TrashDir is the trash directory holding the item: the home trash
	// or a per-filesystem one such as /media/usb/.Trash-1000.
	TrashDir string
	// OriginalPath is where the item was trashed from, with symbolic
	// links in its parent directories resolved.
	OriginalPath string
	// DeletedAt is the recorded deletion time (local time, seconds).
	DeletedAt time.Time
	// InfoPath is the item's .trashinfo file.
	InfoPath string
	// FilesPath is the trashed file or directory itself.
	FilesPath string
}

// New returns a Trash configured by opts. It does not touch the file
// system; trash directories are created when first needed.
func New(opts Options) (*Trash, error) {
	dataHome := opts.DataHome
	if dataHome == "" {
		var err error
		if dataHome, err = dataHomeFromEnv(); err != nil {
			return nil, fmt.Errorf("trash: %w", err)
		}
	}
	if !filepath.IsAbs(dataHome) {
		return nil, fmt.Errorf("trash: data home %q is not an absolute path", dataHome)
	}
	dataHome = filepath.Clean(dataHome)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Trash{
		dataHome:  dataHome,
		homeTrash: filepath.Join(dataHome, "Trash"),
		now:       now,
		uid:       os.Getuid(),
	}, nil
}

// dataHomeFromEnv applies the XDG Base Directory rules: a relative
// $XDG_DATA_HOME is invalid and must be ignored.
func dataHomeFromEnv() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locating the home trash: %w", err)
	}
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("locating the home trash: $HOME %q is not an absolute path", home)
	}
	return filepath.Join(home, ".local", "share"), nil
}

// HomeTrashDir returns the path of the home trash directory.
func (t *Trash) HomeTrashDir() string { return t.homeTrash }

// trashDir is a trash directory together with the directory its
// relative Path values are resolved against.
type trashDir struct {
	path string
	base string
}

func (d trashDir) filesDir() string { return filepath.Join(d.path, "files") }
func (d trashDir) infoDir() string  { return filepath.Join(d.path, "info") }

func (t *Trash) home() trashDir { return trashDir{path: t.homeTrash, base: t.dataHome} }

// Put moves the file or directory at path into the trash and returns the
// resulting item.
//
// A symbolic link named by path is trashed itself, never its target;
// links in the parent directories are resolved, and OriginalPath records
// the resolved location. Put refuses (ErrProtected) the root directory,
// mount points, trash directories, anything inside them and their
// ancestors.
//
// When the item has to be copied (see the package documentation), ctx is
// checked between files and between chunks of large files until the copy
// is verified; after that the original is removed without further
// checks, so that cancellation never leaves a half-removed original. If
// the error wraps ErrIncomplete, the returned Item is valid and in the
// trash.
func (t *Trash) Put(ctx context.Context, path string) (Item, error) {
	it, err := t.put(ctx, path)
	if err != nil {
		return it, fmt.Errorf("trash: put %s: %w", path, err)
	}
	return it, nil
}

func (t *Trash) put(ctx context.Context, path string) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	if path == "" {
		return Item{}, errors.New("empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Item{}, err
	}
	if abs == "/" {
		return Item{}, fmt.Errorf("%w: refusing to trash the root directory", ErrProtected)
	}
	// Only the parent is resolved: the final element is trashed as it
	// is, so a symlink goes to the trash and its target stays. The
	// resolved parent is what device and mount point checks must see.
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return Item{}, err
	}
	orig := filepath.Join(parent, filepath.Base(abs))
	fi, err := os.Lstat(orig)
	if err != nil {
		return Item{}, err
	}

	home, homeDev, homeReal, err := t.ensureHome()
	if err != nil {
		return Item{}, fmt.Errorf("home trash: %w", err)
	}
	topdir, parentDev, err := findTopdir(parent)
	if err != nil {
		return Item{}, fmt.Errorf("finding mount point: %w", err)
	}
	if err := t.checkProtected(orig, fi, topdir, parentDev, homeReal); err != nil {
		return Item{}, err
	}
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	deleted := t.deletionTime()

	if devOf(fi) == homeDev {
		return t.moveInto(ctx, home, orig, orig, deleted, false)
	}
	td, tdErr := t.topdirTrash(topdir)
	if tdErr == nil {
		rel, err := filepath.Rel(topdir, orig)
		if err != nil {
			return Item{}, err
		}
		return t.moveInto(ctx, td, orig, rel, deleted, false)
	}
	// The specification allows falling back to the home trash. That
	// means a copy, which is only started if the original can be
	// removed afterwards; otherwise the item would end up in two places.
	if err := preflight(ctx, orig); err != nil {
		return Item{}, fmt.Errorf("%w: trash on %s unusable (%v), and copying to the home trash is not possible: %w",
			ErrNoTrash, topdir, tdErr, err)
	}
	return t.moveInto(ctx, home, orig, orig, deleted, true)
}

// deletionTime returns now as it will be read back from a .trashinfo
// file, so that the Item returned by Put equals the one List returns.
func (t *Trash) deletionTime() time.Time {
	s := t.now().In(time.Local).Format(dateLayout)
	d, err := time.ParseInLocation(dateLayout, s, time.Local)
	if err != nil {
		return t.now().Truncate(time.Second)
	}
	return d
}

// ensureHome creates the home trash if needed and returns it, the device
// it lives on, and its path with symlinks resolved.
func (t *Trash) ensureHome() (trashDir, uint64, string, error) {
	home := t.home()
	for _, d := range []string{home.filesDir(), home.infoDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return trashDir{}, 0, "", err
		}
	}
	fi, err := os.Stat(home.filesDir())
	if err != nil {
		return trashDir{}, 0, "", err
	}
	real, err := filepath.EvalSymlinks(home.path)
	if err != nil {
		return trashDir{}, 0, "", err
	}
	return home, devOf(fi), real, nil
}

// checkProtected rejects paths whose trashing would be destructive or
// meaningless: trash directories (moving the trash into itself),
// their contents (already trashed), and mount points (cannot be
// renamed; copying would empty a whole filesystem).
func (t *Trash) checkProtected(orig string, fi fs.FileInfo, topdir string, parentDev uint64, homeReal string) error {
	for _, h := range []string{t.homeTrash, homeReal} {
		switch {
		case orig == h:
			return fmt.Errorf("%w: %s is the home trash", ErrProtected, orig)
		case isWithin(orig, h):
			return fmt.Errorf("%w: %s is inside the home trash", ErrProtected, orig)
		case isWithin(h, orig):
			return fmt.Errorf("%w: %s contains the home trash", ErrProtected, orig)
		}
	}
	if devOf(fi) != parentDev || orig == topdir {
		return fmt.Errorf("%w: %s is a mount point", ErrProtected, orig)
	}
	rel, err := filepath.Rel(topdir, orig)
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(rel, "/")
	if first == ".Trash" || isUserTrashName(first) {
		return fmt.Errorf("%w: %s is a trash directory of its filesystem or inside one", ErrProtected, orig)
	}
	return nil
}

// isWithin reports whether p is strictly inside dir.
func isWithin(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, dir+"/")
}

// findTopdir returns the mount point of the filesystem holding dir (the
// specification's $topdir), found as the highest ancestor on the same
// device, and that device.
func findTopdir(dir string) (string, uint64, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return "", 0, err
	}
	dev := devOf(fi)
	cur := dir
	for cur != "/" {
		up := filepath.Dir(cur)
		ufi, err := os.Stat(up)
		if err != nil {
			return "", 0, err
		}
		if devOf(ufi) != dev {
			break
		}
		cur = up
	}
	return cur, dev, nil
}

// topdirTrash returns the trash directory for the filesystem mounted at
// topdir, creating it if needed: method (1) of the specification,
// $topdir/.Trash/$uid, if an administrator prepared a sticky
// $topdir/.Trash, else method (2), $topdir/.Trash-$uid.
func (t *Trash) topdirTrash(topdir string) (trashDir, error) {
	var errs []error
	uid := strconv.Itoa(t.uid)
	shared := filepath.Join(topdir, ".Trash")
	if err := checkSharedTrash(shared); err == nil {
		dir := filepath.Join(shared, uid)
		err := t.ensureUserTrash(dir)
		if err == nil {
			return trashDir{path: dir, base: topdir}, nil
		}
		errs = append(errs, err)
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	dir := filepath.Join(topdir, ".Trash-"+uid)
	if err := t.ensureUserTrash(dir); err != nil {
		return trashDir{}, errors.Join(append(errs, err)...)
	}
	return trashDir{path: dir, base: topdir}, nil
}

// checkSharedTrash applies the checks the specification requires before
// $topdir/.Trash may be used: a real directory (not a symlink, which
// could point anywhere) with the sticky bit (so users cannot remove each
// other's subdirectories).
func checkSharedTrash(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; not used as a trash", path)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory; not used as a trash", path)
	case fi.Mode()&fs.ModeSticky == 0:
		return fmt.Errorf("%s lacks the sticky bit; not used as a trash", path)
	}
	return nil
}

// ensureUserTrash creates (mode 0700) and validates a per-user trash
// directory and its files/ and info/ subdirectories.
func (t *Trash) ensureUserTrash(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := t.checkUserTrash(dir); err != nil {
		return err
	}
	for _, sub := range []string{"files", "info"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", p)
		}
	}
	return nil
}

// checkUserTrash verifies that dir is a real directory owned by the
// user. Anything else could have been planted by another user, to
// capture trashed data or to feed us crafted .trashinfo files.
func (t *Trash) checkUserTrash(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; not used as a trash", dir)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory; not used as a trash", dir)
	case int(ownerOf(fi)) != t.uid:
		return fmt.Errorf("%s is owned by uid %d, not %d; not used as a trash", dir, ownerOf(fi), t.uid)
	}
	return nil
}

// moveInto records and moves src into td. pathValue is the Path value
// for the .trashinfo file. If copyOnly is set, the caller has already
// determined (and preflighted) that a rename cannot work.
func (t *Trash) moveInto(ctx context.Context, td trashDir, src, pathValue string, deleted time.Time, copyOnly bool) (Item, error) {
	content := encodeInfo(pathValue, deleted)
	base := filepath.Base(src)
	// A name can be lost between reserving it and moving the item if a
	// non-conforming program creates files/NAME without an info file;
	// retry a few times with a fresh name.
	for attempt := 0; ; attempt++ {
		id, infoPath, err := reserve(ctx, td, base, content)
		if err != nil {
			return Item{}, err
		}
		it := Item{
			ID:           id,
			TrashDir:     td.path,
			OriginalPath: src,
			DeletedAt:    deleted,
			InfoPath:     infoPath,
			FilesPath:    filepath.Join(td.filesDir(), id),
		}
		err = transfer(ctx, src, it.FilesPath, copyOnly)
		if err == nil {
			_ = syncDir(td.filesDir())
			return it, nil
		}
		if errors.Is(err, ErrIncomplete) {
			return it, err
		}
		if rerr := os.Remove(infoPath); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("removing %s: %w", infoPath, rerr))
		}
		if errors.Is(err, fs.ErrExist) && attempt < 3 {
			continue
		}
		return Item{}, err
	}
}

// transfer moves src to dst, which must not exist, by rename or, across
// filesystems, by a verified copy followed by removal of src.
func transfer(ctx context.Context, src, dst string, copyOnly bool) error {
	if !copyOnly {
		err := renameNoReplace(src, dst)
		if !errors.Is(err, syscall.EXDEV) {
			return err
		}
		if err := preflight(ctx, src); err != nil {
			return err
		}
	}
	return copyMove(ctx, src, dst)
}

const (
	// maxNameLen keeps NAME.trashinfo within NAME_MAX (255 bytes).
	maxNameLen = 255 - len(infoSuffix)
	// Sequential names ("a.2.txt", "a.3.txt", ...) are tried first
	// because they are what users expect to see in the trash; random
	// ones bound the cost when a name has been trashed very often.
	sequentialNames = 100
	maxNameAttempts = sequentialNames + 50
)

// reserve claims a name in td by creating its .trashinfo file with
// O_EXCL, as the specification requires: whoever creates the info file
// owns the name, so concurrent trashers never pick the same one.
func reserve(ctx context.Context, td trashDir, base string, content []byte) (id, infoPath string, err error) {
	for n := 1; n <= maxNameAttempts; n++ {
		if err := ctx.Err(); err != nil {
			return "", "", err
		}
		id := candidateName(base, n)
		if _, err := os.Lstat(filepath.Join(td.filesDir(), id)); err == nil {
			continue // left behind without an info file; do not touch it
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		infoPath := filepath.Join(td.infoDir(), id+infoSuffix)
		f, err := os.OpenFile(infoPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", "", err
		}
		_, werr := f.Write(content)
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			_ = os.Remove(infoPath)
			return "", "", fmt.Errorf("writing %s: %w", infoPath, err)
		}
		_ = syncDir(td.infoDir())
		return id, infoPath, nil
	}
	return "", "", fmt.Errorf("no free name for %q in %s after %d attempts", base, td.path, maxNameAttempts)
}

// candidateName returns the n-th name to try for base: base itself, then
// "stem.N.ext" (keeping the extension so that file managers still
// recognize the type), then a random suffix; all truncated on a UTF-8
// boundary to fit maxNameLen.
func candidateName(base string, n int) string {
	ext := filepath.Ext(base)
	if ext == base || ext == "." || len(ext) > 16 {
		ext = ""
	}
	stem := base[:len(base)-len(ext)]
	var suffix string
	switch {
	case n == 1:
	case n <= sequentialNames:
		suffix = "." + strconv.Itoa(n)
	default:
		var b [4]byte
		_, _ = rand.Read(b[:])
		suffix = "." + hex.EncodeToString(b[:])
	}
	if over := len(stem) + len(suffix) + len(ext) - maxNameLen; over > 0 {
		cut := len(stem) - over
		for cut > 0 && !utf8.RuneStart(stem[cut]) {
			cut--
		}
		stem = stem[:max(cut, 0)]
	}
	return stem + suffix + ext
}

// Restore moves a trashed item back to its original location and removes
// its .trashinfo file. The item is re-read from disk, so a stale Item
// (for example, one already restored) gives a clear error. Restore
// refuses, with an error wrapping fs.ErrExist, to overwrite anything now
// at the original path, and recreates missing parent directories.
func (t *Trash) Restore(ctx context.Context, it Item) error {
	if err := t.restore(ctx, it); err != nil {
		return fmt.Errorf("trash: restore %s from %s: %w", it.ID, it.TrashDir, err)
	}
	return nil
}

func (t *Trash) restore(ctx context.Context, it Item) error {
	cur, err := t.lookup(ctx, it.TrashDir, it.ID)
	if err != nil {
		return err
	}
	if it.OriginalPath != "" && filepath.Clean(it.OriginalPath) != cur.OriginalPath {
		return fmt.Errorf("item now records original path %s, not %s", cur.OriginalPath, it.OriginalPath)
	}
	dst := cur.OriginalPath
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("refusing to overwrite %s: %w", dst, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return fmt.Errorf("recreating parent directory: %w", err)
	}
	if err := transfer(ctx, cur.FilesPath, dst, false); err != nil {
		if errors.Is(err, fs.ErrExist) && !errors.Is(err, ErrIncomplete) {
			return fmt.Errorf("refusing to overwrite %s: %w", dst, err)
		}
		return err
	}
	if err := os.Remove(cur.InfoPath); err != nil {
		return fmt.Errorf("restored to %s, but removing %s failed: %w", dst, cur.InfoPath, err)
	}
	return nil
}

// Lookup returns the item with the given ID in trashDir, which must be
// the home trash or a per-filesystem trash directory. The result is read
// from disk; an item whose files/ entry is missing is reported with an
// error wrapping fs.ErrNotExist.
func (t *Trash) Lookup(ctx context.Context, trashDir, id string) (Item, error) {
	it, err := t.lookup(ctx, trashDir, id)
	if err != nil {
		return Item{}, fmt.Errorf("trash: lookup %s in %s: %w", id, trashDir, err)
	}
	return it, nil
}

func (t *Trash) lookup(ctx context.Context, dir, id string) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	td, err := t.trashDirAt(dir)
	if err != nil {
		return Item{}, err
	}
	return readItem(td, id)
}

// trashDirAt validates dir as a trash directory and determines the base
// for its relative Path values.
func (t *Trash) trashDirAt(dir string) (trashDir, error) {
	if !filepath.IsAbs(dir) {
		return trashDir{}, fmt.Errorf("trash directory %q is not an absolute path", dir)
	}
	dir = filepath.Clean(dir)
	if dir == t.homeTrash {
		return t.home(), nil
	}
	name, parent := filepath.Base(dir), filepath.Dir(dir)
	var topdir string
	switch {
	case isUserTrashName(name):
		topdir = parent
	case filepath.Base(parent) == ".Trash" && isDigits(name):
		if err := checkSharedTrash(parent); err != nil {
			return trashDir{}, err
		}
		topdir = filepath.Dir(parent)
	default:
		return trashDir{}, fmt.Errorf("%s is not a trash directory", dir)
	}
	if err := t.checkUserTrash(dir); err != nil {
		return trashDir{}, err
	}
	return trashDir{path: dir, base: topdir}, nil
}

func isUserTrashName(name string) bool {
	rest, ok := strings.CutPrefix(name, ".Trash-")
	return ok && isDigits(rest)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validID rejects names that would resolve outside files/ or to files/
// itself.
func validID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return fmt.Errorf("invalid item ID %s", quote([]byte(id)))
	}
	return nil
}

func readItem(td trashDir, id string) (Item, error) {
	if err := validID(id); err != nil {
		return Item{}, err
	}
	infoPath := filepath.Join(td.infoDir(), id+infoSuffix)
	data, err := readInfoFile(infoPath)
	if err != nil {
		return Item{}, err
	}
	info, err := ParseInfo(data, td.base)
	if err != nil {
		return Item{}, fmt.Errorf("%s: %w", infoPath, err)
	}
	filesPath := filepath.Join(td.filesDir(), id)
	if _, err := os.Lstat(filesPath); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Item{}, fmt.Errorf("%s: %w", infoPath, errOrphan)
		}
		return Item{}, err
	}
	return Item{
		ID:           id,
		TrashDir:     td.path,
		OriginalPath: info.Path,
		DeletedAt:    info.DeletionDate,
		InfoPath:     infoPath,
		FilesPath:    filesPath,
	}, nil
}

// readInfoFile reads a .trashinfo file without following symlinks or
// blocking on FIFOs, and with bounded memory.
func readInfoFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrMalformedInfo)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxInfoSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxInfoSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrMalformedInfo, MaxInfoSize)
	}
	return data, nil
}

// ListError reports entries List skipped: malformed or unreadable
// .trashinfo files and unreadable trash directories. The items List
// returns alongside it are still valid.
type ListError struct {
	Errs []error
}

func (e *ListError) Error() string {
	switch len(e.Errs) {
	case 0:
		return "trash: list: no entries skipped"
	case 1:
		return "trash: list: skipped 1 entry: " + e.Errs[0].Error()
	}
	return fmt.Sprintf("trash: list: skipped %d entries; first: %v", len(e.Errs), e.Errs[0])
}

// Unwrap returns the individual errors, for errors.Is and errors.As.
func (e *ListError) Unwrap() []error { return e.Errs }

// List returns the items in the home trash and in the current user's
// trash directories on mounted filesystems, oldest first. Entries that
// cannot be read or parsed are skipped and reported in a *ListError,
// returned together with the valid items. Info files whose item is
// missing are skipped silently: that is the transient state of a Put in
// progress.
func (t *Trash) List(ctx context.Context) ([]Item, error) {
	dirs, errs := t.knownTrashDirs(ctx)
	var items []Item
	for _, td := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("trash: list: %w", err)
		}
		entries, err := os.ReadDir(td.infoDir())
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("trash: list: %w", err)
			}
			id, ok := strings.CutSuffix(e.Name(), infoSuffix)
			if !ok {
				continue // not an info file, e.g. an editor's backup
			}
			it, err := readItem(td, id)
			switch {
			case err == nil:
				items = append(items, it)
			case errors.Is(err, errOrphan):
			default:
				errs = append(errs, err)
			}
		}
	}
	slices.SortFunc(items, func(a, b Item) int {
		return cmp.Or(a.DeletedAt.Compare(b.DeletedAt), cmp.Compare(a.TrashDir, b.TrashDir), cmp.Compare(a.ID, b.ID))
	})
	if len(errs) > 0 {
		return items, &ListError{Errs: errs}
	}
	return items, nil
}

// knownTrashDirs returns the home trash and the user's trash directories
// on mounted filesystems, applying the same ownership checks as Put so
// that a trash directory planted by someone else is never listed.
func (t *Trash) knownTrashDirs(ctx context.Context) ([]trashDir, []error) {
	dirs := []trashDir{t.home()}
	seen := map[string]bool{t.homeTrash: true}
	if real, err := filepath.EvalSymlinks(t.homeTrash); err == nil {
		seen[real] = true
	}
	mounts, err := mountPoints()
	if err != nil {
		return dirs, []error{fmt.Errorf("listing mount points: %w", err)}
	}
	uid := strconv.Itoa(t.uid)
	for _, mp := range mounts {
		if ctx.Err() != nil {
			break
		}
		cands := []string{filepath.Join(mp, ".Trash-"+uid)}
		if checkSharedTrash(filepath.Join(mp, ".Trash")) == nil {
			cands = append(cands, filepath.Join(mp, ".Trash", uid))
		}
		for _, dir := range cands {
			if seen[dir] || t.checkUserTrash(dir) != nil {
				continue
			}
			seen[dir] = true
			dirs = append(dirs, trashDir{path: dir, base: mp})
		}
	}
	return dirs, nil
}

func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

func ownerOf(fi fs.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return 0
}
