package fusefs

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/noema-project/noema/objfs"
)

// base is in every node: the view, and the refusal of every change. The
// mount is read-only, so the kernel answers EROFS before asking; these
// keep the answer the same should a request get through anyway (go-fuse
// would otherwise report success for an unlink it did not implement).
type base struct {
	fs.Inode
	v *view
}

func (*base) Setattr(context.Context, fs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (*base) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (*base) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Link(context.Context, fs.InodeEmbedder, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Symlink(context.Context, string, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (*base) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }

func (*base) Rmdir(context.Context, string) syscall.Errno { return syscall.EROFS }

func (*base) Rename(context.Context, string, fs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}

func (*base) Write(context.Context, fs.FileHandle, []byte, int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (*base) Allocate(context.Context, fs.FileHandle, uint64, uint64, uint32) syscall.Errno {
	return syscall.EROFS
}

// Statfs gives df and file managers sane numbers: the view takes no
// space of its own.
func (*base) Statfs(_ context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize, out.Frsize, out.NameLen = 4096, 4096, maxName
	return 0
}

// Every node refuses changes and answers statfs.
var (
	_ interface {
		fs.NodeSetattrer
		fs.NodeCreater
		fs.NodeMkdirer
		fs.NodeMknoder
		fs.NodeLinker
		fs.NodeSymlinker
		fs.NodeUnlinker
		fs.NodeRmdirer
		fs.NodeRenamer
		fs.NodeWriter
		fs.NodeAllocater
		fs.NodeStatfser
	} = (*base)(nil)
	_ fs.NodeOnAdder  = (*rootNode)(nil)
	_ fs.NodeLookuper = (*searchRoot)(nil)
	_ fs.NodeLookuper = (*searchDir)(nil)
	_ fs.NodeLookuper = (*tagDir)(nil)
	_ fs.NodeLookuper = (*treeDir)(nil)
	_ fs.NodeOpener   = (*fileNode)(nil)
	_ interface {
		fs.FileReader
		fs.FileReleaser
	} = (*fileHandle)(nil)
)

func (v *view) dirAttr(a *fuse.Attr) {
	a.Mode = syscall.S_IFDIR | 0o555
	a.Nlink = 2
	a.Uid, a.Gid = v.uid, v.gid
	t := v.mounted
	a.SetTimes(&t, &t, &t)
}

func (v *view) fileAttr(a *fuse.Attr, f fileInfo) {
	a.Mode = syscall.S_IFREG | 0o444
	a.Nlink = 1
	a.Size = uint64(f.size)
	a.Uid, a.Gid = v.uid, v.gid
	t := f.mtime
	a.SetTimes(&t, &t, &t)
}

// folder is in every folder node.
type folder struct {
	base
	ttl time.Duration // how long the kernel may keep its attributes
}

func (d *folder) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.v.dirAttr(&out.Attr)
	out.SetTimeout(d.ttl)
	return 0
}

// newDir answers a lookup with a folder; key names it for its inode
// number and must be unique to its place in the tree, since a folder
// cannot have two parents.
func (d *folder) newDir(ctx context.Context, key string, node fs.InodeEmbedder, ttl time.Duration, out *fuse.EntryOut) *fs.Inode {
	d.v.dirAttr(&out.Attr)
	out.SetEntryTimeout(ttl)
	out.SetAttrTimeout(ttl)
	return d.NewInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino(key)})
}

// newFile answers a lookup with a version's file. The name may point
// elsewhere soon (entryTTL), but the file's attributes never change.
func (d *folder) newFile(ctx context.Context, f fileInfo, entryTTL time.Duration, out *fuse.EntryOut) *fs.Inode {
	d.v.fileAttr(&out.Attr, f)
	out.SetEntryTimeout(entryTTL)
	out.SetAttrTimeout(immutableTTL)
	return d.NewInode(ctx, &fileNode{base: base{v: d.v}, f: f}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino(f.key())})
}

// stream lists a folder, with "." and ".." first as `ls -a` expects.
func stream(entries []fuse.DirEntry) fs.DirStream {
	all := make([]fuse.DirEntry, 0, len(entries)+2)
	all = append(all, fuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR}, fuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR})
	return fs.NewListDirStream(append(all, entries...))
}

func dirEntry(name, key string) fuse.DirEntry {
	return fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR, Ino: ino(key)}
}

func fileEntry(name string, f fileInfo) fuse.DirEntry {
	return fuse.DirEntry{Name: name, Mode: syscall.S_IFREG, Ino: ino(f.key())}
}

// rootNode holds the four views.
type rootNode struct {
	folder
}

func (r *rootNode) OnAdd(ctx context.Context) {
	v := r.v
	add := func(name, key string, node fs.InodeEmbedder) {
		r.AddChild(name, r.NewPersistentInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino(key)}), false)
	}
	add("search", "search", &searchRoot{folder{base{v: v}, immutableTTL}})
	add("tags", tagKey(""), &tagDir{folder: folder{base{v: v}, listTTL}})
	add("history", treeKey("", true), &treeDir{folder: folder{base{v: v}, listTTL}, history: true})
	add("current", treeKey("", false), &treeDir{folder: folder{base{v: v}, listTTL}})
}

func (r *rootNode) Readdir(context.Context) (fs.DirStream, syscall.Errno) {
	return stream([]fuse.DirEntry{
		dirEntry("current", treeKey("", false)),
		dirEntry("history", treeKey("", true)),
		dirEntry("search", "search"),
		dirEntry("tags", tagKey("")),
	}), 0
}

// searchRoot is search/: any name in it is a query. It lists nothing,
// so that walking the mount (find, a file manager's indexer) does not
// run searches.
type searchRoot struct {
	folder
}

func (s *searchRoot) Readdir(context.Context) (fs.DirStream, syscall.Errno) {
	return stream(nil), 0
}

func (s *searchRoot) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	// File managers and shells probe for .hidden, .Trash, .git and the
	// like; none is a query.
	if strings.HasPrefix(name, ".") || strings.TrimSpace(name) == "" {
		return nil, syscall.ENOENT
	}
	if _, err := s.v.search(ctx, name); err != nil {
		return nil, s.v.errno(err, "search "+name)
	}
	return s.newDir(ctx, "search:"+name, &searchDir{folder: folder{base{v: s.v}, searchTTL}, query: name}, searchTTL, out), 0
}

// searchDir is search/<query>/.
type searchDir struct {
	folder
	query string
}

func (s *searchDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	l, err := s.v.search(ctx, s.query)
	if err != nil {
		return nil, s.v.errno(err, "search "+s.query)
	}
	entries := make([]fuse.DirEntry, 0, len(l.names))
	for i, n := range l.names {
		entries = append(entries, fileEntry(n, l.files[i]))
	}
	return stream(entries), 0
}

func (s *searchDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	l, err := s.v.search(ctx, s.query)
	if err != nil {
		return nil, s.v.errno(err, "search "+s.query)
	}
	f, ok := l.lookup(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	return s.newFile(ctx, f, searchTTL, out), 0
}

// tagDir is tags/ (tag "") or tags/<tag>/: the files with the tag, and a
// folder for each tag below it ("work/projects" is below "work").
type tagDir struct {
	folder
	tag string
}

func tagKey(tag string) string { return "tag:" + tag }

func joinTag(tag, name string) string {
	if tag == "" {
		return name
	}
	return tag + "/" + name
}

func (t *tagDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	subs, exists, err := t.v.tagChildren(ctx, t.tag)
	if err != nil {
		return nil, t.v.errno(err, "tags")
	}
	if !exists {
		return nil, syscall.ENOENT
	}
	var entries []fuse.DirEntry
	for _, s := range subs {
		entries = append(entries, dirEntry(s, tagKey(joinTag(t.tag, s))))
	}
	if t.tag != "" {
		l, err := t.v.tagged(ctx, t.tag)
		if err != nil {
			return nil, t.v.errno(err, "tag "+t.tag)
		}
		for i, n := range l.names {
			entries = append(entries, fileEntry(n, l.files[i]))
		}
	}
	return stream(entries), 0
}

func (t *tagDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	full := joinTag(t.tag, name)
	_, exists, err := t.v.tagChildren(ctx, full)
	if err != nil {
		return nil, t.v.errno(err, "tags")
	}
	if exists {
		return t.newDir(ctx, tagKey(full), &tagDir{folder: folder{base{v: t.v}, listTTL}, tag: full}, listTTL, out), 0
	}
	if t.tag == "" {
		return nil, syscall.ENOENT
	}
	l, err := t.v.tagged(ctx, t.tag)
	if err != nil {
		return nil, t.v.errno(err, "tag "+t.tag)
	}
	f, ok := l.lookup(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	return t.newFile(ctx, f, listTTL, out), 0
}

// treeDir is a folder of history/ or current/ that mirrors the folder
// path ("" for the top) of the user's files. In history/ a file is a
// folder of its versions; in current/ it is its current version.
type treeDir struct {
	folder
	path    string
	history bool
}

func treeKey(path string, history bool) string {
	if history {
		return "history:" + path
	}
	return "current:" + path
}

func (d *treeDir) child(path string) fs.InodeEmbedder {
	return &treeDir{folder: folder{base{v: d.v}, listTTL}, path: path, history: d.history}
}

func (d *treeDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	t, err := d.v.tree(ctx)
	if err != nil {
		return nil, d.v.errno(err, "list objects")
	}
	var entries []fuse.DirEntry
	if d.history && t.all[d.path] {
		vs, err := d.v.versionsOf(ctx, d.path)
		if err != nil {
			return nil, d.v.errno(err, "versions of "+d.path)
		}
		for i := len(vs) - 1; i >= 0; i-- { // oldest first
			if !vs[i].Deleted {
				entries = append(entries, fileEntry(vs[i].ID, historyFile(vs[i])))
			}
		}
	}
	for _, c := range t.children(d.path, !d.history) {
		p := d.path + "/" + c.name
		if c.dir || d.history {
			entries = append(entries, dirEntry(c.name, treeKey(p, d.history)))
		} else {
			entries = append(entries, fileEntry(c.name, currentFile(t.live[p])))
		}
	}
	return stream(entries), 0
}

func (d *treeDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	t, err := d.v.tree(ctx)
	if err != nil {
		return nil, d.v.errno(err, "list objects")
	}
	p := d.path + "/" + name
	if d.history {
		if t.all[d.path] {
			vs, err := d.v.versionsOf(ctx, d.path)
			if err != nil && !errors.Is(err, objfs.ErrNotFound) {
				return nil, d.v.errno(err, "versions of "+d.path)
			}
			for _, ver := range vs {
				if ver.ID == name && !ver.Deleted {
					return d.newFile(ctx, historyFile(ver), immutableTTL, out), 0
				}
			}
		}
		if t.all[p] || t.isDir(p, false) {
			return d.newDir(ctx, treeKey(p, true), d.child(p), listTTL, out), 0
		}
		return nil, syscall.ENOENT
	}
	if t.isDir(p, true) {
		return d.newDir(ctx, treeKey(p, false), d.child(p), listTTL, out), 0
	}
	if o, ok := t.live[p]; ok {
		return d.newFile(ctx, currentFile(o), listTTL, out), 0
	}
	return nil, syscall.ENOENT
}

func historyFile(v objfs.Version) fileInfo {
	return fileInfo{version: v.ID, size: v.Size, mtime: v.CreatedAt, history: true}
}

func currentFile(o objfs.Object) fileInfo {
	return fileInfo{version: o.Current, size: o.Size, mtime: o.ModTime}
}

// fileNode is one version's bytes.
type fileNode struct {
	base
	f fileInfo
}

func (n *fileNode) Getattr(_ context.Context, _ fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.v.fileAttr(&out.Attr, n.f)
	out.SetTimeout(immutableTTL)
	return 0
}

// Open refuses writing, and lets the kernel keep the pages it read: the
// node is one version, whose bytes never change.
func (n *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&(syscall.O_TRUNC|syscall.O_APPEND|syscall.O_CREAT) != 0 {
		return nil, 0, syscall.EROFS
	}
	r, err := n.v.st.OpenVersion(ctx, n.f.version)
	if err != nil {
		return nil, 0, n.v.errno(err, "open version "+n.f.version)
	}
	return &fileHandle{r: r, v: n.v}, fuse.FOPEN_KEEP_CACHE, 0
}

// fileHandle reads an open version; every chunk is checked against its
// hash on the way.
type fileHandle struct {
	r *objfs.VersionReader
	v *view
}

func (h *fileHandle) Read(_ context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.r.ReadAt(dest, off)
	if err != nil && !errors.Is(err, io.EOF) {
		ver := h.r.Version()
		h.v.logf("read %s (version %s) at %d: %v", ver.Path, ver.ID, off, err)
		return nil, syscall.EIO
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *fileHandle) Release(context.Context) syscall.Errno {
	h.r.Close()
	return 0
}
