package objfs

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/noema-project/noema/objfs/search"
)

// The search index is derived data: after it is built from the database
// it is also written to a cache file named by the store's id and the
// documents' generation, so the next process (each `noema fs search` is
// one) reads one file instead of every row. A stale or damaged file is
// ignored and rebuilt.

const snapMagic = "NOEMASN1"

// storeID returns the store's random identity (made with the schema), so
// a cache file never outlives a database that was replaced.
func (s *Store) storeID(ctx context.Context, q querier) (string, error) {
	id, err := getMetaString(ctx, q, metaStoreID)
	if err == nil && id == "" {
		err = fmt.Errorf("%w: the store has no identity", ErrCorrupt)
	}
	return id, err
}

func (s *Store) snapPath(id string, gen int64) string {
	return filepath.Join(s.opts.Dir, "cache", fmt.Sprintf("search-%s-%d.snap", id, gen))
}

// readSnapCache returns the cached snapshot for gen, or nil.
func (s *Store) readSnapCache(id string, gen int64) *snapshot {
	f, err := os.Open(s.snapPath(id, gen))
	if err != nil {
		return nil
	}
	defer f.Close()
	snap, err := decodeSnapshot(f, gen)
	if err != nil {
		return nil
	}
	return snap
}

func decodeSnapshot(r io.Reader, gen int64) (*snapshot, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != snapMagic {
		return nil, errors.New("not a snapshot")
	}
	snap := &snapshot{gen: gen}
	var err error
	if snap.embModel, err = readString(br); err != nil {
		return nil, err
	}
	var n uint64
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil || n > 1<<31 {
		return nil, errors.New("bad snapshot")
	}
	for i := uint64(0); i < n; i++ {
		var d snapDoc
		var flags [1]byte
		if err := binary.Read(br, binary.LittleEndian, &d.objectID); err != nil {
			return nil, err
		}
		if err := binary.Read(br, binary.LittleEndian, &d.version); err != nil {
			return nil, err
		}
		if d.vid, err = readString(br); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(br, flags[:]); err != nil {
			return nil, err
		}
		d.hasText = flags[0] == 1
		snap.docs = append(snap.docs, d)
	}
	if snap.ix, err = search.ReadIndex(br); err != nil {
		return nil, err
	}
	if snap.ix.Len() != len(snap.docs) {
		return nil, errors.New("snapshot documents disagree")
	}
	for i, d := range snap.docs {
		if snap.ix.Key(i) != d.objectID {
			return nil, errors.New("snapshot documents disagree")
		}
	}
	return snap, nil
}

func readString(r io.Reader) (string, error) {
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n > 1<<16 {
		return "", errors.New("bad string")
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return string(b), err
}

func writeString(w io.Writer, s string) error {
	if err := binary.Write(w, binary.LittleEndian, uint32(len(s))); err != nil {
		return err
	}
	_, err := io.WriteString(w, s)
	return err
}

// writeSnapCache saves snap for the next process and removes older
// files. Failing to write only costs that process a rebuild.
func (s *Store) writeSnapCache(id string, snap *snapshot) {
	dir := filepath.Join(s.opts.Dir, "cache")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	path := s.snapPath(id, snap.gen)
	if _, err := os.Stat(path); err == nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".snap-*")
	if err != nil {
		return
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = encodeSnapshot(bw, snap)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil || os.Rename(tmp.Name(), path) != nil {
		return
	}
	old, _ := filepath.Glob(filepath.Join(dir, "search-*.snap"))
	for _, o := range old {
		if o != path && strings.HasPrefix(filepath.Base(o), "search-") {
			os.Remove(o)
		}
	}
}

func encodeSnapshot(w io.Writer, snap *snapshot) error {
	if _, err := io.WriteString(w, snapMagic); err != nil {
		return err
	}
	if err := writeString(w, snap.embModel); err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(snap.docs))); err != nil {
		return err
	}
	for _, d := range snap.docs {
		flag := byte(0)
		if d.hasText {
			flag = 1
		}
		for _, v := range []any{d.objectID, d.version} {
			if err := binary.Write(w, binary.LittleEndian, v); err != nil {
				return err
			}
		}
		if err := writeString(w, d.vid); err != nil {
			return err
		}
		if _, err := w.Write([]byte{flag}); err != nil {
			return err
		}
	}
	_, err := snap.ix.WriteTo(w)
	return err
}
