package objfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/noema-project/noema/internal/blobstore"
	"github.com/zeebo/blake3"
)

// RollbackPlan is what a rollback would do, worked out without changing
// anything.
type RollbackPlan struct {
	Path string `json:"path"`
	// From is the current version; when the file on disk differs from it
	// (Unsaved), the disk content will first be kept as a new version,
	// and steps count from that.
	From    Version `json:"from"`
	Unsaved bool    `json:"unsaved,omitempty"`
	// DiskHash is the file's content hash now ("" when it is gone).
	DiskHash string `json:"disk_hash"`
	// To is the version that will be restored.
	To Version `json:"to"`
	// Steps is how far back To is.
	Steps int `json:"steps"`
}

// RestoreResult is what a restore did.
type RestoreResult struct {
	Path string `json:"path"`
	// From is the version that was current before (after keeping any
	// unsaved content); a "displaced/N" pointer now names it.
	From Version `json:"from"`
	To   Version `json:"to"`
	// Pointer is the name of the pointer that keeps From.
	Pointer string `json:"pointer"`
	// Kept is set when the file's unsaved content was kept as From.
	Kept bool `json:"kept_unsaved,omitempty"`
}

// Lineage returns the current version of path and its ancestors, newest
// first: the history a rollback walks back through. Versions a rollback
// moved away from are not in it (their pointers keep them).
func (s *Store) Lineage(ctx context.Context, path string) ([]Version, error) {
	return s.lineage(ctx, s.db, path)
}

func (s *Store) lineage(ctx context.Context, q querier, path string) ([]Version, error) {
	all, err := s.versions(ctx, q, path)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Version, len(all))
	var cur Version
	for _, v := range all {
		byID[v.ID] = v
		if v.Current {
			cur = v
		}
	}
	if cur.ID == "" {
		return nil, fmt.Errorf("%w: %s has no current version", ErrCorrupt, path)
	}
	var out []Version
	for v, ok := cur, true; ok && len(out) <= len(all); v, ok = byID[v.Parent] {
		out = append(out, v)
		if v.Parent == "" {
			break
		}
	}
	return out, nil
}

// PlanRollback works out which version rolling path back by steps would
// restore. Steps count along the lineage from the current version, or
// from the file's unsaved content when it differs from the current
// version (so "back one" then restores the last version Noema kept).
func (s *Store) PlanRollback(ctx context.Context, path string, steps int) (RollbackPlan, error) {
	if steps < 1 {
		return RollbackPlan{}, fmt.Errorf("objfs: steps must be at least 1, not %d", steps)
	}
	line, err := s.Lineage(ctx, path)
	if err != nil {
		return RollbackPlan{}, err
	}
	p := RollbackPlan{Path: path, From: line[0], Steps: steps}
	p.DiskHash, err = fileHash(path)
	if err != nil {
		return RollbackPlan{}, err
	}
	cur := line[0]
	switch {
	case p.DiskHash == "" && cur.Deleted, p.DiskHash != "" && p.DiskHash == cur.Hash && !cur.Deleted:
	default:
		p.Unsaved = true
		line = append([]Version{{Path: path, Hash: p.DiskHash}}, line...)
	}
	if steps >= len(line) {
		return RollbackPlan{}, fmt.Errorf("objfs: %s has %d earlier version(s); cannot go back %d", path, len(line)-1, steps)
	}
	p.To = line[steps]
	return p, nil
}

// fileHash is hex BLAKE3 of a file's content, or "" when it is gone.
func fileHash(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("objfs: %w", err)
	}
	sum := blake3.Sum256(data)
	return fmt.Sprintf("%x", sum[:]), nil
}

// Rollback restores the version steps back (see PlanRollback) into the
// file and makes it current. Nothing is lost: unsaved content is kept as
// a version first, and the version moved away from stays reachable
// through a "displaced/N" pointer.
func (s *Store) Rollback(ctx context.Context, path string, steps int) (RestoreResult, error) {
	p, err := s.PlanRollback(ctx, path, steps)
	if err != nil {
		return RestoreResult{}, err
	}
	return s.Restore(ctx, path, p.To.ID)
}

// Restore writes version id's content to path (atomically, with the
// version's permissions) and makes it current. A deletion version removes
// the file instead. The file's unsaved content is kept as a version first.
func (s *Store) Restore(ctx context.Context, path, id string) (RestoreResult, error) {
	to, err := s.Version(ctx, id)
	if err != nil {
		return RestoreResult{}, err
	}
	if to.Path != path {
		return RestoreResult{}, fmt.Errorf("objfs: version %s belongs to %s, not %s", id, to.Path, path)
	}
	res := RestoreResult{Path: path, To: to}
	// Keep what is on disk before overwriting it.
	_, changed, err := s.Snapshot(ctx, path, "rollback")
	if err != nil {
		return res, fmt.Errorf("objfs: keep the current content of %s first: %w", path, err)
	}
	res.Kept = changed
	from, err := s.Current(ctx, path)
	if err != nil {
		return res, err
	}
	res.From = from
	var an analysis
	var data []byte
	if !to.Deleted {
		r, err := s.OpenVersion(ctx, id)
		if err != nil {
			return res, err
		}
		mode := to.Mode.Perm()
		if mode == 0 {
			mode = 0o644
		}
		// The folder may have gone with the file.
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return res, fmt.Errorf("objfs: restore %s: %w", path, err)
		}
		// The copy streams through VersionReader.WriteTo, which checks
		// every chunk and the whole content's hash before the file is
		// renamed into place.
		if err := blobstore.AtomicWrite(path, r, mode); err != nil {
			return res, fmt.Errorf("objfs: restore %s: %w", path, err)
		}
		if to.Size <= maxExtractInput {
			if data, err = s.ReadVersion(ctx, id); err != nil {
				return res, err
			}
		}
		a := s.analyzers.get()
		an = analyze(a, s.vocabulary(), path, data, to.Size)
		s.analyzers.put(a)
	} else if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, fmt.Errorf("objfs: restore deletion of %s: %w", path, err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		if from.ID == to.ID {
			return nil
		}
		name, err := tx.displace(from)
		if err != nil {
			return err
		}
		res.Pointer = name
		if _, err := tx.exec(`UPDATE objects SET current = ? WHERE id = ?`, to.rowid, to.objectID); err != nil {
			return fmt.Errorf("objfs: move current of %s: %w", path, err)
		}
		if st, err := os.Lstat(path); err == nil {
			if err := tx.markSeen(path, fileStat{size: st.Size(), mtime: st.ModTime().UnixNano(), ino: inode(st)}); err != nil {
				return err
			}
		}
		if to.Deleted {
			_, err := tx.exec(`DELETE FROM docs WHERE object_id = ?`, to.objectID)
			tx.docsChanged = true
			return err
		}
		return tx.setDoc(to, an, data)
	})
	if err != nil {
		return res, err
	}
	res.To.Current, res.From.Current = true, false
	return res, nil
}

// displace adds a pointer to a version a rollback moves away from.
func (tx *Tx) displace(v Version) (string, error) {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM pointers WHERE object_id = ? AND name LIKE 'displaced/%'`, v.objectID).Scan(&n); err != nil {
		return "", fmt.Errorf("objfs: pointers: %w", err)
	}
	name := fmt.Sprintf("displaced/%d", n+1)
	if _, err := tx.exec(`INSERT INTO pointers(object_id, name, version_id, created_at) VALUES(?, ?, ?, ?)`, v.objectID, name, v.rowid, nanos(tx.now)); err != nil {
		return "", fmt.Errorf("objfs: add pointer: %w", err)
	}
	return name, nil
}
