package objfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// IndexOptions adjust an indexing run.
type IndexOptions struct {
	// Progress, when set, is called as files are processed (at most every
	// 100 ms, and once at the end).
	Progress func(Progress)
	// Origin is recorded on new versions (default "index").
	Origin string
	// Workers read and analyse files in parallel (default GOMAXPROCS).
	Workers int
	// NoLearn skips refreshing the LSI model at the end (the Watcher
	// refreshes it itself, less often).
	NoLearn bool
}

// Progress is how far an indexing run is.
type Progress struct {
	Files     int   `json:"files"`
	Done      int   `json:"done"`
	Bytes     int64 `json:"bytes"`
	DoneBytes int64 `json:"done_bytes"`
	Current   string
	Finished  bool
}

// Problem is a file indexing could not read, or whose text it could not
// extract.
type Problem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	// Repeated is set when the same problem was reported by an earlier
	// run (the file has not changed since), so callers need not say it
	// again.
	Repeated bool `json:"repeated,omitempty"`
}

// IndexReport sums up an indexing run.
type IndexReport struct {
	Roots     []string      `json:"roots"`
	Files     int           `json:"files"`
	New       int           `json:"new"`
	Changed   int           `json:"changed"`
	Unchanged int           `json:"unchanged"`
	Deleted   int           `json:"deleted"`
	Skipped   int           `json:"skipped"`
	Bytes     int64         `json:"bytes"`
	TextBytes int64         `json:"text_bytes"`
	Documents int           `json:"documents"`
	Problems  []Problem     `json:"problems"`
	Learned   bool          `json:"lsi_learned"`
	Duration  time.Duration `json:"-"`
	Seconds   float64       `json:"seconds"`
}

// dictionaryRun is the number of files from which an indexing run loads
// the whole term dictionary first.
const dictionaryRun = 200

// reorderWindow is how many files workers may read ahead of the writer.
const reorderWindow = 64

// batch limits of one write transaction while indexing.
const (
	batchFiles = 1024
	batchBytes = 64 << 20
)

// seenFile is what the store knew of a file before this run.
type seenFile struct {
	size, mtime int64
	ino         uint64
	deleted     bool
	indexed     bool
}

// job is one file to read.
type job struct {
	seq  int // position in walk order
	path string
	info fs.FileInfo
	ino  uint64
	prev *seenFile
}

// result is a read and analysed file.
type result struct {
	job
	data    []byte
	an      analysis
	readErr error
	// stream is set for files too big to read into memory: the writer
	// streams them into chunks instead.
	stream bool
}

// Index brings the store up to date with paths (files or folders,
// absolute): new and changed files become versions and are indexed for
// search, files gone from an indexed folder get a deletion version.
// Unreadable files are skipped and reported once each.
func (s *Store) Index(ctx context.Context, paths []string, opts IndexOptions) (IndexReport, error) {
	start := time.Now()
	if opts.Origin == "" {
		opts.Origin = "index"
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	rep := IndexReport{Problems: []Problem{}}
	var roots []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return rep, fmt.Errorf("objfs: %q is not an absolute path", p)
		}
		roots = append(roots, filepath.Clean(p))
	}
	rep.Roots = roots
	known, err := s.known(ctx, roots)
	if err != nil {
		return rep, err
	}
	skipped, err := s.skippedFiles(ctx, roots)
	if err != nil {
		return rep, err
	}
	// Walk first, so progress can say how much is left.
	var jobs []job
	present := make(map[string]bool)
	// unreadable are paths that could not be walked; what the store knows
	// under them is not taken for deleted.
	var unreadable []string
	for _, root := range roots {
		if err := s.walk(ctx, root, func(path string, info fs.FileInfo, walkErr error) {
			if walkErr != nil {
				rep.Skipped++
				rep.Problems = append(rep.Problems, Problem{Path: path, Reason: walkErr.Error()})
				unreadable = append(unreadable, path)
				return
			}
			present[path] = true
			rep.Files++
			rep.Bytes += info.Size()
			ino := inode(info)
			prev, ok := known[path]
			if ok && !prev.deleted && prev.size == info.Size() && prev.mtime == info.ModTime().UnixNano() && prev.ino == ino {
				rep.Unchanged++
				return
			}
			j := job{seq: len(jobs), path: path, info: info, ino: ino}
			if ok {
				j.prev = &prev
			}
			jobs = append(jobs, j)
		}); err != nil {
			return rep, err
		}
	}
	if err := s.addRoots(ctx, roots); err != nil {
		return rep, err
	}
	if len(jobs) >= dictionaryRun {
		if err := s.loadDictionary(ctx); err != nil {
			return rep, err
		}
		if err := s.loadChunkIndex(ctx); err != nil {
			return rep, err
		}
	}
	prog := newProgressTicker(opts.Progress, len(jobs), jobs)
	results := make(chan result, 2*opts.Workers)
	jobc := make(chan job)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	vocab := s.vocabulary()
	emb := s.opts.Embedder
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := s.analyzers.get()
			defer s.analyzers.put(a)
			for j := range jobc {
				r := result{job: j}
				if j.info.Size() > maxExtractInput {
					r.stream, r.an = true, analyze(a, vocab, j.path, nil, j.info.Size())
				} else if r.data, r.readErr = readFile(j.path); r.readErr == nil {
					r.an = analyze(a, vocab, j.path, r.data, int64(len(r.data)))
					s.resolveKnown(&r.an)
				}
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	// Files are stored in walk order whatever order the workers finish
	// in, so object and term ids, and with them the LSI model, do not
	// depend on timing. window bounds how far workers run ahead of the
	// writer.
	window := make(chan struct{}, reorderWindow)
	go func() {
		defer close(jobc)
		for _, j := range jobs {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobc <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var pending []result
	var pendingBytes int64
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if emb != nil {
			s.embedBatch(ctx, emb, pending)
		}
		err := s.Update(ctx, func(tx *Tx) error {
			if emb != nil {
				if err := tx.useEmbeddingModel(emb.Model()); err != nil {
					return err
				}
			}
			for i := range pending {
				if err := s.store(tx, &pending[i], opts.Origin, &rep, skipped); err != nil {
					return err
				}
			}
			return nil
		})
		pending, pendingBytes = pending[:0], 0
		return err
	}
	ahead := make(map[int]result)
	next := 0
	inOrder := func(yield func(result) bool) {
		for r := range results {
			ahead[r.seq] = r
			for {
				r, ok := ahead[next]
				if !ok {
					break
				}
				delete(ahead, next)
				next++
				<-window
				if !yield(r) {
					return
				}
			}
		}
	}
	for r := range inOrder {
		prog.step(r.path, r.info.Size())
		if r.readErr != nil {
			rep.Skipped++
			rep.Problems = append(rep.Problems, problem(r.path, r.readErr.Error(), r.info, skipped))
			continue
		}
		pending = append(pending, r)
		pendingBytes += max(int64(len(r.data)), r.info.Size())
		if len(pending) >= batchFiles || pendingBytes >= batchBytes {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if err := flush(); err != nil {
		return rep, err
	}
	// Files known under the roots but gone from disk.
	var gone []string
	for path, k := range known {
		if !present[path] && !k.deleted && !under(path, unreadable) {
			gone = append(gone, path)
		}
	}
	sort.Strings(gone)
	if len(gone) > 0 {
		if err := s.Update(ctx, func(tx *Tx) error {
			for _, p := range gone {
				if _, ok, err := tx.Delete(p, opts.Origin); err != nil {
					return err
				} else if ok {
					rep.Deleted++
				}
			}
			return nil
		}); err != nil {
			return rep, err
		}
	}
	if !opts.NoLearn {
		learned, err := s.RefreshModel(ctx, false)
		if err != nil {
			return rep, err
		}
		rep.Learned = learned
	}
	if n, err := s.countDocs(ctx); err == nil {
		rep.Documents = n
	}
	prog.finish()
	rep.Duration = time.Since(start)
	rep.Seconds = rep.Duration.Seconds()
	return rep, nil
}

// store writes one analysed file inside a transaction.
func (s *Store) store(tx *Tx, r *result, origin string, rep *IndexReport, skipped map[string]skipEntry) error {
	info := PutInfo{Mode: r.info.Mode(), ModTime: r.info.ModTime(), Origin: origin,
		seen: &fileStat{size: r.info.Size(), mtime: r.info.ModTime().UnixNano(), ino: r.ino}}
	var v Version
	var changed bool
	var err error
	if r.stream {
		v, changed, err = putFile(tx, r.path, info)
	} else {
		v, changed, err = tx.PutBytes(r.path, r.data, info)
	}
	if err != nil {
		return err
	}
	switch {
	case !changed:
		rep.Unchanged++
	case r.prev == nil || r.prev.deleted:
		rep.New++
	default:
		rep.Changed++
	}
	if changed || r.prev == nil || !r.prev.indexed {
		if err := tx.setDoc(v, r.an, r.data); err != nil {
			return err
		}
	}
	if r.an.indexed {
		rep.TextBytes += int64(len(r.an.text))
	}
	if r.an.problem != "" {
		p := Problem{Path: r.path, Reason: r.an.problem}
		// Same content, same complaint: it was said before.
		if e, ok := skipped[r.path]; ok && !changed && e.reason == r.an.problem {
			p.Repeated = true
		}
		rep.Problems = append(rep.Problems, p)
		return tx.recordSkip(r.path, r.an.problem, r.info)
	}
	if _, ok := skipped[r.path]; ok {
		if _, err := tx.exec(`DELETE FROM skipped WHERE path = ?`, r.path); err != nil {
			return fmt.Errorf("objfs: %w", err)
		}
	}
	return nil
}

func problem(path, reason string, info fs.FileInfo, skipped map[string]skipEntry) Problem {
	p := Problem{Path: path, Reason: reason}
	if e, ok := skipped[path]; ok && e.reason == reason && info != nil && e.size == info.Size() && e.mtime == info.ModTime().UnixNano() {
		p.Repeated = true
	}
	return p
}

type skipEntry struct {
	reason      string
	size, mtime int64
}

func (tx *Tx) recordSkip(path, reason string, info fs.FileInfo) error {
	_, err := tx.exec(`INSERT INTO skipped(path, reason, size, mtime) VALUES(?, ?, ?, ?)
		ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, size = excluded.size, mtime = excluded.mtime`,
		path, reason, info.Size(), info.ModTime().UnixNano())
	if err != nil {
		return fmt.Errorf("objfs: %w", err)
	}
	return nil
}

func (s *Store) skippedFiles(ctx context.Context, roots []string) (map[string]skipEntry, error) {
	out := make(map[string]skipEntry)
	rows, err := s.db.QueryContext(ctx, `SELECT path, reason, size, mtime FROM skipped`)
	if err != nil {
		return nil, fmt.Errorf("objfs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		var e skipEntry
		if err := rows.Scan(&p, &e.reason, &e.size, &e.mtime); err != nil {
			return nil, fmt.Errorf("objfs: %w", err)
		}
		if under(p, roots) {
			out[p] = e
		}
	}
	return out, rows.Err()
}

// known returns what the store knows of the files under roots.
func (s *Store) known(ctx context.Context, roots []string) (map[string]seenFile, error) {
	out := make(map[string]seenFile)
	for _, root := range roots {
		rows, err := s.db.QueryContext(ctx, `SELECT o.path, o.seen_size, o.seen_mtime, o.seen_ino, v.deleted, d.object_id IS NOT NULL
			FROM objects o JOIN versions v ON v.id = o.current LEFT JOIN docs d ON d.object_id = o.id
			WHERE o.path = ? OR substr(o.path, 1, ?) = ?`, root, len(root)+1, strings.TrimSuffix(root, "/")+"/")
		if err != nil {
			return nil, fmt.Errorf("objfs: read known files: %w", err)
		}
		for rows.Next() {
			var p string
			var f seenFile
			var ino int64
			if err := rows.Scan(&p, &f.size, &f.mtime, &ino, &f.deleted, &f.indexed); err != nil {
				rows.Close()
				return nil, fmt.Errorf("objfs: read known files: %w", err)
			}
			f.ino = uint64(ino)
			out[p] = f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("objfs: read known files: %w", err)
		}
	}
	return out, nil
}

func (s *Store) addRoots(ctx context.Context, roots []string) error {
	for _, r := range roots {
		if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO roots(path, added_at) VALUES(?, ?)`, r, nanos(s.now())); err != nil {
			return fmt.Errorf("objfs: remember root %s: %w", r, err)
		}
	}
	return nil
}

func (s *Store) countDocs(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM docs`).Scan(&n)
	return n, err
}

func under(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, strings.TrimSuffix(r, "/")+"/") {
			return true
		}
	}
	return false
}

// putFile streams a file too big for memory into a new version. A file
// that changes while it is read may give a version mixing both states;
// its stat then differs from the one remembered, so the next run reads
// it again.
func putFile(tx *Tx, path string, info PutInfo) (Version, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return Version{}, false, fmt.Errorf("objfs: %w", err)
	}
	defer f.Close()
	return tx.Put(path, f, info)
}

// readFile reads a regular file whole; a file that changes while it is
// read is read again, so a version is never a mix of two states.
func readFile(path string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		before, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if !before.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		data, err := io.ReadAll(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		after, err := f.Stat()
		f.Close()
		if err != nil {
			return nil, err
		}
		if (after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()) && int64(len(data)) == after.Size()) || attempt == 2 {
			return data, nil
		}
	}
}

func inode(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// skipDirs are folders that hold tools' state, not the user's documents.
var skipDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, "node_modules": true, "__pycache__": true, ".cache": true,
	".venv": true, "venv": true, ".tox": true, ".mypy_cache": true,
}

// walk calls fn for every regular file under root (root itself may be a
// file). Hidden files and folders, tool folders and the store's own
// folders are left out unless named as the root; symbolic links are not
// followed.
func (s *Store) walk(ctx context.Context, root string, fn func(string, fs.FileInfo, error)) error {
	info, err := os.Lstat(root)
	if err != nil {
		return fmt.Errorf("objfs: %w", err)
	}
	if s.excluded(root) {
		return fmt.Errorf("objfs: %s is inside Noema's own state and is never indexed", root)
	}
	if info.Mode().IsRegular() {
		fn(root, info, nil)
		return nil
	}
	if !info.IsDir() {
		return fmt.Errorf("objfs: %s is not a regular file or folder", root)
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if path == root {
				return err
			}
			fn(path, nil, err)
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || skipDirs[name] && d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != root && s.excluded(path) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(name, "~") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			fn(path, nil, err)
			return nil
		}
		fn(path, fi, nil)
		return nil
	})
}

// progressTicker reports progress at most every 100 ms.
type progressTicker struct {
	fn   func(Progress)
	p    Progress
	last time.Time
}

func newProgressTicker(fn func(Progress), files int, jobs []job) *progressTicker {
	t := &progressTicker{fn: fn, p: Progress{Files: files}}
	for _, j := range jobs {
		t.p.Bytes += j.info.Size()
	}
	return t
}

func (t *progressTicker) step(path string, size int64) {
	t.p.Done++
	t.p.DoneBytes += size
	t.p.Current = path
	if t.fn != nil && time.Since(t.last) >= 100*time.Millisecond {
		t.last = time.Now()
		t.fn(t.p)
	}
}

func (t *progressTicker) finish() {
	if t.fn != nil {
		t.p.Finished = true
		t.p.Current = ""
		t.fn(t.p)
	}
}

// vocabulary returns the tag vocabulary, loading it once; a broken file
// falls back to the built-in vocabulary (LoadVocabulary reports the
// error to those who ask, such as `noema fs tag --vocabulary`).
func (s *Store) vocabulary() *Vocabulary {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vocab == nil {
		v, err := LoadVocabulary(s.opts.Vocabulary)
		if err != nil {
			v, _ = ParseVocabulary([]byte(DefaultVocabulary))
		}
		s.vocab = v
	}
	return s.vocab
}

// embedBatch adds neural embeddings to analysed files; a failing model
// server leaves them without (search still works).
func (s *Store) embedBatch(ctx context.Context, e Embedder, rs []result) {
	var texts []string
	var idx []int
	for i := range rs {
		if rs[i].an.indexed && strings.TrimSpace(rs[i].an.text) != "" {
			texts = append(texts, rs[i].an.text)
			idx = append(idx, i)
		}
	}
	const per = 32
	for lo := 0; lo < len(texts); lo += per {
		hi := min(lo+per, len(texts))
		vecs, err := e.Embed(ctx, texts[lo:hi])
		if err != nil {
			return
		}
		for k, v := range vecs {
			rs[idx[lo+k]].an.emb = v
		}
	}
}
