package objfs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// Object is one file the store keeps versions of.
type Object struct {
	ID   int64  `json:"-"`
	Path string `json:"path"`
	// Current is the id of the current version.
	Current string `json:"current"`
	// Deleted is set when the file is gone; Current is then the version
	// that records the deletion.
	Deleted  bool      `json:"deleted,omitempty"`
	Size     int64     `json:"size"`
	Hash     string    `json:"hash"`
	ModTime  time.Time `json:"modified_at"`
	Versions int       `json:"versions"`
	// Kind is the document kind of the indexed text ("" when none).
	Kind string   `json:"kind,omitempty"`
	Tags []string `json:"tags,omitempty"`
}

// Version is one immutable state of an object.
type Version struct {
	ID   string `json:"version"`
	Seq  int    `json:"seq"`
	Path string `json:"path"`
	// Parent is the version this one was made from: the current version
	// when the file changed.
	Parent    string      `json:"parent,omitempty"`
	Hash      string      `json:"hash"`
	Size      int64       `json:"size"`
	Mode      fs.FileMode `json:"mode"`
	ModTime   time.Time   `json:"modified_at"`
	CreatedAt time.Time   `json:"created_at"`
	// Origin says what recorded it: "index", "watch", "tag", "rollback"
	// (the file's unsaved content, kept before a rollback overwrote it)
	// or "put".
	Origin string `json:"origin"`
	// Deleted marks the version that records the file's removal.
	Deleted bool `json:"deleted,omitempty"`
	// Current is set on the version the current pointer names.
	Current bool `json:"current,omitempty"`

	rowid    int64
	objectID int64
	fresh    bool // the object was created with this version
}

// Pointer is a named reference to a version: "current", or
// "displaced/N" for the version the N-th rollback moved away from.
type Pointer struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// ListOptions filter Objects.
type ListOptions struct {
	// Folder keeps objects inside it.
	Folder string
	// Tag keeps objects with the tag.
	Tag string
	// Deleted includes objects whose file is gone.
	Deleted bool
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n) }

// Objects lists objects by path.
func (s *Store) Objects(ctx context.Context, opts ListOptions) ([]Object, error) {
	q := `SELECT o.id, o.path, v.vid, v.deleted, v.size, v.hash, v.mtime,
		(SELECT COUNT(*) FROM versions x WHERE x.object_id = o.id), COALESCE(d.kind, '')
		FROM objects o JOIN versions v ON v.id = o.current LEFT JOIN docs d ON d.object_id = o.id`
	var where []string
	var args []any
	if !opts.Deleted {
		where = append(where, "v.deleted = 0")
	}
	if opts.Folder != "" {
		dir := strings.TrimSuffix(opts.Folder, "/")
		where = append(where, "(o.path = ? OR substr(o.path, 1, ?) = ?)")
		args = append(args, dir, len(dir)+1, dir+"/")
	}
	if opts.Tag != "" {
		where = append(where, "EXISTS (SELECT 1 FROM tags t WHERE t.object_id = o.id AND t.tag = ?)")
		args = append(args, opts.Tag)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY o.path"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("objfs: list objects: %w", err)
	}
	defer rows.Close()
	var out []Object
	for rows.Next() {
		var o Object
		var mtime int64
		if err := rows.Scan(&o.ID, &o.Path, &o.Current, &o.Deleted, &o.Size, &o.Hash, &mtime, &o.Versions, &o.Kind); err != nil {
			return nil, fmt.Errorf("objfs: list objects: %w", err)
		}
		o.ModTime = fromNanos(mtime)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("objfs: list objects: %w", err)
	}
	if err := s.fillTags(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Object returns the object at path.
func (s *Store) Object(ctx context.Context, path string) (Object, error) {
	objs, err := s.Objects(ctx, ListOptions{Folder: path, Deleted: true})
	if err != nil {
		return Object{}, err
	}
	for _, o := range objs {
		if o.Path == path {
			return o, nil
		}
	}
	return Object{}, fmt.Errorf("%w: no history for %s (index it first: noema fs index)", ErrNotFound, path)
}

func (s *Store) fillTags(ctx context.Context, objs []Object) error {
	if len(objs) == 0 {
		return nil
	}
	byID := make(map[int64]*Object, len(objs))
	for i := range objs {
		byID[objs[i].ID] = &objs[i]
	}
	rows, err := s.db.QueryContext(ctx, `SELECT object_id, tag FROM tags ORDER BY tag`)
	if err != nil {
		return fmt.Errorf("objfs: read tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return fmt.Errorf("objfs: read tags: %w", err)
		}
		if o := byID[id]; o != nil {
			o.Tags = append(o.Tags, tag)
		}
	}
	return rows.Err()
}

const versionCols = `v.id, v.vid, v.object_id, v.seq, COALESCE(p.vid, ''), v.hash, v.size, v.mode, v.mtime, v.created_at, v.origin, v.deleted, o.path, o.current = v.id`

const versionFrom = ` FROM versions v JOIN objects o ON o.id = v.object_id LEFT JOIN versions p ON p.id = v.parent`

func scanVersion(sc interface{ Scan(...any) error }) (Version, error) {
	var v Version
	var mode uint32
	var mtime, created int64
	err := sc.Scan(&v.rowid, &v.ID, &v.objectID, &v.Seq, &v.Parent, &v.Hash, &v.Size, &mode, &mtime, &created, &v.Origin, &v.Deleted, &v.Path, &v.Current)
	v.Mode = fs.FileMode(mode)
	v.ModTime, v.CreatedAt = fromNanos(mtime), fromNanos(created)
	return v, err
}

// Versions lists the versions of the object at path, newest first.
func (s *Store) Versions(ctx context.Context, path string) ([]Version, error) {
	return s.versions(ctx, s.db, path)
}

func (s *Store) versions(ctx context.Context, q querier, path string) ([]Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+versionCols+versionFrom+` WHERE o.path = ? ORDER BY v.seq DESC`, path)
	if err != nil {
		return nil, fmt.Errorf("objfs: versions of %s: %w", path, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("objfs: versions of %s: %w", path, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("objfs: versions of %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no history for %s (index it first: noema fs index)", ErrNotFound, path)
	}
	return out, nil
}

// Version returns one version by id.
func (s *Store) Version(ctx context.Context, id string) (Version, error) {
	return s.version(ctx, s.db, id)
}

func (s *Store) version(ctx context.Context, q querier, id string) (Version, error) {
	v, err := scanVersion(q.QueryRowContext(ctx, `SELECT `+versionCols+versionFrom+` WHERE v.vid = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, fmt.Errorf("%w: version %s", ErrNotFound, id)
	}
	if err != nil {
		return Version{}, fmt.Errorf("objfs: version %s: %w", id, err)
	}
	return v, nil
}

// Current returns the current version of the object at path.
func (s *Store) Current(ctx context.Context, path string) (Version, error) {
	return s.current(ctx, s.db, path)
}

func (s *Store) current(ctx context.Context, q querier, path string) (Version, error) {
	v, err := scanVersion(q.QueryRowContext(ctx, `SELECT `+versionCols+versionFrom+` WHERE o.path = ? AND v.id = o.current`, path))
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, fmt.Errorf("%w: no history for %s (index it first: noema fs index)", ErrNotFound, path)
	}
	if err != nil {
		return Version{}, fmt.Errorf("objfs: current version of %s: %w", path, err)
	}
	return v, nil
}

// Pointers lists the named pointers of the object at path: "current"
// first, then the versions rollbacks moved away from, newest first.
func (s *Store) Pointers(ctx context.Context, path string) ([]Pointer, error) {
	cur, err := s.Current(ctx, path)
	if err != nil {
		return nil, err
	}
	out := []Pointer{{Name: PointerCurrent, Version: cur.ID, CreatedAt: cur.CreatedAt}}
	rows, err := s.db.QueryContext(ctx, `SELECT p.name, v.vid, p.created_at FROM pointers p JOIN versions v ON v.id = p.version_id
		WHERE p.object_id = ? ORDER BY p.created_at DESC, p.name DESC`, cur.objectID)
	if err != nil {
		return nil, fmt.Errorf("objfs: pointers of %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Pointer
		var at int64
		if err := rows.Scan(&p.Name, &p.Version, &at); err != nil {
			return nil, fmt.Errorf("objfs: pointers of %s: %w", path, err)
		}
		p.CreatedAt = fromNanos(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PointerCurrent names the current version.
const PointerCurrent = "current"

// Roots lists the folders and files the user asked to index; a Watcher
// keeps them up to date.
func (s *Store) Roots(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT path FROM roots ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("objfs: roots: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("objfs: roots: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TagCount is a tag and how many live objects carry it.
type TagCount struct {
	Tag     string `json:"tag"`
	Objects int    `json:"objects"`
}

// Tags lists every tag in use.
func (s *Store) Tags(ctx context.Context) ([]TagCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.tag, COUNT(*) FROM tags t JOIN objects o ON o.id = t.object_id
		JOIN versions v ON v.id = o.current WHERE v.deleted = 0 GROUP BY t.tag ORDER BY t.tag`)
	if err != nil {
		return nil, fmt.Errorf("objfs: tags: %w", err)
	}
	defer rows.Close()
	var out []TagCount
	for rows.Next() {
		var t TagCount
		if err := rows.Scan(&t.Tag, &t.Objects); err != nil {
			return nil, fmt.Errorf("objfs: tags: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
