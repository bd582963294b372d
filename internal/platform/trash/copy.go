//go:build unix

package trash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// This file implements moving a tree between filesystems without ever
// losing data: preflight proves up front that the source could be removed
// afterwards, copyTree makes a durable copy, verifyTree compares it with
// the source, and only then are exactly the verified source entries
// removed, bottom-up, with unlink and rmdir (never a recursive delete,
// which would also take anything created in the source meanwhile).

// copyChunk is how much file data is copied between context checks.
const copyChunk = 8 << 20

// preflight checks that root can be copied and then removed: every entry
// is a supported type on root's filesystem, readable, and in a
// directory the caller may delete from. Catching these before copying
// means failures leave both sides untouched instead of producing a copy
// whose original cannot be removed.
func preflight(ctx context.Context, root string) error {
	fi, err := os.Lstat(root)
	if err != nil {
		return err
	}
	parent := filepath.Dir(root)
	pfi, err := os.Lstat(parent)
	if err != nil {
		return err
	}
	if err := unix.Access(parent, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("cannot remove %s afterwards: %w", root, &fs.PathError{Op: "access", Path: parent, Err: err})
	}
	if err := checkSticky(pfi, fi, root); err != nil {
		return err
	}
	return preflightEntry(ctx, root, fi, devOf(fi))
}

func preflightEntry(ctx context.Context, path string, fi fs.FileInfo, rootDev uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if devOf(fi) != rootDev {
		return fmt.Errorf("%s is a mount point; refusing to copy across filesystems", path)
	}
	mode := fi.Mode()
	switch {
	case mode.IsRegular():
		if err := unix.Access(path, unix.R_OK); err != nil {
			return &fs.PathError{Op: "access", Path: path, Err: err}
		}
	case mode&(fs.ModeSymlink|fs.ModeNamedPipe) != 0:
	case mode.IsDir():
		if err := unix.Access(path, unix.R_OK|unix.W_OK|unix.X_OK); err != nil {
			return fmt.Errorf("cannot copy and then empty directory: %w", &fs.PathError{Op: "access", Path: path, Err: err})
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range entries {
			child := filepath.Join(path, e.Name())
			cfi, err := e.Info()
			if err != nil {
				return err
			}
			if err := checkSticky(fi, cfi, child); err != nil {
				return err
			}
			if err := preflightEntry(ctx, child, cfi, rootDev); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%s: cannot copy a %s", path, typeName(mode))
	}
	return nil
}

// checkSticky reports whether the sticky bit on dir would prevent
// removing the entry child, which Access cannot tell.
func checkSticky(dir, child fs.FileInfo, path string) error {
	euid := uint32(os.Geteuid())
	if dir.Mode()&fs.ModeSticky == 0 || euid == 0 || ownerOf(dir) == euid || ownerOf(child) == euid {
		return nil
	}
	return fmt.Errorf("cannot remove %s afterwards: sticky directory and owned by uid %d", path, ownerOf(child))
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "file of type " + m.Type().String()
}

// copyMove copies src to dst (which must not exist), verifies the copy,
// and removes src. On failure before removal starts, the copy is
// deleted and src is untouched. If removal stops part-way, the error
// wraps ErrIncomplete and the complete copy is kept.
func copyMove(ctx context.Context, src, dst string) error {
	created, err := copyTree(ctx, src, dst)
	if err == nil {
		err = syncDir(filepath.Dir(dst))
	}
	var verified []removal
	if err == nil {
		if err = verifyTree(ctx, src, dst, &verified); err != nil {
			err = fmt.Errorf("verifying copy: %w", err)
		}
	}
	if err != nil {
		if created {
			if rerr := removeAllForce(dst); rerr != nil {
				err = errors.Join(err, fmt.Errorf("removing partial copy: %w", rerr))
			}
		}
		return err
	}

	// From here on the context is deliberately ignored: stopping now
	// would leave a full copy and a half-removed source.
	n, err := removeEntries(verified)
	if err == nil {
		_ = syncDir(filepath.Dir(src))
		return nil
	}
	if n == 0 {
		if rerr := removeAllForce(dst); rerr != nil {
			return errors.Join(fmt.Errorf("removing original after copy: %w", err), fmt.Errorf("removing copy: %w", rerr))
		}
		return fmt.Errorf("removing original after copy: %w", err)
	}
	return fmt.Errorf("%w: %s was copied to %s and verified, but removing it stopped: %w", ErrIncomplete, src, dst, err)
}

// copyTree copies src to dst without following symlinks, preserving
// permission bits (including setuid, setgid and sticky), modification
// times and, where permitted, ownership. created reports whether dst was
// created, so that a failure caused by an existing dst never leads the
// caller to delete what is there.
func copyTree(ctx context.Context, src, dst string) (created bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return false, err
	}
	mode := fi.Mode()
	switch {
	case mode.IsRegular():
		return copyFile(ctx, src, dst, fi)
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return false, err
		}
		if err := os.Symlink(target, dst); err != nil {
			return false, err
		}
		_ = os.Lchown(dst, int(ownerOf(fi)), int(groupOf(fi)))
		return true, setMtime(dst, fi)
	case mode&fs.ModeNamedPipe != 0:
		if err := unix.Mkfifo(dst, 0o600); err != nil {
			return false, &fs.PathError{Op: "mkfifo", Path: dst, Err: err}
		}
		_ = os.Lchown(dst, int(ownerOf(fi)), int(groupOf(fi)))
		if err := os.Chmod(dst, permBits(mode)); err != nil {
			return true, err
		}
		return true, setMtime(dst, fi)
	case mode.IsDir():
		if err := os.Mkdir(dst, 0o700); err != nil {
			return false, err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return true, err
		}
		for _, e := range entries {
			if _, err := copyTree(ctx, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return true, err
			}
		}
		// Permissions go on last so that a read-only directory can be
		// filled; through a descriptor, so a swapped-in symlink cannot
		// redirect them.
		d, err := os.OpenFile(dst, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return true, err
		}
		_ = d.Chown(int(ownerOf(fi)), int(groupOf(fi)))
		err = errors.Join(d.Chmod(permBits(mode)), ignoreEINVAL(d.Sync()))
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return true, err
		}
		return true, setMtime(dst, fi)
	default:
		return false, fmt.Errorf("%s: cannot copy a %s", src, typeName(mode))
	}
}

func copyFile(ctx context.Context, src, dst string, fi fs.FileInfo) (bool, error) {
	// O_NONBLOCK: if src was replaced by a FIFO since Lstat, do not hang.
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false, err
	}
	defer in.Close()
	ifi, err := in.Stat()
	if err != nil {
		return false, err
	}
	if !ifi.Mode().IsRegular() || !os.SameFile(fi, ifi) {
		return false, fmt.Errorf("%s changed while being copied", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	for err == nil {
		if err = ctx.Err(); err != nil {
			break
		}
		// CopyN lets *os.File use copy_file_range or sendfile.
		if _, err = io.CopyN(out, in, copyChunk); err == io.EOF {
			err = nil
			break
		}
	}
	if err == nil {
		// Ownership first: chown clears setuid and setgid bits.
		_ = out.Chown(int(ownerOf(ifi)), int(groupOf(ifi)))
		err = out.Chmod(permBits(ifi.Mode()))
	}
	if err == nil {
		// The original is deleted once this copy is verified, so the
		// copy must be on disk, not only in the page cache.
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return true, err
	}
	return true, setMtime(dst, ifi)
}

func permBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// setMtime copies fi's modification time to path without following a
// symlink at path. The access time is set to now: the copy was just
// read for verification, and UTIME_OMIT is not portable.
func setMtime(path string, fi fs.FileInfo) error {
	ts := []unix.Timespec{
		unix.NsecToTimespec(time.Now().UnixNano()),
		unix.NsecToTimespec(fi.ModTime().UnixNano()),
	}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimensat", Path: path, Err: err}
	}
	return nil
}

func groupOf(fi fs.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Gid
	}
	return 0
}

// removal is a verified source entry, in the order it can be removed.
type removal struct {
	path string
	dir  bool
}

// verifyTree compares dst with src: same types, permission bits,
// symlink targets, directory entries and file contents. It appends the
// source entries it verified to out in post-order (children before
// their directory), the order in which they can be removed.
func verifyTree(ctx context.Context, src, dst string, out *[]removal) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sfi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	dfi, err := os.Lstat(dst)
	if err != nil {
		return err
	}
	smode, dmode := sfi.Mode(), dfi.Mode()
	if smode.Type() != dmode.Type() {
		return fmt.Errorf("%s: type %v, copy has %v", src, smode.Type(), dmode.Type())
	}
	if smode&fs.ModeSymlink == 0 && permBits(smode) != permBits(dmode) {
		return fmt.Errorf("%s: mode %v, copy has %v", src, permBits(smode), permBits(dmode))
	}
	switch {
	case smode.IsRegular():
		if sfi.Size() != dfi.Size() {
			return fmt.Errorf("%s: size %d, copy has %d", src, sfi.Size(), dfi.Size())
		}
		if err := sameContent(ctx, src, dst); err != nil {
			return err
		}
	case smode&fs.ModeSymlink != 0:
		st, err := os.Readlink(src)
		if err != nil {
			return err
		}
		dt, err := os.Readlink(dst)
		if err != nil {
			return err
		}
		if st != dt {
			return fmt.Errorf("%s: link target %q, copy has %q", src, st, dt)
		}
	case smode.IsDir():
		snames, err := dirNames(src)
		if err != nil {
			return err
		}
		dnames, err := dirNames(dst)
		if err != nil {
			return err
		}
		if !slices.Equal(snames, dnames) {
			return fmt.Errorf("%s: directory entries differ from the copy", src)
		}
		for _, name := range snames {
			if err := verifyTree(ctx, filepath.Join(src, name), filepath.Join(dst, name), out); err != nil {
				return err
			}
		}
	}
	*out = append(*out, removal{path: src, dir: smode.IsDir()})
	return nil
}

func dirNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func sameContent(ctx context.Context, a, b string) error {
	fa, err := os.OpenFile(a, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.OpenFile(b, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer fb.Close()
	const chunk = 1 << 20
	ba, bb := make([]byte, chunk), make([]byte, chunk)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		na, erra := io.ReadFull(fa, ba)
		nb, errb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return fmt.Errorf("%s: content differs from the copy", a)
		}
		aEOF := erra == io.EOF || erra == io.ErrUnexpectedEOF
		bEOF := errb == io.EOF || errb == io.ErrUnexpectedEOF
		switch {
		case erra != nil && !aEOF:
			return erra
		case errb != nil && !bEOF:
			return errb
		case aEOF != bEOF:
			return fmt.Errorf("%s: content differs from the copy", a)
		case aEOF:
			return nil
		}
	}
}

// removeEntries removes the verified entries in order, stopping at the
// first failure, and returns how many were removed. rmdir, unlike a
// recursive delete, fails on a directory that gained entries after
// verification, so nothing unverified is ever removed.
func removeEntries(entries []removal) (int, error) {
	for i, r := range entries {
		var err error
		if r.dir {
			err = unix.Rmdir(r.path)
		} else {
			err = unix.Unlink(r.path)
		}
		if err != nil {
			return i, &fs.PathError{Op: "remove", Path: r.path, Err: err}
		}
	}
	return len(entries), nil
}

// removeAllForce deletes a tree this package created, including
// directories copied without write permission, which os.RemoveAll
// alone cannot empty.
func removeAllForce(path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}

// syncDir makes directory entries durable. Filesystems that do not
// support syncing directories report EINVAL, which is not an error
// here.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = ignoreEINVAL(d.Sync())
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func ignoreEINVAL(err error) error {
	if errors.Is(err, syscall.EINVAL) {
		return nil
	}
	return err
}

// renameChecked renames after checking that newpath does not exist. It
// is the fallback where RENAME_NOREPLACE is unavailable; the window
// between check and rename is narrow, and the .trashinfo file reserved
// beforehand keeps conforming programs away from the name.
func renameChecked(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); err == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(oldpath, newpath)
}
