// Package blobstore keeps whole-file checkpoints by content (BLAKE3), so an
// undo can put back exactly the bytes an action replaced. Writes are atomic
// and synced; identical content is stored once.
package blobstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/zeebo/blake3"
)

// Store is a folder of blobs named by their hash.
type Store struct{ dir string }

// New returns a store in dir.
func New(dir string) *Store { return &Store{dir: dir} }

func (s *Store) path(hash string) (string, error) {
	if len(hash) != 64 {
		return "", fmt.Errorf("blobstore: bad hash %q", hash)
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return "", fmt.Errorf("blobstore: bad hash %q", hash)
	}
	return filepath.Join(s.dir, hash[:2], hash[2:]), nil
}

// PutFile copies a file into the store and returns its hash.
func (s *Store) PutFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return s.Put(f)
}

// Put stores r's content and returns its hash.
func (s *Store) Put(r io.Reader) (string, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return "", fmt.Errorf("blobstore: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".put-*")
	if err != nil {
		return "", fmt.Errorf("blobstore: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := blake3.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return "", fmt.Errorf("blobstore: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("blobstore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("blobstore: %w", err)
	}
	hash := hex.EncodeToString(h.Sum(nil))
	dst, _ := s.path(hash)
	if _, err := os.Stat(dst); err == nil {
		return hash, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", fmt.Errorf("blobstore: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("blobstore: %w", err)
	}
	return hash, nil
}

// Open returns a blob's content after checking it still hashes to its
// name, so a damaged checkpoint is reported, never restored.
func (s *Store) Open(hash string) (io.ReadCloser, error) {
	p, err := s.path(hash)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blobstore: checkpoint %s is missing", hash[:12])
	}
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	sum := blake3.Sum256(data)
	if hex.EncodeToString(sum[:]) != hash {
		return nil, fmt.Errorf("blobstore: checkpoint %s is corrupt", hash[:12])
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// WriteTo restores a blob to path atomically with mode.
func (s *Store) WriteTo(hash, path string, mode fs.FileMode) error {
	r, err := s.Open(hash)
	if err != nil {
		return err
	}
	defer r.Close()
	return AtomicWrite(path, r, mode)
}

// AtomicWrite replaces path with r's content: a temporary file in the same
// folder, synced, then renamed over the original.
func AtomicWrite(path string, r io.Reader, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".noema-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
