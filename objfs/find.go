package objfs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/noema-project/noema/objfs/search"
)

// Query is a search.
type Query struct {
	// Text is what to look for; it may hold inline filters (type:pdf,
	// tag:work, in:~/notes, after:2024-01-01, before:30d).
	Text string
	// Limit is how many hits (default 10).
	Limit int
	// Filters add to the inline ones.
	Filters search.Filters
}

// Hit is one search result.
type Hit struct {
	Path    string    `json:"path"`
	Score   float64   `json:"score"`
	Snippet string    `json:"snippet"`
	Version string    `json:"version"`
	Kind    string    `json:"kind"`
	ModTime time.Time `json:"modified_at"`
	Tags    []string  `json:"tags,omitempty"`
}

// snapshot is the search index as of a docs generation.
type snapshot struct {
	gen      int64
	ix       *search.Index
	docs     []snapDoc
	embModel string
}

type snapDoc struct {
	objectID int64
	version  int64
	vid      string
	hasText  bool
}

// ErrBadQuery wraps a query that cannot be read (an unknown type:, a
// malformed date).
var ErrBadQuery = errors.New("objfs: bad query")

// maxResults bounds a search's hits.
const maxResults = 1000

// Search ranks the current versions of the indexed files for q, best
// first. It needs no model; with an Embedder whose model indexed the
// documents, neural similarity joins the ranking.
func (s *Store) Search(ctx context.Context, q Query) ([]Hit, error) {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	q.Limit = min(q.Limit, maxResults)
	text, inline, err := search.ParseQuery(q.Text, s.opts.Home, s.now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadQuery, err)
	}
	f := mergeFilters(q.Filters, inline)
	a := s.analyzers.get()
	counts, _ := a.Counts(text)
	s.analyzers.put(a)
	if len(counts) == 0 {
		return []Hit{}, nil
	}
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	terms, byID, err := s.lookupTerms(ctx, counts)
	if err != nil {
		return nil, err
	}
	if len(terms) == 0 {
		return []Hit{}, nil
	}
	rq := search.Query{Terms: terms, Limit: q.Limit}
	if k := snap.ix.SemanticDim(); k > 0 {
		rows, err := s.basisRows(ctx, terms, k)
		if err != nil {
			return nil, err
		}
		rq.Semantic = search.Fold(k, terms, rows)
	}
	if e := s.opts.Embedder; e != nil && snap.ix.EmbeddingDim() > 0 && snap.embModel == e.Model() {
		if vecs, err := e.Embed(ctx, []string{text}); err == nil && len(vecs) == 1 {
			rq.Embedding = vecs[0]
		}
	}
	if !f.IsZero() {
		rq.Allow = func(i int) bool { return f.Match(snap.ix.Meta(i)) }
	}
	ranked := snap.ix.Rank(rq, s.params())
	hits := make([]Hit, 0, len(ranked))
	stems := make(map[string]bool, len(byID))
	for _, t := range byID {
		stems[t] = true
	}
	docs := make([]snapDoc, len(ranked))
	for i, r := range ranked {
		docs[i] = snap.docs[r.Doc]
	}
	snippets := s.snippets(ctx, docs, stems)
	for i, r := range ranked {
		m := snap.ix.Meta(r.Doc)
		hits = append(hits, Hit{Path: m.Path, Score: r.Score, Version: docs[i].vid, Kind: m.Kind,
			ModTime: time.Unix(m.ModTime, 0), Tags: m.Tags, Snippet: snippets[i]})
	}
	return hits, nil
}

func mergeFilters(a, b search.Filters) search.Filters {
	a.Kinds = append(a.Kinds, b.Kinds...)
	a.Tags = append(a.Tags, b.Tags...)
	a.Folders = append(a.Folders, b.Folders...)
	if !b.After.IsZero() {
		a.After = b.After
	}
	if !b.Before.IsZero() {
		a.Before = b.Before
	}
	return a
}

// lookupTerms resolves analysed query terms to dictionary ids; terms the
// corpus never had are dropped.
func (s *Store) lookupTerms(ctx context.Context, counts map[string]int) ([]search.QueryTerm, map[uint32]string, error) {
	words := make([]any, 0, len(counts))
	for t := range counts {
		words = append(words, t)
	}
	out := make([]search.QueryTerm, 0, len(counts))
	byID := make(map[uint32]string, len(counts))
	for lo := 0; lo < len(words); lo += 500 {
		part := words[lo:min(lo+500, len(words))]
		rows, err := s.db.QueryContext(ctx, `SELECT id, term FROM terms WHERE term IN (?`+strings.Repeat(",?", len(part)-1)+`)`, part...)
		if err != nil {
			return nil, nil, fmt.Errorf("objfs: look up query terms: %w", err)
		}
		for rows.Next() {
			var id int64
			var t string
			if err := rows.Scan(&id, &t); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("objfs: look up query terms: %w", err)
			}
			out = append(out, search.QueryTerm{ID: uint32(id), Weight: float64(counts[t])})
			byID[uint32(id)] = t
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return out, byID, nil
}

// basisRows loads the LSI rows of the query's terms.
func (s *Store) basisRows(ctx context.Context, terms []search.QueryTerm, k int) (map[uint32]search.BasisTerm, error) {
	ids := make([]any, len(terms))
	for i, t := range terms {
		ids[i] = int64(t.ID)
	}
	out := make(map[uint32]search.BasisTerm, len(terms))
	rows, err := s.db.QueryContext(ctx, `SELECT term_id, idf, vec FROM lsi_terms WHERE term_id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("objfs: read LSI model: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var idf float64
		var raw []byte
		if err := rows.Scan(&id, &idf, &raw); err != nil {
			return nil, fmt.Errorf("objfs: read LSI model: %w", err)
		}
		vec, err := search.DecodeVector(raw, k)
		if err != nil {
			continue // a damaged row only loses its term's semantics
		}
		out[uint32(id)] = search.BasisTerm{IDF: float32(idf), Vec: vec}
	}
	return out, rows.Err()
}

// snapshot returns the search index, rebuilding it when the documents
// changed since it was built.
func (s *Store) snapshot(ctx context.Context) (*snapshot, error) {
	rtx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("objfs: read index: %w", err)
	}
	defer rtx.Rollback()
	gen, err := getMetaInt(ctx, rtx, metaDocsGen)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.snap != nil && s.snap.gen == gen {
		snap := s.snap
		s.mu.Unlock()
		return snap, nil
	}
	s.mu.Unlock()
	id, err := s.storeID(ctx, rtx)
	if err != nil {
		return nil, err
	}
	snap := s.readSnapCache(id, gen)
	if snap == nil {
		if snap, err = loadSnapshot(ctx, rtx, gen); err != nil {
			return nil, err
		}
		s.writeSnapCache(id, snap)
	}
	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
	return snap, nil
}

func loadSnapshot(ctx context.Context, q querier, gen int64) (*snapshot, error) {
	k, err := getMetaInt(ctx, q, metaLSIK)
	if err != nil {
		return nil, err
	}
	embModel, err := getMetaString(ctx, q, metaEmbModel)
	if err != nil {
		return nil, err
	}
	tags := make(map[int64][]string)
	trows, err := q.QueryContext(ctx, `SELECT object_id, tag FROM tags ORDER BY tag`)
	if err != nil {
		return nil, fmt.Errorf("objfs: read tags: %w", err)
	}
	for trows.Next() {
		var id int64
		var t string
		if err := trows.Scan(&id, &t); err != nil {
			trows.Close()
			return nil, fmt.Errorf("objfs: read tags: %w", err)
		}
		tags[id] = append(tags[id], t)
	}
	trows.Close()
	rows, err := q.QueryContext(ctx, `SELECT d.object_id, d.version_id, v.vid, o.path, d.kind, d.len, d.terms, d.text IS NOT NULL, d.lsi, d.emb, d.mtime
		FROM docs d JOIN objects o ON o.id = d.object_id JOIN versions v ON v.id = d.version_id ORDER BY d.object_id`)
	if err != nil {
		return nil, fmt.Errorf("objfs: read index: %w", err)
	}
	defer rows.Close()
	snap := &snapshot{gen: gen, embModel: embModel}
	var docs []search.Doc
	embDim := 0
	for rows.Next() {
		var sd snapDoc
		var d search.Doc
		var path, kind string
		var rawTerms, lsi, emb []byte
		if err := rows.Scan(&sd.objectID, &sd.version, &sd.vid, &path, &kind, &d.Len, &rawTerms, &sd.hasText, &lsi, &emb, &d.Meta.ModTime); err != nil {
			return nil, fmt.Errorf("objfs: read index: %w", err)
		}
		tfs, err := search.DecodeTerms(nil, rawTerms)
		if err != nil {
			continue // reindexing repairs it; the rest stays searchable
		}
		d.Key, d.Terms = sd.objectID, tfs
		d.Meta.Path, d.Meta.Kind, d.Meta.Tags = path, kind, tags[sd.objectID]
		if k > 0 && len(lsi) > 0 {
			d.Semantic, _ = search.DecodeVector(lsi, int(k))
		}
		if len(emb) > 0 {
			if v, err := search.DecodeVector(emb, 0); err == nil && (embDim == 0 || len(v) == embDim) {
				embDim = len(v)
				d.Embedding = v
			}
		}
		docs = append(docs, d)
		snap.docs = append(snap.docs, sd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("objfs: read index: %w", err)
	}
	snap.ix = search.Build(docs, int(k), embDim)
	return snap, nil
}

// snippetBytes is how much of a document's start a snippet is looked for
// in.
const snippetBytes = 256 << 10

// snippets finds, for each document, the passage that best shows why it
// matched. Texts are read in two queries whatever the number of hits:
// extracted texts from the index, and the first chunks of versions whose
// content is their text.
func (s *Store) snippets(ctx context.Context, docs []snapDoc, stems map[string]bool) []string {
	out := make([]string, len(docs))
	texts := make(map[int64]string, len(docs))
	var withText, withContent []any
	for _, d := range docs {
		if d.hasText {
			withText = append(withText, d.objectID)
		} else {
			withContent = append(withContent, d.version)
		}
	}
	if len(withText) > 0 {
		rows, err := s.db.QueryContext(ctx, `SELECT object_id, substr(text, 1, ?) FROM docs WHERE object_id IN (?`+strings.Repeat(",?", len(withText)-1)+`)`,
			append([]any{snippetBytes}, withText...)...)
		if err == nil {
			for rows.Next() {
				var id int64
				var raw []byte
				if rows.Scan(&id, &raw) == nil {
					texts[id] = string(raw)
				}
			}
			rows.Close()
		}
	}
	content := make(map[int64][]byte, len(withContent))
	if len(withContent) > 0 {
		rows, err := s.db.QueryContext(ctx, `SELECT vc.version_id, c.pack, c.off, c.len, c.hash FROM version_chunks vc JOIN chunks c ON c.id = vc.chunk_id
			WHERE vc.off < ? AND vc.version_id IN (?`+strings.Repeat(",?", len(withContent)-1)+`) ORDER BY vc.version_id, vc.idx`,
			append([]any{snippetBytes}, withContent...)...)
		if err == nil {
			buf := make([]byte, recordHeader+maxChunk)
			for rows.Next() {
				var v int64
				var ref chunkRef
				var hash []byte
				if rows.Scan(&v, &ref.pack, &ref.off, &ref.length, &hash) != nil {
					continue
				}
				if data, err := s.packs.read(ref, hash, buf); err == nil {
					content[v] = append(content[v], data...)
				}
			}
			rows.Close()
		}
	}
	a := s.analyzers.get()
	defer s.analyzers.put(a)
	for i, d := range docs {
		text, ok := texts[d.objectID]
		if !d.hasText {
			c := content[d.version]
			text, ok = string(c[:min(len(c), snippetBytes)]), true
		}
		if ok {
			out[i] = a.Snippet(text, stems)
		}
	}
	return out
}
