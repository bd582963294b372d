package objfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/zeebo/blake3"
)

// Chunks live in append-only pack files. Each record is a header (magic,
// length, BLAKE3 of the data) followed by the data, so a pack can be
// checked, and its chunks recovered, without the database. A transaction
// appends its new chunks, syncs the pack, and only then commits the rows
// that point at them: a crash leaves at most unreferenced bytes at a
// pack's tail, which the next writer cuts off.
const (
	packMagic      = "NOEMAPK1"
	recordMagic    = "NCK1"
	recordHeader   = 4 + 4 + 32
	packTarget     = 1 << 30 // start a new pack after this many bytes
	packFileSuffix = ".pack"
)

// ErrCorrupt reports stored bytes that no longer hash to their name.
var ErrCorrupt = errors.New("objfs: stored data is corrupt")

func packPath(dir string, n int64) string {
	return filepath.Join(dir, "packs", fmt.Sprintf("%08d%s", n, packFileSuffix))
}

// packSet caches read handles of pack files.
type packSet struct {
	dir   string
	mu    sync.Mutex
	files map[int64]*os.File
}

func newPackSet(dir string) *packSet { return &packSet{dir: dir, files: make(map[int64]*os.File)} }

func (p *packSet) file(n int64) (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.files[n]; ok {
		return f, nil
	}
	f, err := os.Open(packPath(p.dir, n))
	if err != nil {
		return nil, fmt.Errorf("objfs: open pack %d: %w", n, err)
	}
	p.files[n] = f
	return f, nil
}

func (p *packSet) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for n, f := range p.files {
		errs = append(errs, f.Close())
		delete(p.files, n)
	}
	return errors.Join(errs...)
}

// chunkRef locates a chunk record.
type chunkRef struct {
	pack   int64
	off    int64 // of the record header
	length int64 // of the data
}

// read returns a chunk's data after checking its header and hash, so
// damaged bytes are reported, never served.
func (p *packSet) read(ref chunkRef, want []byte, dst []byte) ([]byte, error) {
	f, err := p.file(ref.pack)
	if err != nil {
		return nil, err
	}
	if ref.length < 0 || ref.length > maxChunk {
		return nil, fmt.Errorf("%w: chunk length %d in pack %d", ErrCorrupt, ref.length, ref.pack)
	}
	need := recordHeader + int(ref.length)
	if cap(dst) < need {
		dst = make([]byte, need)
	}
	buf := dst[:need]
	if _, err := f.ReadAt(buf, ref.off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: pack %d is shorter than its index says (chunk at %d)", ErrCorrupt, ref.pack, ref.off)
		}
		return nil, fmt.Errorf("objfs: read pack %d: %w", ref.pack, err)
	}
	if string(buf[:4]) != recordMagic || int64(binary.LittleEndian.Uint32(buf[4:8])) != ref.length {
		return nil, fmt.Errorf("%w: bad chunk header in pack %d at %d", ErrCorrupt, ref.pack, ref.off)
	}
	data := buf[recordHeader:]
	sum := blake3.Sum256(data)
	if !bytes.Equal(sum[:], want) || !bytes.Equal(buf[8:recordHeader], want) {
		return nil, fmt.Errorf("%w: chunk %x in pack %d at %d", ErrCorrupt, want[:6], ref.pack, ref.off)
	}
	return data, nil
}

// packWriter appends records to one pack inside a write transaction.
type packWriter struct {
	n    int64
	f    *os.File
	size int64
	buf  *bytes.Buffer
	// dirty is set once a record was written and not yet synced.
	dirty bool
	// created is set for a new pack whose folder entry must be synced.
	created bool
	dir     string
}

// openPackWriter opens pack n for appending, first cutting off anything
// past end, the last byte any committed row points at: those bytes were
// written by a transaction that never committed.
func openPackWriter(dir string, n, end int64) (*packWriter, error) {
	if err := os.MkdirAll(filepath.Join(dir, "packs"), 0o700); err != nil {
		return nil, fmt.Errorf("objfs: %w", err)
	}
	path := packPath(dir, n)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("objfs: open pack %d: %w", n, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("objfs: pack %d: %w", n, err)
	}
	size := fi.Size()
	if end < int64(len(packMagic)) {
		end = int64(len(packMagic))
	}
	created := false
	switch {
	case size == 0 && end == int64(len(packMagic)):
		if _, err := f.WriteAt([]byte(packMagic), 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("objfs: pack %d: %w", n, err)
		}
		size, created = int64(len(packMagic)), true
	case size < end:
		f.Close()
		return nil, fmt.Errorf("%w: pack %d has %d bytes but committed chunks reach %d (run `noema fs verify`)", ErrCorrupt, n, size, end)
	default:
		head := make([]byte, len(packMagic))
		if _, err := f.ReadAt(head, 0); err != nil || string(head) != packMagic {
			f.Close()
			return nil, fmt.Errorf("%w: pack %d does not start with %s", ErrCorrupt, n, packMagic)
		}
		if size > end {
			if err := f.Truncate(end); err != nil {
				f.Close()
				return nil, fmt.Errorf("objfs: trim pack %d: %w", n, err)
			}
			size = end
		}
	}
	return &packWriter{n: n, f: f, size: size, buf: new(bytes.Buffer), created: created, dir: filepath.Join(dir, "packs")}, nil
}

// append buffers a record and returns where it will lie.
func (w *packWriter) append(hash [32]byte, data []byte) (chunkRef, error) {
	ref := chunkRef{pack: w.n, off: w.size + int64(w.buf.Len()), length: int64(len(data))}
	var h [recordHeader]byte
	copy(h[:4], recordMagic)
	binary.LittleEndian.PutUint32(h[4:8], uint32(len(data)))
	copy(h[8:], hash[:])
	w.buf.Write(h[:])
	w.buf.Write(data)
	w.dirty = true
	if w.buf.Len() >= 8<<20 {
		if err := w.flush(); err != nil {
			return chunkRef{}, err
		}
	}
	return ref, nil
}

func (w *packWriter) flush() error {
	if w.buf.Len() == 0 {
		return nil
	}
	n, err := w.f.WriteAt(w.buf.Bytes(), w.size)
	w.size += int64(n)
	w.buf.Reset()
	if err != nil {
		return fmt.Errorf("objfs: write pack %d: %w", w.n, err)
	}
	return nil
}

// sync makes every appended record durable.
func (w *packWriter) sync() error {
	if err := w.flush(); err != nil {
		return err
	}
	if !w.dirty {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("objfs: sync pack %d: %w", w.n, err)
	}
	w.dirty = false
	if w.created {
		if err := syncDir(w.dir); err != nil {
			return err
		}
		w.created = false
	}
	return nil
}

// full reports whether the pack reached its target size.
func (w *packWriter) full() bool { return w.size+int64(w.buf.Len()) >= packTarget }

func (w *packWriter) close() error { return w.f.Close() }

// syncDir makes a folder's entries (a new file's name) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("objfs: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("objfs: sync %s: %w", dir, err)
	}
	return nil
}
