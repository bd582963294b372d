package objfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchOptions configure a Watcher.
type WatchOptions struct {
	// Roots are the files and folders to watch (default: the roots the
	// user indexed, see Store.Roots).
	Roots []string
	// Debounce is how long a path must be quiet before it is versioned
	// (default 1 s): an editor's burst of writes becomes one version.
	Debounce time.Duration
	// MaxDelay versions a path that never goes quiet at least this often
	// (default 30 s).
	MaxDelay time.Duration
	// RelearnEvery bounds how often the LSI model is refreshed (default
	// 10 min); new documents are folded into the current model meanwhile.
	RelearnEvery time.Duration
	// Logf reports what the watcher could not do (default: nothing).
	Logf func(format string, args ...any)
	// OnBatch, when set, is called after each batch of changes is stored.
	OnBatch func(WatchBatch)
}

// WatchBatch is one batch of changes a Watcher stored.
type WatchBatch struct {
	Versions []Version
	Problems []Problem
	// Rescan is set when the batch was a full rescan (at start, or after
	// the kernel dropped events).
	Rescan bool
}

// Watcher keeps the store up to date with watched folders: each change
// to a file becomes a version once the file has been quiet for the
// debounce period. The daemon runs one.
type Watcher struct {
	s       *Store
	opts    WatchOptions
	fw      *fsnotify.Watcher
	pending map[string]time.Time // path → first unprocessed event
	last    time.Time            // latest event
	learned time.Time
}

// NewWatcher returns a watcher for the store; Run starts it.
func (s *Store) NewWatcher(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = time.Second
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 30 * time.Second
	}
	if opts.RelearnEvery <= 0 {
		opts.RelearnEvery = 10 * time.Minute
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if len(opts.Roots) == 0 {
		roots, err := s.Roots(ctx)
		if err != nil {
			return nil, err
		}
		opts.Roots = roots
	}
	for i, r := range opts.Roots {
		if !filepath.IsAbs(r) {
			return nil, fmt.Errorf("objfs: watch root %q is not absolute", r)
		}
		opts.Roots[i] = filepath.Clean(r)
	}
	return &Watcher{s: s, opts: opts, pending: make(map[string]time.Time)}, nil
}

// Run watches until ctx ends. It first brings the store up to date with
// the roots (changes made while nothing watched), then versions each
// change after the debounce period.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("objfs: watch: %w", err)
	}
	defer fw.Close()
	w.fw = fw
	for _, r := range w.opts.Roots {
		w.addTree(r)
	}
	w.rescan(ctx)
	tick := time.NewTicker(w.opts.Debounce / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return errors.New("objfs: watch: the event channel closed")
			}
			w.event(ev)
		case err, ok := <-fw.Errors:
			if !ok {
				return errors.New("objfs: watch: the error channel closed")
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.opts.Logf("objfs: watch: the kernel dropped events; rescanning")
				w.rescan(ctx)
				continue
			}
			w.opts.Logf("objfs: watch: %v", err)
		case now := <-tick.C:
			w.flush(ctx, now)
		}
	}
}

// watched reports whether a path under a root is one the store keeps
// (the rules of indexing: no hidden files, tool folders or Noema state).
func (w *Watcher) watched(path string) bool {
	root := ""
	for _, r := range w.opts.Roots {
		if path == r || strings.HasPrefix(path, strings.TrimSuffix(r, "/")+"/") {
			root = r
			break
		}
	}
	if root == "" || w.s.excluded(path) {
		return false
	}
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	if rel == "." {
		return true
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") || skipDirs[part] {
			return false
		}
	}
	return !strings.HasSuffix(path, "~")
}

// addTree watches a folder and its subfolders; for a file root it watches
// the file's folder.
func (w *Watcher) addTree(root string) {
	info, err := os.Lstat(root)
	if err != nil {
		w.opts.Logf("objfs: watch %s: %v", root, err)
		return
	}
	if !info.IsDir() {
		if err := w.fw.Add(filepath.Dir(root)); err != nil {
			w.opts.Logf("objfs: watch %s: %v", root, err)
		}
		return
	}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if !w.watched(path) {
			return filepath.SkipDir
		}
		if err := w.fw.Add(path); err != nil {
			w.opts.Logf("objfs: watch %s: %v", path, err)
		}
		return nil
	})
}

func (w *Watcher) event(ev fsnotify.Event) {
	path := filepath.Clean(ev.Name)
	if !w.watched(path) {
		return
	}
	now := time.Now()
	if ev.Has(fsnotify.Create) {
		if info, err := os.Lstat(path); err == nil && info.IsDir() {
			// A new folder: watch it, and version what it already holds
			// (files created before the watch was in place).
			w.addTree(path)
			filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() && w.watched(p) {
					w.mark(p, now)
				}
				return nil
			})
			return
		}
	}
	if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Create) {
		return // permissions alone do not change content
	}
	w.mark(path, now)
}

func (w *Watcher) mark(path string, now time.Time) {
	if _, ok := w.pending[path]; !ok {
		w.pending[path] = now
	}
	w.last = now
}

// flush versions pending paths once things are quiet, or when a path has
// waited MaxDelay.
func (w *Watcher) flush(ctx context.Context, now time.Time) {
	if len(w.pending) == 0 {
		return
	}
	quiet := now.Sub(w.last) >= w.opts.Debounce
	var paths []string
	for p, first := range w.pending {
		if quiet || now.Sub(first) >= w.opts.MaxDelay {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return
	}
	sort.Strings(paths)
	var b WatchBatch
	for _, p := range paths {
		delete(w.pending, p)
		info, err := os.Lstat(p)
		if err == nil && !info.Mode().IsRegular() {
			continue
		}
		v, changed, err := w.s.Snapshot(ctx, p, "watch")
		if err != nil {
			w.opts.Logf("objfs: watch: %v", err)
			b.Problems = append(b.Problems, Problem{Path: p, Reason: err.Error()})
			continue
		}
		if changed {
			b.Versions = append(b.Versions, v)
		}
	}
	w.maybeRelearn(ctx, now)
	if w.opts.OnBatch != nil && (len(b.Versions) > 0 || len(b.Problems) > 0) {
		w.opts.OnBatch(b)
	}
}

// rescan brings the store up to date with every root.
func (w *Watcher) rescan(ctx context.Context) {
	var live []string
	for _, r := range w.opts.Roots {
		if _, err := os.Lstat(r); err == nil {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	rep, err := w.s.Index(ctx, live, IndexOptions{Origin: "watch", NoLearn: true})
	if err != nil {
		w.opts.Logf("objfs: watch: rescan: %v", err)
		return
	}
	for _, p := range rep.Problems {
		if !p.Repeated {
			w.opts.Logf("objfs: watch: skipped %s: %s", p.Path, p.Reason)
		}
	}
	w.maybeRelearn(ctx, time.Now())
	if w.opts.OnBatch != nil {
		w.opts.OnBatch(WatchBatch{Problems: rep.Problems, Rescan: true})
	}
}

func (w *Watcher) maybeRelearn(ctx context.Context, now time.Time) {
	if now.Sub(w.learned) < w.opts.RelearnEvery {
		return
	}
	w.learned = now
	if _, err := w.s.RefreshModel(ctx, false); err != nil {
		w.opts.Logf("objfs: watch: refresh the semantic model: %v", err)
	}
}
