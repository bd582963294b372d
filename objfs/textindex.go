package objfs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/noema-project/noema/objfs/extract"
	"github.com/noema-project/noema/objfs/search"
)

// analysis is what indexing learns from one file's content.
type analysis struct {
	kind string
	// text is the extracted text; raw says it is the content itself.
	text   string
	raw    bool
	counts map[string]int
	// known holds the terms already in the dictionary when the file was
	// analysed, resolved by the worker; counts keeps the rest.
	known    []search.TermFreq
	length   int
	autoTags []string
	emb      []float32
	// problem says why no text was extracted ("" when it was, or when
	// the content is simply not a document).
	problem string
	indexed bool
}

// maxExtractInput is the largest file whose text is extracted; bigger
// files are versioned but not searchable.
const maxExtractInput = 64 << 20

// analyze extracts and analyses content of the given size (data is nil
// for files too big to read whole); it runs in indexing workers.
func analyze(a *search.Analyzer, vocab *Vocabulary, name string, data []byte, size int64) analysis {
	if size > maxExtractInput {
		return analysis{problem: fmt.Sprintf("larger than %d MiB: versioned, but its text is not indexed", maxExtractInput>>20)}
	}
	res, err := extract.Extract(name, data, extract.Limits{})
	if errors.Is(err, extract.ErrNotText) {
		return analysis{}
	}
	if err != nil {
		return analysis{kind: res.Kind, problem: "no text extracted: " + err.Error()}
	}
	terms := a.Terms(res.Text)
	an := analysis{kind: res.Kind, text: res.Text, raw: res.Raw, length: len(terms), counts: make(map[string]int), indexed: true}
	for _, t := range terms {
		an.counts[t]++
	}
	an.autoTags = vocab.Match(terms)
	return an
}

// basisCache is the LSI model as last loaded, with the generation it had.
type basisCache struct {
	gen   int64
	basis *search.Basis
}

// loadBasis returns the LSI model current in q's view of the database, or
// nil when there is none.
func (s *Store) loadBasis(ctx context.Context, q querier) (*search.Basis, error) {
	gen, err := getMetaInt(ctx, q, metaLSIGen)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.basis != nil && s.basis.gen == gen {
		b := s.basis.basis
		s.mu.Unlock()
		return b, nil
	}
	s.mu.Unlock()
	k, err := getMetaInt(ctx, q, metaLSIK)
	if err != nil {
		return nil, err
	}
	var b *search.Basis
	if k > 0 {
		b = &search.Basis{K: int(k), Terms: make(map[uint32]search.BasisTerm)}
		rows, err := q.QueryContext(ctx, `SELECT term_id, idf, vec FROM lsi_terms`)
		if err != nil {
			return nil, fmt.Errorf("objfs: load LSI model: %w", err)
		}
		for rows.Next() {
			var id int64
			var idf float64
			var raw []byte
			if err := rows.Scan(&id, &idf, &raw); err != nil {
				rows.Close()
				return nil, fmt.Errorf("objfs: load LSI model: %w", err)
			}
			vec, err := search.DecodeVector(raw, int(k))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("objfs: LSI model is damaged (run noema fs reindex): %w", err)
			}
			b.Terms[uint32(id)] = search.BasisTerm{IDF: float32(idf), Vec: vec}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("objfs: load LSI model: %w", err)
		}
	}
	s.mu.Lock()
	s.basis = &basisCache{gen: gen, basis: b}
	s.mu.Unlock()
	return b, nil
}

// resolveKnown moves the terms the dictionary cache knows from counts to
// known; indexing workers call it so the writer has less to do.
func (s *Store) resolveKnown(an *analysis) {
	s.termsMu.RLock()
	defer s.termsMu.RUnlock()
	for t, n := range an.counts {
		if id, ok := s.terms[t]; ok {
			an.known = append(an.known, search.TermFreq{ID: id, TF: uint32(n)})
			delete(an.counts, t)
		}
	}
}

// termIDs resolves terms to dictionary ids, adding new terms. New ids
// join the store's cache only when the transaction commits.
func (tx *Tx) termIDs(known []search.TermFreq, counts map[string]int) ([]search.TermFreq, error) {
	if tx.newTerms == nil {
		tx.newTerms = make(map[string]uint32)
		tx.afterCommit(func() {
			tx.s.termsMu.Lock()
			for t, id := range tx.newTerms {
				tx.s.terms[t] = id
			}
			tx.s.termsMu.Unlock()
		})
	}
	out := make([]search.TermFreq, 0, len(known)+len(counts))
	out = append(out, known...)
	var missing []string
	tx.s.termsMu.RLock()
	for t, n := range counts {
		if id, ok := tx.s.terms[t]; ok {
			out = append(out, search.TermFreq{ID: id, TF: uint32(n)})
		} else if id, ok := tx.newTerms[t]; ok {
			out = append(out, search.TermFreq{ID: id, TF: uint32(n)})
		} else {
			missing = append(missing, t)
		}
	}
	tx.s.termsMu.RUnlock()
	tx.s.termsMu.RLock()
	complete := tx.s.termsComplete
	tx.s.termsMu.RUnlock()
	for _, t := range missing {
		id, err := tx.addTerm(t, complete)
		if err != nil {
			return nil, err
		}
		if id <= 0 || id > 1<<32-1 {
			return nil, fmt.Errorf("objfs: term id %d out of range", id)
		}
		tx.newTerms[t] = uint32(id)
		out = append(out, search.TermFreq{ID: uint32(id), TF: uint32(counts[t])})
	}
	search.SortTerms(out)
	return out, nil
}

// addTerm returns a term's id, adding it to the dictionary if needed.
// When the cache held the whole dictionary (complete), a miss is almost
// always a new term, so it is inserted without looking first; another
// process may have added it meanwhile, which the insert notices.
func (tx *Tx) addTerm(t string, complete bool) (int64, error) {
	if complete {
		res, err := tx.exec(`INSERT OR IGNORE INTO terms(term) VALUES(?)`, t)
		if err != nil {
			return 0, fmt.Errorf("objfs: add term: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return res.LastInsertId()
		}
	}
	var id int64
	err := tx.queryRow(`SELECT id FROM terms WHERE term = ?`, t).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		res, ierr := tx.exec(`INSERT INTO terms(term) VALUES(?)`, t)
		if ierr != nil {
			return 0, fmt.Errorf("objfs: add term: %w", ierr)
		}
		return res.LastInsertId()
	}
	if err != nil {
		return 0, fmt.Errorf("objfs: look up term: %w", err)
	}
	return id, nil
}

// loadDictionary fills the term cache with the whole dictionary, so a
// large indexing run resolves terms without asking the database.
func (s *Store) loadDictionary(ctx context.Context) error {
	s.termsMu.RLock()
	done := s.termsComplete
	s.termsMu.RUnlock()
	if done {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, term FROM terms`)
	if err != nil {
		return fmt.Errorf("objfs: read dictionary: %w", err)
	}
	defer rows.Close()
	m := make(map[string]uint32)
	for rows.Next() {
		var id int64
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			return fmt.Errorf("objfs: read dictionary: %w", err)
		}
		m[t] = uint32(id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("objfs: read dictionary: %w", err)
	}
	s.termsMu.Lock()
	for t, id := range m {
		s.terms[t] = id
	}
	s.termsComplete = true
	s.termsMu.Unlock()
	return nil
}

// setDoc makes an analysed version the searchable text of its object.
func (tx *Tx) setDoc(v Version, an analysis, content []byte) error {
	if !an.indexed {
		if _, err := tx.exec(`DELETE FROM docs WHERE object_id = ?`, v.objectID); err != nil {
			return fmt.Errorf("objfs: unindex %s: %w", v.Path, err)
		}
		tx.docsChanged = true
		return tx.setAutoTags(v.objectID, nil)
	}
	tfs, err := tx.termIDs(an.known, an.counts)
	if err != nil {
		return err
	}
	var lsi []byte
	if !tx.basisLoaded {
		if tx.basis, err = tx.s.loadBasis(tx.ctx, tx); err != nil {
			return err
		}
		tx.basisLoaded = true
	}
	if basis := tx.basis; basis != nil {
		if vec := basis.Project(tfs); vec != nil {
			lsi = search.EncodeVector(vec)
		}
	}
	var emb []byte
	if an.emb != nil {
		emb = search.EncodeVector(an.emb)
	}
	var text []byte
	if !an.raw {
		text = []byte(an.text)
	}
	_, err = tx.exec(`INSERT INTO docs(object_id, version_id, kind, len, terms, text, lsi, emb, mtime) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(object_id) DO UPDATE SET version_id = excluded.version_id, kind = excluded.kind, len = excluded.len,
		terms = excluded.terms, text = excluded.text, lsi = excluded.lsi, emb = excluded.emb, mtime = excluded.mtime`,
		v.objectID, v.rowid, an.kind, an.length, search.EncodeTerms(tfs), text, lsi, emb, v.ModTime.Unix())
	if err != nil {
		return fmt.Errorf("objfs: index %s: %w", v.Path, err)
	}
	tx.docsChanged = true
	if v.fresh && len(an.autoTags) == 0 {
		return nil
	}
	return tx.setAutoTags(v.objectID, an.autoTags)
}

// setAutoTags replaces an object's automatic tags; a tag the user set
// stays the user's.
func (tx *Tx) setAutoTags(objectID int64, tags []string) error {
	if _, err := tx.exec(`DELETE FROM tags WHERE object_id = ? AND source = 'auto'`, objectID); err != nil {
		return fmt.Errorf("objfs: clear tags: %w", err)
	}
	for _, t := range tags {
		if _, err := tx.exec(`INSERT OR IGNORE INTO tags(object_id, tag, source) VALUES(?, ?, 'auto')`, objectID, t); err != nil {
			return fmt.Errorf("objfs: add tag: %w", err)
		}
	}
	return nil
}

// analyzerPool hands out analyzers (each keeps a stem cache and is not
// safe for concurrent use).
type analyzerPool struct{ p sync.Pool }

func (ap *analyzerPool) get() *search.Analyzer {
	if a, ok := ap.p.Get().(*search.Analyzer); ok {
		return a
	}
	return search.NewAnalyzer()
}

func (ap *analyzerPool) put(a *search.Analyzer) { ap.p.Put(a) }

// maxCachedChunks bounds the chunk cache; stores with more chunks (big
// files) look chunks up in the database instead.
const maxCachedChunks = 2 << 20

// loadChunkIndex caches every chunk's hash, so a large indexing run
// deduplicates without a query per chunk.
func (s *Store) loadChunkIndex(ctx context.Context) error {
	s.chunkMu.RLock()
	done := s.chunkIDs != nil
	s.chunkMu.RUnlock()
	if done {
		return nil
	}
	n, err := countRows(ctx, s.db, `SELECT COUNT(*) FROM chunks`)
	if err != nil || n > maxCachedChunks {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, hash FROM chunks`)
	if err != nil {
		return fmt.Errorf("objfs: read chunk index: %w", err)
	}
	defer rows.Close()
	m := make(map[[32]byte]int64, n)
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return fmt.Errorf("objfs: read chunk index: %w", err)
		}
		if len(h) == 32 {
			m[[32]byte(h)] = id
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("objfs: read chunk index: %w", err)
	}
	s.chunkMu.Lock()
	s.chunkIDs = m
	s.chunkMu.Unlock()
	return nil
}

// cachedChunk looks a chunk up in the cache; complete reports whether the
// cache holds every chunk (so a miss means a new chunk).
func (s *Store) cachedChunk(sum [32]byte) (id int64, known, complete bool) {
	s.chunkMu.RLock()
	defer s.chunkMu.RUnlock()
	if s.chunkIDs == nil {
		return 0, false, false
	}
	id, known = s.chunkIDs[sum]
	return id, known, true
}

// rememberChunks adds committed chunks to the cache.
func (s *Store) rememberChunks(m map[[32]byte]int64) {
	s.chunkMu.Lock()
	defer s.chunkMu.Unlock()
	if s.chunkIDs == nil {
		return
	}
	if len(s.chunkIDs)+len(m) > maxCachedChunks {
		s.chunkIDs = nil
		return
	}
	for h, id := range m {
		s.chunkIDs[h] = id
	}
}
