package objfs

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/noema-project/noema/internal/ids"
	"github.com/noema-project/noema/objfs/search"
	"github.com/zeebo/blake3"
)

// Tx is a write transaction: everything done through it becomes visible
// together when Update's function returns nil, or not at all, even if the
// process is killed halfway. Chunk data is appended to a pack and synced
// before the rows naming it commit.
type Tx struct {
	s      *Store
	ctx    context.Context
	conn   *sql.Conn
	now    time.Time
	stmts  map[string]*sql.Stmt
	packs  []*packWriter
	chunks map[[32]byte]int64 // chunks this transaction used
	// newChunks join the store's chunk cache once committed.
	newChunks map[[32]byte]int64
	// newTerms are dictionary entries this transaction added.
	newTerms map[string]uint32
	// basis is the LSI model as this transaction sees it.
	basis       *search.Basis
	basisLoaded bool
	// docsChanged is set when search documents or tags changed.
	docsChanged bool
	pending     []func() // run after a successful commit
}

// Update runs fn in a write transaction and commits it when fn returns
// nil; an error from fn rolls everything back.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	return tx.commit()
}

func (s *Store) begin(ctx context.Context) (*Tx, error) {
	s.wmu.Lock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.wmu.Unlock()
		return nil, fmt.Errorf("objfs: begin: %w", err)
	}
	// IMMEDIATE takes the write lock now, so two writers never both read
	// the pack's end.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		s.wmu.Unlock()
		return nil, fmt.Errorf("objfs: begin: %w", err)
	}
	return &Tx{s: s, ctx: ctx, conn: conn, now: s.now(), stmts: make(map[string]*sql.Stmt), chunks: make(map[[32]byte]int64)}, nil
}

func (tx *Tx) release() {
	for _, st := range tx.stmts {
		st.Close()
	}
	for _, p := range tx.packs {
		p.close()
	}
	tx.conn.Close()
	tx.s.wmu.Unlock()
}

func (tx *Tx) rollback() {
	tx.conn.ExecContext(context.WithoutCancel(tx.ctx), "ROLLBACK")
	tx.release()
}

func (tx *Tx) commit() error {
	for _, p := range tx.packs {
		if err := p.sync(); err != nil {
			tx.rollback()
			return err
		}
	}
	if tx.docsChanged {
		if err := bumpMeta(tx.ctx, tx, metaDocsGen); err != nil {
			tx.rollback()
			return err
		}
	}
	if _, err := tx.conn.ExecContext(tx.ctx, "COMMIT"); err != nil {
		tx.rollback()
		return fmt.Errorf("objfs: commit: %w", err)
	}
	tx.release()
	for _, f := range tx.pending {
		f()
	}
	return nil
}

// QueryRowContext, ExecContext and QueryContext let a Tx serve as a
// querier; they run on the transaction's connection.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.conn.QueryRowContext(ctx, q, args...)
}

func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.conn.ExecContext(ctx, q, args...)
}

func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.conn.QueryContext(ctx, q, args...)
}

// stmt returns a prepared statement cached for the transaction.
func (tx *Tx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := tx.stmts[q]; ok {
		return st, nil
	}
	st, err := tx.conn.PrepareContext(tx.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("objfs: prepare: %w", err)
	}
	tx.stmts[q] = st
	return st, nil
}

func (tx *Tx) exec(q string, args ...any) (sql.Result, error) {
	st, err := tx.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(tx.ctx, args...)
}

func (tx *Tx) queryRow(q string, args ...any) *sql.Row {
	st, err := tx.stmt(q)
	if err != nil {
		return tx.conn.QueryRowContext(tx.ctx, q, args...)
	}
	return st.QueryRowContext(tx.ctx, args...)
}

// packWriter returns the pack new chunks go to, starting a new pack when
// the last one is full.
func (tx *Tx) packWriter() (*packWriter, error) {
	if n := len(tx.packs); n > 0 && !tx.packs[n-1].full() {
		return tx.packs[n-1], nil
	}
	var pack, end int64
	if n := len(tx.packs); n > 0 {
		pack = tx.packs[n-1].n + 1
	} else {
		var last sql.NullInt64
		if err := tx.conn.QueryRowContext(tx.ctx, `SELECT MAX(pack) FROM chunks`).Scan(&last); err != nil {
			return nil, fmt.Errorf("objfs: find pack: %w", err)
		}
		pack = max(last.Int64, 1)
		var e sql.NullInt64
		if err := tx.conn.QueryRowContext(tx.ctx, `SELECT MAX(off + ? + len) FROM chunks WHERE pack = ?`, recordHeader, pack).Scan(&e); err != nil {
			return nil, fmt.Errorf("objfs: find pack end: %w", err)
		}
		end = e.Int64
		if end >= packTarget {
			pack, end = pack+1, 0
		}
	}
	w, err := openPackWriter(tx.s.opts.Dir, pack, end)
	if err != nil {
		return nil, err
	}
	tx.packs = append(tx.packs, w)
	return w, nil
}

// putChunk stores one chunk unless a chunk with its hash exists, and
// returns the chunk's row id.
func (tx *Tx) putChunk(data []byte) (int64, error) {
	sum := blake3.Sum256(data)
	if id, ok := tx.chunks[sum]; ok {
		return id, nil
	}
	id, known, complete := tx.s.cachedChunk(sum)
	if known {
		tx.chunks[sum] = id
		return id, nil
	}
	if !complete {
		err := tx.queryRow(`SELECT id FROM chunks WHERE hash = ?`, sum[:]).Scan(&id)
		if err == nil {
			tx.chunks[sum] = id
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("objfs: look up chunk: %w", err)
		}
	}
	w, err := tx.packWriter()
	if err != nil {
		return 0, err
	}
	ref, err := w.append(sum, data)
	if err != nil {
		return 0, err
	}
	// Another process may have stored the same chunk since the cache was
	// filled; then its row wins and the bytes just written are never
	// referenced.
	res, err := tx.exec(`INSERT INTO chunks(hash, pack, off, len) VALUES(?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING`, sum[:], ref.pack, ref.off, ref.length)
	if err != nil {
		return 0, fmt.Errorf("objfs: add chunk: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if err := tx.queryRow(`SELECT id FROM chunks WHERE hash = ?`, sum[:]).Scan(&id); err != nil {
			return 0, fmt.Errorf("objfs: look up chunk: %w", err)
		}
	} else if id, err = res.LastInsertId(); err != nil {
		return 0, fmt.Errorf("objfs: add chunk: %w", err)
	}
	if tx.newChunks == nil {
		tx.newChunks = make(map[[32]byte]int64)
		tx.afterCommit(func() { tx.s.rememberChunks(tx.newChunks) })
	}
	tx.newChunks[sum] = id
	tx.chunks[sum] = id
	return id, nil
}

// PutInfo describes content stored with Put.
type PutInfo struct {
	Mode    fs.FileMode
	ModTime time.Time
	// Origin says what recorded the version (default "put").
	Origin string

	// seen, when set, is the file's stat as it was read (see markSeen).
	seen *fileStat
}

// fileStat is what a file looked like when its content was read.
type fileStat struct {
	size, mtime int64
	ino         uint64
}

// objectRow is what a transaction knows of an object.
type objectRow struct {
	id      int64
	current sql.NullInt64
	hash    string
	deleted bool
	seq     int
}

func (tx *Tx) object(path string) (objectRow, bool, error) {
	var o objectRow
	var hash sql.NullString
	var deleted sql.NullBool
	err := tx.queryRow(`SELECT o.id, o.current, v.hash, v.deleted, (SELECT COALESCE(MAX(seq), 0) FROM versions WHERE object_id = o.id)
		FROM objects o LEFT JOIN versions v ON v.id = o.current WHERE o.path = ?`, path).Scan(&o.id, &o.current, &hash, &deleted, &o.seq)
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("objfs: look up %s: %w", path, err)
	}
	o.hash, o.deleted = hash.String, deleted.Bool
	return o, true, nil
}

// Put stores r's content as a new version of path, unless it equals the
// current version; changed is false then and v is the current version.
// The path need not exist on disk.
func (tx *Tx) Put(path string, r io.Reader, info PutInfo) (v Version, changed bool, err error) {
	cr := newChunkReader(r)
	return tx.put(path, cr.next, info)
}

// PutBytes is Put for content already in memory.
func (tx *Tx) PutBytes(path string, data []byte, info PutInfo) (v Version, changed bool, err error) {
	return tx.put(path, func() ([]byte, error) {
		if len(data) == 0 {
			return nil, io.EOF
		}
		n := cutPoint(data)
		c := data[:n]
		data = data[n:]
		return c, nil
	}, info)
}

func (tx *Tx) put(path string, next func() ([]byte, error), info PutInfo) (v Version, changed bool, err error) {
	if info.Origin == "" {
		info.Origin = "put"
	}
	o, exists, err := tx.object(path)
	if err != nil {
		return Version{}, false, err
	}
	type placed struct {
		id  int64
		off int64
	}
	var list []placed
	h := blake3.New()
	var size int64
	for {
		data, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Version{}, false, fmt.Errorf("objfs: read %s: %w", path, err)
		}
		h.Write(data)
		id, err := tx.putChunk(data)
		if err != nil {
			return Version{}, false, err
		}
		list = append(list, placed{id, size})
		size += int64(len(data))
		if err := tx.ctx.Err(); err != nil {
			return Version{}, false, err
		}
	}
	hash := hex.EncodeToString(h.Sum(nil))
	if exists && o.current.Valid && !o.deleted && o.hash == hash {
		if info.seen != nil {
			if err := tx.markSeen(path, *info.seen); err != nil {
				return Version{}, false, err
			}
		}
		cur, err := tx.s.current(tx.ctx, tx, path)
		return cur, false, err
	}
	seen := fileStat{size: -1}
	if info.seen != nil {
		seen = *info.seen
	}
	if !exists {
		res, err := tx.exec(`INSERT INTO objects(path, created_at, seen_size, seen_mtime, seen_ino) VALUES(?, ?, ?, ?, ?)`,
			path, nanos(tx.now), seen.size, seen.mtime, int64(seen.ino))
		if err != nil {
			return Version{}, false, fmt.Errorf("objfs: add %s: %w", path, err)
		}
		if o.id, err = res.LastInsertId(); err != nil {
			return Version{}, false, fmt.Errorf("objfs: add %s: %w", path, err)
		}
	}
	v = Version{
		ID: ids.New("ver", tx.now), Seq: o.seq + 1, Path: path, Hash: hash, Size: size,
		Mode: info.Mode.Perm(), ModTime: info.ModTime, CreatedAt: tx.now, Origin: info.Origin, Current: true,
		objectID: o.id, fresh: !exists,
	}
	if err := tx.insertVersion(&v, o.current, false, seen); err != nil {
		return Version{}, false, err
	}
	for i, c := range list {
		if _, err := tx.exec(`INSERT INTO version_chunks(version_id, idx, chunk_id, off) VALUES(?, ?, ?, ?)`, v.rowid, i, c.id, c.off); err != nil {
			return Version{}, false, fmt.Errorf("objfs: add chunk list of %s: %w", path, err)
		}
	}
	return v, true, nil
}

// insertVersion adds v and makes it current, remembering seen as the
// file's stat.
func (tx *Tx) insertVersion(v *Version, parent sql.NullInt64, deleted bool, seen fileStat) error {
	res, err := tx.exec(`INSERT INTO versions(vid, object_id, seq, parent, hash, size, mode, mtime, created_at, origin, deleted)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.objectID, v.Seq, parent, v.Hash, v.Size, uint32(v.Mode), nanos(v.ModTime), nanos(v.CreatedAt), v.Origin, deleted)
	if err != nil {
		return fmt.Errorf("objfs: add version of %s: %w", v.Path, err)
	}
	if v.rowid, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("objfs: add version of %s: %w", v.Path, err)
	}
	if parent.Valid {
		var pid string
		if err := tx.queryRow(`SELECT vid FROM versions WHERE id = ?`, parent.Int64).Scan(&pid); err == nil {
			v.Parent = pid
		}
	}
	if _, err := tx.exec(`UPDATE objects SET current = ?, seen_size = ?, seen_mtime = ?, seen_ino = ? WHERE id = ?`,
		v.rowid, seen.size, seen.mtime, int64(seen.ino), v.objectID); err != nil {
		return fmt.Errorf("objfs: move current of %s: %w", v.Path, err)
	}
	return nil
}

// Delete records that path is gone: a version without content becomes
// current and the path leaves the search index. Earlier versions stay.
func (tx *Tx) Delete(path, origin string) (Version, bool, error) {
	o, exists, err := tx.object(path)
	if err != nil || !exists || o.deleted {
		return Version{}, false, err
	}
	v := Version{ID: ids.New("ver", tx.now), Seq: o.seq + 1, Path: path, CreatedAt: tx.now, ModTime: tx.now, Origin: origin, Deleted: true, Current: true, objectID: o.id}
	if err := tx.insertVersion(&v, o.current, true, fileStat{size: -1}); err != nil {
		return Version{}, false, err
	}
	if _, err := tx.exec(`DELETE FROM docs WHERE object_id = ?`, o.id); err != nil {
		return Version{}, false, fmt.Errorf("objfs: unindex %s: %w", path, err)
	}
	tx.docsChanged = true
	return v, true, nil
}

// markSeen remembers what the file looked like when its content was
// read, so an unchanged file is not read again.
func (tx *Tx) markSeen(path string, st fileStat) error {
	_, err := tx.exec(`UPDATE objects SET seen_size = ?, seen_mtime = ?, seen_ino = ? WHERE path = ?`, st.size, st.mtime, int64(st.ino), path)
	if err != nil {
		return fmt.Errorf("objfs: remember %s: %w", path, err)
	}
	return nil
}

// afterCommit runs f once the transaction has committed.
func (tx *Tx) afterCommit(f func()) { tx.pending = append(tx.pending, f) }
