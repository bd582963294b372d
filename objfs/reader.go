package objfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/zeebo/blake3"
)

// VersionReader reads one version's content. It is an io.ReaderAt (safe
// for concurrent use, as a FUSE server needs), io.Reader and io.Seeker.
// Every chunk is checked against its hash as it is read; a damaged chunk
// is an error wrapping ErrCorrupt, never wrong bytes.
type VersionReader struct {
	s      *Store
	v      Version
	chunks []readChunk

	mu     sync.Mutex
	pos    int64
	cached int // index of the chunk in buf, or -1
	buf    []byte
	data   []byte
}

type readChunk struct {
	off  int64 // in the version
	ref  chunkRef
	hash []byte
}

// OpenVersion opens a version's content for reading.
func (s *Store) OpenVersion(ctx context.Context, id string) (*VersionReader, error) {
	v, err := s.Version(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.openVersion(ctx, s.db, v)
}

func (s *Store) openVersion(ctx context.Context, q querier, v Version) (*VersionReader, error) {
	if v.Deleted {
		return nil, fmt.Errorf("objfs: version %s records the deletion of %s and has no content", v.ID, v.Path)
	}
	rows, err := q.QueryContext(ctx, `SELECT vc.off, c.pack, c.off, c.len, c.hash FROM version_chunks vc
		JOIN chunks c ON c.id = vc.chunk_id WHERE vc.version_id = ? ORDER BY vc.idx`, v.rowid)
	if err != nil {
		return nil, fmt.Errorf("objfs: chunks of %s: %w", v.ID, err)
	}
	defer rows.Close()
	r := &VersionReader{s: s, v: v, cached: -1}
	var end int64
	for rows.Next() {
		var c readChunk
		if err := rows.Scan(&c.off, &c.ref.pack, &c.ref.off, &c.ref.length, &c.hash); err != nil {
			return nil, fmt.Errorf("objfs: chunks of %s: %w", v.ID, err)
		}
		if c.off != end || len(c.hash) != 32 {
			return nil, fmt.Errorf("%w: chunk list of version %s has a gap at %d", ErrCorrupt, v.ID, end)
		}
		end += c.ref.length
		r.chunks = append(r.chunks, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("objfs: chunks of %s: %w", v.ID, err)
	}
	if end != v.Size {
		return nil, fmt.Errorf("%w: version %s has %d bytes of chunks, want %d", ErrCorrupt, v.ID, end, v.Size)
	}
	return r, nil
}

// Version is the version being read.
func (r *VersionReader) Version() Version { return r.v }

// Size is the content's length.
func (r *VersionReader) Size() int64 { return r.v.Size }

// ReadAt implements io.ReaderAt.
func (r *VersionReader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readAt(p, off)
}

func (r *VersionReader) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("objfs: negative offset")
	}
	if off >= r.v.Size {
		return 0, io.EOF
	}
	i := sort.Search(len(r.chunks), func(i int) bool { return r.chunks[i].off+r.chunks[i].ref.length > off })
	n := 0
	for n < len(p) && i < len(r.chunks) {
		data, err := r.chunk(i)
		if err != nil {
			return n, err
		}
		c := r.chunks[i]
		n += copy(p[n:], data[off+int64(n)-c.off:])
		i++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunk returns chunk i's verified data, keeping the last one read.
func (r *VersionReader) chunk(i int) ([]byte, error) {
	if r.cached == i {
		return r.data, nil
	}
	c := r.chunks[i]
	if r.buf == nil {
		r.buf = make([]byte, recordHeader+maxChunk)
	}
	data, err := r.s.packs.read(c.ref, c.hash, r.buf)
	if err != nil {
		r.cached = -1
		return nil, fmt.Errorf("objfs: %s version %s: %w", r.v.Path, r.v.ID, err)
	}
	r.data, r.cached = data, i
	return data, nil
}

// Read implements io.Reader.
func (r *VersionReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.readAt(p, r.pos)
	r.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (r *VersionReader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.v.Size
	default:
		return 0, errors.New("objfs: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("objfs: negative position")
	}
	r.pos = offset
	return offset, nil
}

// Close releases the reader; pack handles stay with the store.
func (r *VersionReader) Close() error { return nil }

// ReadVersion returns a whole version's content after checking that it
// hashes to the version's hash.
func (s *Store) ReadVersion(ctx context.Context, id string) ([]byte, error) {
	r, err := s.OpenVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.readAll()
}

func (r *VersionReader) readAll() ([]byte, error) {
	out := make([]byte, r.v.Size)
	if _, err := r.ReadAt(out, 0); err != nil && !(errors.Is(err, io.EOF) && r.v.Size == 0) {
		return nil, err
	}
	if err := checkHash(r.v, out); err != nil {
		return nil, err
	}
	return out, nil
}

// WriteTo streams the content to w, checking the whole hash at the end.
func (r *VersionReader) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := blake3.New()
	var total int64
	for i := range r.chunks {
		data, err := r.chunk(i)
		if err != nil {
			return total, err
		}
		h.Write(data)
		n, err := w.Write(data)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != r.v.Hash {
		return total, fmt.Errorf("%w: version %s of %s hashes to %s, want %s", ErrCorrupt, r.v.ID, r.v.Path, got[:12], r.v.Hash[:12])
	}
	return total, nil
}

func checkHash(v Version, data []byte) error {
	sum := blake3.Sum256(data)
	if got := fmt.Sprintf("%x", sum[:]); got != v.Hash {
		return fmt.Errorf("%w: version %s of %s hashes to %s, want %s", ErrCorrupt, v.ID, v.Path, got[:12], v.Hash[:12])
	}
	return nil
}
