// Package fusefs shows an objfs store as a read-only folder, so that any
// program (a shell, a file manager, an editor) can search, browse tags
// and open old versions without knowing about Noema:
//
//	search/<query>/   the best matches for the query, best first:
//	                  "01 notes.md", "02 ml.txt", … (the number is the
//	                  rank, so that `ls` shows them in order)
//	tags/<tag>/       the files with the tag; a tag such as
//	                  "work/projects" is the folder tags/work/projects/
//	history/<path>/   one file per version of the file at /<path>, named
//	                  by version id, dated when the version was recorded
//	current/<path>    the current version of every file that still exists
//
// Files in search/, tags/ and current/ hold the current version and keep
// their base name (and so their extension); when two share a base name,
// the shortest differing tail of their folders tells them apart:
// "notes (work).md" and "notes (play).md". Their modification time is
// the original file's; in history/ it is the version's creation time.
// Versions that record a deletion have no bytes and are not listed.
//
// Everything is read-only: the mount itself is read-only, so writes fail
// with EROFS before they reach the server, and the server refuses them
// too. Files belong to the user who mounted the view, with modes 0444
// and 0555. Every read checks chunk hashes (objfs.VersionReader); damage
// is an EIO, never wrong bytes.
//
// The kernel caches names and attributes briefly: a second under
// search/, where results change as files do, a few seconds elsewhere.
// A version's bytes never change, so its attributes and pages are cached
// for longer. Queries cannot start with "." (file managers probe for
// such names) or hold "/".
package fusefs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/noema-project/noema/objfs"
	"golang.org/x/sys/unix"
)

// Cache lifetimes, in the kernel and in the server.
const (
	// searchTTL bounds how stale a search folder may be.
	searchTTL = time.Second
	// listTTL bounds how stale tags/, current/ and history/ listings
	// may be.
	listTTL = 2 * time.Second
	// immutableTTL is for what cannot change: a version's attributes,
	// and the names of versions.
	immutableTTL = time.Minute
)

// DefaultResults is how many matches a search folder lists by default.
const DefaultResults = 20

// Options configure a mount.
type Options struct {
	// Results is how many matches a search folder lists (default
	// DefaultResults).
	Results int
	// Logf receives what no reader of the mount would otherwise see,
	// such as the damaged chunk behind an EIO (default: discarded).
	Logf func(format string, args ...any)
	// Debug logs every FUSE request through Logf.
	Debug bool
}

// Server serves one mounted view.
type Server struct {
	dir  string
	fuse *fuse.Server
	logf func(string, ...any)
	done chan struct{} // closed when the serve loop ends

	mu       sync.Mutex
	stopping bool // Unmount was called: the loop's end is expected
}

// Mount mounts a view of st on dir and serves it until Unmount, or until
// someone else unmounts it (umount, fusermount3 -u, noema fs umount).
// As root it calls mount(2) itself, so nothing else need be installed;
// other users need fusermount3 (Debian package fuse3). st must stay open
// while the view is mounted.
func Mount(ctx context.Context, st *objfs.Store, dir string, opts Options) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, unix.ENOTCONN) {
		return nil, fmt.Errorf("fusefs: %s holds a dead mount; unmount it first", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("fusefs: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("fusefs: %s is not a folder", dir)
	}
	if opts.Results <= 0 {
		opts.Results = DefaultResults
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	v := newView(st, opts.Results, logf)
	logger := log.New(logWriter(logf), "", 0)
	entry, attr := listTTL, listTTL
	fo := &fs.Options{
		MountOptions: fuse.MountOptions{
			FsName: fsName,
			Name:   fsName,
			// The kernel checks the 0444/0555 modes itself.
			Options:       []string{"default_permissions"},
			DisableXAttrs: true,
			Debug:         opts.Debug,
			Logger:        logger,
		},
		EntryTimeout: &entry,
		AttrTimeout:  &attr,
		UID:          v.uid,
		GID:          v.gid,
		Logger:       logger,
	}
	if os.Geteuid() == 0 {
		fo.DirectMount = true
		fo.DirectMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV
	} else {
		fo.Options = append(fo.Options, "ro")
	}
	srv, err := fuse.NewServer(fs.NewNodeFS(&rootNode{folder{base: base{v: v}, ttl: immutableTTL}}, fo), dir, &fo.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("fusefs: mount %s: %w", dir, err)
	}
	s := &Server{dir: dir, fuse: srv, logf: logf, done: make(chan struct{})}
	go func() {
		srv.Serve()
		close(s.done)
	}()
	if err := srv.WaitMount(); err != nil {
		// The mount may be in place without a server behind it.
		if info, perr := Probe(dir); perr == nil && info.State != NotMounted && info.Noema() {
			Unmount(context.WithoutCancel(ctx), dir, true)
		}
		return nil, fmt.Errorf("fusefs: mount %s: %w", dir, err)
	}
	return s, nil
}

// Dir is the mount point.
func (s *Server) Dir() string { return s.dir }

// Run serves until ctx is done, then unmounts. It returns nil when the
// view was unmounted cleanly, by Run or by anyone else, and an error when
// the mount died under it (its connection aborted), after detaching the
// dead mount so that the folder works again.
func (s *Server) Run(ctx context.Context) error {
	select {
	case <-s.done:
		return s.ended(context.WithoutCancel(ctx))
	case <-ctx.Done():
		return s.Unmount(context.WithoutCancel(ctx))
	}
}

// ended explains why the serve loop stopped on its own.
func (s *Server) ended(ctx context.Context) error {
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		return nil
	}
	info, err := Probe(s.dir)
	if err != nil {
		return err
	}
	if info.State == Dead && info.Noema() {
		if err := Unmount(ctx, s.dir, true); err != nil {
			return fmt.Errorf("fusefs: the mount on %s died, and detaching it failed: %w", s.dir, err)
		}
		return fmt.Errorf("fusefs: the mount on %s died (its connection was aborted); detached it", s.dir)
	}
	return nil
}

// Unmount unmounts the view and waits until it is no longer served. A
// mount that stays busy (a process has a file open in it, or works in
// one of its folders) is detached instead: it leaves the folder tree at
// once, and open files keep working until they are closed, which Unmount
// waits for unless ctx ends first.
func (s *Server) Unmount(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	default:
	}
	var err error
	for delay := 10 * time.Millisecond; ; delay *= 2 {
		err = Unmount(ctx, s.dir, false)
		if !errors.Is(err, unix.EBUSY) || delay > 640*time.Millisecond {
			break
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if errors.Is(err, unix.EBUSY) {
		s.logf("%s is busy: detached it; files open in it keep working until they are closed", s.dir)
		err = Unmount(ctx, s.dir, true)
	}
	if err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	// Unmounted, by this call or (EINVAL: not a mount point) by someone
	// else just before: the serve loop ends when the kernel lets go.
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logWriter sends go-fuse's log lines to a Logf.
type logWriter func(string, ...any)

func (w logWriter) Write(p []byte) (int, error) {
	w("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// errno turns a store error into what a FUSE caller sees, logging the
// ones it cannot explain by itself.
func (v *view) errno(err error, what string) syscall.Errno {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, objfs.ErrBadQuery):
		return syscall.EINVAL
	case errors.Is(err, objfs.ErrNotFound):
		return syscall.ENOENT
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	}
	v.logf("%s: %v", what, err)
	return syscall.EIO
}
