package objfs

import (
	"context"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/zeebo/blake3"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Chunks   int   `json:"chunks"`
	Bytes    int64 `json:"bytes"`
	Versions int   `json:"versions"`
	// BadChunks are chunks that are missing, damaged or do not hash to
	// their name.
	BadChunks []BadChunk `json:"bad_chunks"`
	// BadVersions are versions whose content cannot be read back whole
	// or does not hash to the version's hash.
	BadVersions []BadVersion `json:"bad_versions"`
	Seconds     float64      `json:"seconds"`
}

// BadChunk is a damaged chunk.
type BadChunk struct {
	Hash   string `json:"hash"`
	Pack   int64  `json:"pack"`
	Offset int64  `json:"offset"`
	Error  string `json:"error"`
}

// BadVersion is a version that cannot be restored.
type BadVersion struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Error   string `json:"error"`
}

// OK reports whether everything verified.
func (r VerifyReport) OK() bool { return len(r.BadChunks) == 0 && len(r.BadVersions) == 0 }

// VerifyProgress is called as chunks are checked.
type VerifyProgress func(done, total int)

// Verify reads every chunk back and checks its BLAKE3 hash, then checks
// that every version's chunk list is complete and adds up to the
// version's size and hash (from the chunk hashes already proven, so each
// byte is read once). It needs no model and no daemon.
func (s *Store) Verify(ctx context.Context, progress VerifyProgress) (VerifyReport, error) {
	start := time.Now()
	var rep VerifyReport
	rep.BadChunks, rep.BadVersions = []BadChunk{}, []BadVersion{}
	rows, err := s.db.QueryContext(ctx, `SELECT id, hash, pack, off, len FROM chunks ORDER BY pack, off`)
	if err != nil {
		return rep, fmt.Errorf("objfs: verify: %w", err)
	}
	type chunk struct {
		id   int64
		hash []byte
		ref  chunkRef
	}
	var chunks []chunk
	for rows.Next() {
		var c chunk
		if err := rows.Scan(&c.id, &c.hash, &c.ref.pack, &c.ref.off, &c.ref.length); err != nil {
			rows.Close()
			return rep, fmt.Errorf("objfs: verify: %w", err)
		}
		chunks = append(chunks, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("objfs: verify: %w", err)
	}
	bad := make(map[int64]bool)
	buf := make([]byte, recordHeader+maxChunk)
	for i, c := range chunks {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if len(c.hash) != 32 {
			bad[c.id] = true
			rep.BadChunks = append(rep.BadChunks, BadChunk{Hash: hex.EncodeToString(c.hash), Pack: c.ref.pack, Offset: c.ref.off, Error: "malformed hash in the index"})
			continue
		}
		if _, err := s.packs.read(c.ref, c.hash, buf); err != nil {
			bad[c.id] = true
			rep.BadChunks = append(rep.BadChunks, BadChunk{Hash: hex.EncodeToString(c.hash), Pack: c.ref.pack, Offset: c.ref.off, Error: err.Error()})
		}
		rep.Chunks++
		rep.Bytes += c.ref.length
		if progress != nil && (i%256 == 0 || i == len(chunks)-1) {
			progress(i+1, len(chunks))
		}
	}
	if err := s.verifyVersions(ctx, bad, &rep); err != nil {
		return rep, err
	}
	sort.Slice(rep.BadVersions, func(i, j int) bool { return rep.BadVersions[i].Path < rep.BadVersions[j].Path })
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// verifyVersions checks each version's chunk list against its size and
// whole-content hash. The whole hash needs the bytes, so versions made of
// verified chunks are re-read chunk by chunk.
func (s *Store) verifyVersions(ctx context.Context, bad map[int64]bool, rep *VerifyReport) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionCols+versionFrom+` WHERE v.deleted = 0 ORDER BY o.path, v.seq`)
	if err != nil {
		return fmt.Errorf("objfs: verify: %w", err)
	}
	var vs []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("objfs: verify: %w", err)
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("objfs: verify: %w", err)
	}
	for _, v := range vs {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.Versions++
		r, err := s.openVersion(ctx, s.db, v)
		if err != nil {
			rep.BadVersions = append(rep.BadVersions, BadVersion{Path: v.Path, Version: v.ID, Error: err.Error()})
			continue
		}
		h := blake3.New()
		ok := true
		for i := range r.chunks {
			data, err := r.chunk(i)
			if err != nil {
				rep.BadVersions = append(rep.BadVersions, BadVersion{Path: v.Path, Version: v.ID, Error: err.Error()})
				ok = false
				break
			}
			h.Write(data)
		}
		if ok {
			if got := hex.EncodeToString(h.Sum(nil)); got != v.Hash {
				rep.BadVersions = append(rep.BadVersions, BadVersion{Path: v.Path, Version: v.ID, Error: fmt.Sprintf("content hashes to %s, want %s", got[:12], v.Hash[:12])})
			}
		}
	}
	return nil
}
