package objfs

import (
	"context"
	"fmt"
	"time"
)

// ReindexReport sums up a rebuild of the search index.
type ReindexReport struct {
	Objects   int       `json:"objects"`
	Documents int       `json:"documents"`
	Problems  []Problem `json:"problems"`
	Learned   bool      `json:"lsi_learned"`
	Seconds   float64   `json:"seconds"`
}

// Reindex rebuilds the search index and the automatic tags from the
// stored current versions alone (the files themselves are not read), then
// relearns the LSI model. It needs no model and no daemon; use it after
// changing the tag vocabulary or when the index is damaged.
func (s *Store) Reindex(ctx context.Context, progress func(done, total int)) (ReindexReport, error) {
	start := time.Now()
	rep := ReindexReport{Problems: []Problem{}}
	objs, err := s.Objects(ctx, ListOptions{})
	if err != nil {
		return rep, err
	}
	s.mu.Lock()
	s.vocab = nil // pick up an edited vocabulary
	s.mu.Unlock()
	vocab := s.vocabulary()
	if err := s.Update(ctx, func(tx *Tx) error {
		for _, q := range []string{`DELETE FROM docs`, `DELETE FROM lsi_terms`, `DELETE FROM tags WHERE source = 'auto'`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("objfs: clear index: %w", err)
			}
		}
		if err := setMeta(ctx, tx, metaLSIK, 0); err != nil {
			return err
		}
		tx.docsChanged = true
		return bumpMeta(ctx, tx, metaLSIGen)
	}); err != nil {
		return rep, err
	}
	a := s.analyzers.get()
	defer s.analyzers.put(a)
	const batch = 256
	for lo := 0; lo < len(objs); lo += batch {
		part := objs[lo:min(lo+batch, len(objs))]
		type item struct {
			v    Version
			data []byte
			an   analysis
		}
		var items []item
		for _, o := range part {
			v, err := s.Version(ctx, o.Current)
			if err != nil {
				return rep, err
			}
			var data []byte
			if v.Size <= maxExtractInput {
				if data, err = s.ReadVersion(ctx, v.ID); err != nil {
					rep.Problems = append(rep.Problems, Problem{Path: o.Path, Reason: err.Error()})
					continue
				}
			}
			an := analyze(a, vocab, o.Path, data, v.Size)
			if an.problem != "" {
				rep.Problems = append(rep.Problems, Problem{Path: o.Path, Reason: an.problem})
			}
			items = append(items, item{v, data, an})
		}
		if e := s.opts.Embedder; e != nil {
			rs := make([]result, len(items))
			for i, it := range items {
				rs[i] = result{data: it.data, an: it.an}
			}
			s.embedBatch(ctx, e, rs)
			for i := range items {
				items[i].an.emb = rs[i].an.emb
			}
		}
		if err := s.Update(ctx, func(tx *Tx) error {
			if e := s.opts.Embedder; e != nil {
				if err := tx.useEmbeddingModel(e.Model()); err != nil {
					return err
				}
			}
			for _, it := range items {
				if err := tx.setDoc(it.v, it.an, it.data); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return rep, err
		}
		rep.Objects += len(part)
		if progress != nil {
			progress(rep.Objects, len(objs))
		}
	}
	learned, err := s.RefreshModel(ctx, true)
	if err != nil {
		return rep, err
	}
	rep.Learned = learned
	if n, err := s.countDocs(ctx); err == nil {
		rep.Documents = n
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}
