package fusefs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// FSType is the file system type a Noema view shows in /proc/mounts,
// `df -T` and `findmnt`.
const FSType = "fuse." + fsName

const fsName = "noema"

// State says what a folder holds.
type State int

const (
	// NotMounted: nothing is mounted on the folder.
	NotMounted State = iota
	// Mounted: a file system is mounted there and answers.
	Mounted
	// Dead: a FUSE file system is mounted there but its server is gone
	// (killed, crashed, or the connection was aborted), so every access
	// fails with ENOTCONN until it is unmounted.
	Dead
)

func (s State) String() string {
	switch s {
	case NotMounted:
		return "not mounted"
	case Mounted:
		return "mounted"
	case Dead:
		return "dead"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MountInfo describes the mount on a folder.
type MountInfo struct {
	// Dir is the folder, with symbolic links resolved as the kernel
	// reports it.
	Dir    string
	State  State
	FSType string
	Source string
}

// Noema reports whether the mount is a Noema view.
func (m MountInfo) Noema() bool { return m.FSType == FSType }

// Probe reports what is mounted on dir. It reads /proc/self/mountinfo,
// then asks the file system on dir for its statistics to tell a live
// FUSE mount from a dead one: the kernel keeps a mount whose server died
// until someone unmounts it.
func Probe(dir string) (MountInfo, error) {
	dir, err := resolveDir(dir)
	if err != nil {
		return MountInfo{}, err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return MountInfo{}, fmt.Errorf("fusefs: read mounts: %w", err)
	}
	defer f.Close()
	mounts := parseMountinfo(f)
	info := MountInfo{Dir: dir}
	// The last entry for a mount point is the one on top.
	for _, m := range mounts {
		if m.mountPoint == dir {
			info.State, info.FSType, info.Source = Mounted, m.fsType, m.source
		}
	}
	if info.State == Mounted && isFUSE(info.FSType) {
		// statfs always asks the server; stat could be answered from
		// attributes the kernel cached while the server lived.
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); errors.Is(err, unix.ENOTCONN) || errors.Is(err, unix.ECONNABORTED) {
			info.State = Dead
		}
	}
	return info, nil
}

func isFUSE(fsType string) bool {
	return fsType == "fuse" || fsType == "fuseblk" || strings.HasPrefix(fsType, "fuse.")
}

// resolveDir makes dir absolute and resolves symbolic links the way the
// kernel names the mount point, without touching dir itself when it may
// be a dead mount (any access to which fails).
func resolveDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("fusefs: %w", err)
	}
	if abs == "/" {
		return abs, nil
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("fusefs: %w", err)
	}
	p := filepath.Join(parent, filepath.Base(abs))
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if p, err = filepath.EvalSymlinks(p); err != nil {
			return "", fmt.Errorf("fusefs: %w", err)
		}
	}
	return p, nil
}

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	mountPoint string
	fsType     string
	source     string
}

// parseMountinfo reads the proc(5) mountinfo format:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
//
// Lines it cannot read are skipped: one odd line must not hide the rest.
func parseMountinfo(r io.Reader) []mountEntry {
	var out []mountEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(fields) < sep+3 {
			continue
		}
		out = append(out, mountEntry{
			mountPoint: unescapeMount(fields[4]),
			fsType:     unescapeMount(fields[sep+1]),
			source:     unescapeMount(fields[sep+2]),
		})
	}
	return out
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space,
// \011, \012, \134) in mountinfo fields.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Unmount unmounts the file system on dir. Lazy detaches it at once even
// while it is busy (the kernel finishes the job when the last open file
// closes), which is also how a dead mount is cleared. As root it calls
// umount2(2); otherwise fusermount3 (or fusermount) does it. A busy mount
// gives an error wrapping unix.EBUSY.
func Unmount(ctx context.Context, dir string, lazy bool) error {
	if os.Geteuid() == 0 {
		flags := 0
		if lazy {
			flags = unix.MNT_DETACH
		}
		if err := unix.Unmount(dir, flags); err != nil {
			return fmt.Errorf("fusefs: unmount %s: %w", dir, err)
		}
		return nil
	}
	bin, err := fusermount()
	if err != nil {
		return err
	}
	args := []string{"-u"}
	if lazy {
		args = append(args, "-z")
	}
	out, err := exec.CommandContext(ctx, bin, append(args, "--", dir)...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if strings.Contains(msg, "busy") {
			return fmt.Errorf("fusefs: unmount %s: %s: %w", dir, msg, unix.EBUSY)
		}
		return fmt.Errorf("fusefs: unmount %s: %s: %w", dir, msg, err)
	}
	return nil
}

// fusermount finds the setuid helper that mounts and unmounts FUSE file
// systems for users other than root.
func fusermount() (string, error) {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("fusefs: fusermount3 is not installed (Debian package fuse3); it is needed to mount and unmount without root")
}
