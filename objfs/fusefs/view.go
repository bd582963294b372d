package fusefs

import (
	"context"
	"errors"
	"hash/fnv"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/noema-project/noema/objfs"
)

// view is what every node of one mount shares: the store, and short-lived
// caches of what the store answered, so that one `ls` asks it once.
type view struct {
	st       *objfs.Store
	results  int
	uid, gid uint32
	mounted  time.Time // folders are dated when the view was mounted
	logf     func(string, ...any)

	searches *ttlCache[*listing]        // by query
	tagFiles *ttlCache[*listing]        // by tag
	tags     *ttlCache[[]string]        // one entry: every tag, sorted
	objects  *ttlCache[*tree]           // one entry: every object
	versions *ttlCache[[]objfs.Version] // by path, newest first
}

func newView(st *objfs.Store, results int, logf func(string, ...any)) *view {
	now := time.Now
	return &view{
		st: st, results: results, logf: logf, mounted: now(),
		uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		searches: newTTLCache[*listing](searchTTL, 64, now),
		tagFiles: newTTLCache[*listing](listTTL, 64, now),
		tags:     newTTLCache[[]string](listTTL, 1, now),
		objects:  newTTLCache[*tree](listTTL, 1, now),
		versions: newTTLCache[[]objfs.Version](listTTL, 256, now),
	}
}

// fileInfo is a file of the view: one version's bytes.
type fileInfo struct {
	version string
	size    int64
	mtime   time.Time
	// history marks a file under history/, dated by the version's
	// creation; elsewhere a file carries the original's modification
	// time. The two are different inodes.
	history bool
}

func (f fileInfo) key() string {
	if f.history {
		return "history-version:" + f.version
	}
	return "version:" + f.version
}

// listing is a folder of files named by entryNames.
type listing struct {
	names []string
	files []fileInfo
	index map[string]int
}

func newListing(paths []string, files []fileInfo, ranked bool, taken map[string]bool) *listing {
	l := &listing{names: entryNames(paths, ranked, taken), files: files, index: make(map[string]int, len(paths))}
	for i, n := range l.names {
		l.index[n] = i
	}
	return l
}

func (l *listing) lookup(name string) (fileInfo, bool) {
	i, ok := l.index[name]
	if !ok {
		return fileInfo{}, false
	}
	return l.files[i], true
}

// search runs (or reuses) a query.
func (v *view) search(ctx context.Context, query string) (*listing, error) {
	return v.searches.get(ctx, query, func(ctx context.Context) (*listing, error) {
		hits, err := v.st.Search(ctx, objfs.Query{Text: query, Limit: v.results})
		if err != nil {
			return nil, err
		}
		var paths []string
		var files []fileInfo
		for _, h := range hits {
			ver, err := v.st.Version(ctx, h.Version)
			if errors.Is(err, objfs.ErrNotFound) {
				continue // gone since the index was read
			}
			if err != nil {
				return nil, err
			}
			if ver.Deleted {
				continue
			}
			paths = append(paths, h.Path)
			files = append(files, fileInfo{version: ver.ID, size: ver.Size, mtime: ver.ModTime})
		}
		return newListing(paths, files, true, nil), nil
	})
}

// allTags lists every tag on a file that exists.
func (v *view) allTags(ctx context.Context) ([]string, error) {
	return v.tags.get(ctx, "", func(ctx context.Context) ([]string, error) {
		tcs, err := v.st.Tags(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(tcs))
		for _, t := range tcs {
			out = append(out, t.Tag)
		}
		slices.Sort(out)
		return out, nil
	})
}

// tagChildren returns the tag folders directly below prefix ("" for
// tags/ itself), and whether prefix is a tag or has tags below it.
func (v *view) tagChildren(ctx context.Context, prefix string) (children []string, exists bool, err error) {
	tags, err := v.allTags(ctx)
	if err != nil {
		return nil, false, err
	}
	seen := make(map[string]bool)
	for _, t := range tags {
		rest := t
		if prefix != "" {
			if t == prefix {
				exists = true
				continue
			}
			var ok bool
			if rest, ok = strings.CutPrefix(t, prefix+"/"); !ok {
				continue
			}
		}
		exists = true
		name, _, _ := strings.Cut(rest, "/")
		if !seen[name] {
			seen[name] = true
			children = append(children, name)
		}
	}
	return children, exists || prefix == "", nil
}

// tagged lists the files carrying tag, named around the subfolders that
// tags below it make.
func (v *view) tagged(ctx context.Context, tag string) (*listing, error) {
	sub, _, err := v.tagChildren(ctx, tag)
	if err != nil {
		return nil, err
	}
	return v.tagFiles.get(ctx, tag, func(ctx context.Context) (*listing, error) {
		objs, err := v.st.Objects(ctx, objfs.ListOptions{Tag: tag})
		if err != nil {
			return nil, err
		}
		paths := make([]string, 0, len(objs))
		files := make([]fileInfo, 0, len(objs))
		for _, o := range objs {
			paths = append(paths, o.Path)
			files = append(files, fileInfo{version: o.Current, size: o.Size, mtime: o.ModTime})
		}
		taken := make(map[string]bool, len(sub))
		for _, s := range sub {
			taken[s] = true
		}
		return newListing(paths, files, false, taken), nil
	})
}

// tree is every object's path, for history/ and current/.
type tree struct {
	paths []string // sorted
	live  map[string]objfs.Object
	all   map[string]bool
}

func (v *view) tree(ctx context.Context) (*tree, error) {
	return v.objects.get(ctx, "", func(ctx context.Context) (*tree, error) {
		objs, err := v.st.Objects(ctx, objfs.ListOptions{Deleted: true})
		if err != nil {
			return nil, err
		}
		t := &tree{live: make(map[string]objfs.Object), all: make(map[string]bool, len(objs))}
		for _, o := range objs {
			t.paths = append(t.paths, o.Path)
			t.all[o.Path] = true
			if !o.Deleted {
				o.Tags = nil
				t.live[o.Path] = o
			}
		}
		slices.Sort(t.paths)
		return t, nil
	})
}

// below calls fn with each object path under folder dir (sorted) until
// fn returns false.
func (t *tree) below(dir string, fn func(string) bool) {
	prefix := dir + "/"
	for i := sort.SearchStrings(t.paths, prefix); i < len(t.paths) && strings.HasPrefix(t.paths[i], prefix); i++ {
		if !fn(t.paths[i]) {
			return
		}
	}
}

// isDir reports whether folder dir holds objects (live ones only, if so
// asked).
func (t *tree) isDir(dir string, liveOnly bool) bool {
	found := false
	t.below(dir, func(p string) bool {
		if !liveOnly || t.has(p, true) {
			found = true
		}
		return !found
	})
	return found
}

func (t *tree) has(p string, liveOnly bool) bool {
	if liveOnly {
		_, ok := t.live[p]
		return ok
	}
	return t.all[p]
}

// child is a name in a folder of the tree.
type child struct {
	name string
	dir  bool
}

// children lists what folder dir ("" for the root) holds. A name that is
// both a file and a folder (a file replaced by a folder) is a folder.
func (t *tree) children(dir string, liveOnly bool) []child {
	var out []child
	at := make(map[string]int)
	t.below(dir, func(p string) bool {
		if !t.has(p, liveOnly) {
			return true
		}
		name, _, isDir := strings.Cut(p[len(dir)+1:], "/")
		if i, ok := at[name]; ok {
			out[i].dir = out[i].dir || isDir
			return true
		}
		at[name] = len(out)
		out = append(out, child{name: name, dir: isDir})
		return true
	})
	return out
}

// versions lists the versions of the object at path.
func (v *view) versionsOf(ctx context.Context, path string) ([]objfs.Version, error) {
	return v.versions.get(ctx, path, func(ctx context.Context) ([]objfs.Version, error) {
		return v.st.Versions(ctx, path)
	})
}

// ino numbers a node by what it shows, so that every lookup of the same
// thing finds the same inode, and the same version seen in two folders
// is one file (as a hard link would be). The top bit is left to go-fuse's
// automatic numbers; 1 is the root.
func ino(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	n := h.Sum64() &^ (1 << 63)
	if n < 2 {
		n += 2
	}
	return n
}
