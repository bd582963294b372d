package objfs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/noema-project/noema/internal/sqlitedb"
	"github.com/noema-project/noema/objfs/search"
)

// Options configure a store.
type Options struct {
	// Dir holds the database and the packs (required).
	Dir string
	// Home is the user's home folder, for "~" in search filters.
	Home string
	// Vocabulary is the tag vocabulary file the user edits (see
	// LoadVocabulary); empty or missing means the built-in vocabulary.
	Vocabulary string
	// Exclude lists folders never indexed, such as Noema's own state.
	Exclude []string
	// Embedder, when set, adds neural embeddings to indexing and search.
	Embedder Embedder
	// Now tells the time (default time.Now).
	Now func() time.Time
	// Params tune the ranking (default search.DefaultParams).
	Params *search.Params
}

// Store is an opened object store. It is safe for concurrent use, and
// several processes may open the same folder: writers take turns through
// SQLite's write lock.
type Store struct {
	opts  Options
	db    *sql.DB
	packs *packSet
	// wmu keeps this process's writers in line before they reach
	// SQLite's lock.
	wmu sync.Mutex

	termsMu sync.RWMutex
	terms   map[string]uint32 // dictionary cache; ids never change
	// termsComplete is set once the cache held the whole dictionary.
	termsComplete bool

	// chunkIDs caches chunk hashes for large indexing runs (see
	// loadChunkIndex); nil when not loaded.
	chunkMu  sync.RWMutex
	chunkIDs map[[32]byte]int64

	mu    sync.Mutex
	snap  *snapshot // search index, rebuilt when docs change
	basis *basisCache
	vocab *Vocabulary
	// analyzers are reused across searches and indexing runs.
	analyzers analyzerPool
}

// ErrNotFound is returned for a path or version the store does not know.
var ErrNotFound = errors.New("objfs: not found")

// Open opens (creating) the store in opts.Dir.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("objfs: no folder given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("objfs: %w", err)
	}
	opts.Dir = dir
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Join(dir, "packs"), 0o700); err != nil {
		return nil, fmt.Errorf("objfs: %w", err)
	}
	db, err := sqlitedb.Open(ctx, filepath.Join(dir, "objfs.db"), migrations)
	if err != nil {
		return nil, fmt.Errorf("objfs: %w", err)
	}
	s := &Store{opts: opts, db: db, packs: newPackSet(dir), terms: make(map[string]uint32)}
	return s, nil
}

// Close releases the store.
func (s *Store) Close() error {
	return errors.Join(s.packs.close(), s.db.Close())
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.opts.Dir }

func (s *Store) now() time.Time { return s.opts.Now() }

// params returns the ranking parameters.
func (s *Store) params() search.Params {
	if s.opts.Params != nil {
		return *s.opts.Params
	}
	return search.DefaultParams()
}

// excluded reports whether path lies in a folder that is never indexed.
func (s *Store) excluded(path string) bool {
	for _, dir := range append([]string{s.opts.Dir}, s.opts.Exclude...) {
		if dir == "" {
			continue
		}
		if path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/") {
			return true
		}
	}
	return false
}

// Meta keys.
const (
	metaDocsGen  = "docs_gen"  // bumped whenever docs or tags change
	metaLSIDocs  = "lsi_docs"  // documents the LSI basis was learned from
	metaLSIK     = "lsi_k"     // its dimension
	metaLSIGen   = "lsi_gen"   // bumped when the basis changes
	metaEmbModel = "emb_model" // the model the stored embeddings come from
	metaStoreID  = "store_id"  // random identity, names cache files
)

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func getMetaInt(ctx context.Context, q querier, key string) (int64, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("objfs: read %s: %w", key, err)
	}
	return v.Int64, nil
}

func getMetaString(ctx context.Context, q querier, key string) (string, error) {
	var v sql.NullString
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("objfs: read %s: %w", key, err)
	}
	return v.String, nil
}

func setMeta(ctx context.Context, q querier, key string, v any) error {
	_, err := q.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, v)
	if err != nil {
		return fmt.Errorf("objfs: write %s: %w", key, err)
	}
	return nil
}

func bumpMeta(ctx context.Context, q querier, key string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES(?, 1) ON CONFLICT(key) DO UPDATE SET value = value + 1`, key)
	if err != nil {
		return fmt.Errorf("objfs: bump %s: %w", key, err)
	}
	return nil
}
