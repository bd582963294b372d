package objfs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Snapshot records the file at path as it is now: a new version when its
// content differs from the current one (indexed for search), a deletion
// when it is gone. changed reports whether a version was added.
func (s *Store) Snapshot(ctx context.Context, path, origin string) (v Version, changed bool, err error) {
	if !filepath.IsAbs(path) {
		return Version{}, false, fmt.Errorf("objfs: %q is not an absolute path", path)
	}
	path = filepath.Clean(path)
	if s.excluded(path) {
		return Version{}, false, fmt.Errorf("objfs: %s is inside Noema's own state and is never versioned", path)
	}
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		err = s.Update(ctx, func(tx *Tx) error {
			v, changed, err = tx.Delete(path, origin)
			return err
		})
		return v, changed, err
	}
	if err != nil {
		return Version{}, false, fmt.Errorf("objfs: %w", err)
	}
	if !info.Mode().IsRegular() {
		return Version{}, false, fmt.Errorf("objfs: %s is not a regular file", path)
	}
	big := info.Size() > maxExtractInput
	var data []byte
	if !big {
		if data, err = readFile(path); err != nil {
			return Version{}, false, fmt.Errorf("objfs: %w", err)
		}
		if info, err = os.Lstat(path); err != nil {
			return Version{}, false, fmt.Errorf("objfs: %w", err)
		}
	}
	a := s.analyzers.get()
	an := analyze(a, s.vocabulary(), path, data, info.Size())
	s.analyzers.put(a)
	r := result{job: job{path: path, info: info, ino: inode(info)}, data: data, an: an}
	if emb := s.opts.Embedder; emb != nil && an.indexed {
		s.embedBatch(ctx, emb, []result{r})
	}
	err = s.Update(ctx, func(tx *Tx) error {
		if s.opts.Embedder != nil {
			if err := tx.useEmbeddingModel(s.opts.Embedder.Model()); err != nil {
				return err
			}
		}
		_, indexed, err := tx.docOf(path)
		if err != nil {
			return err
		}
		info := PutInfo{Mode: info.Mode(), ModTime: info.ModTime(), Origin: origin,
			seen: &fileStat{size: info.Size(), mtime: info.ModTime().UnixNano(), ino: r.ino}}
		if big {
			v, changed, err = putFile(tx, path, info)
		} else {
			v, changed, err = tx.PutBytes(path, data, info)
		}
		if err != nil {
			return err
		}
		if changed || !indexed {
			return tx.setDoc(v, an, data)
		}
		return nil
	})
	return v, changed, err
}

// docOf reports the version the search index holds for path.
func (tx *Tx) docOf(path string) (int64, bool, error) {
	var vid int64
	err := tx.queryRow(`SELECT d.version_id FROM docs d JOIN objects o ON o.id = d.object_id WHERE o.path = ?`, path).Scan(&vid)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("objfs: %w", err)
	}
	return vid, true, nil
}
