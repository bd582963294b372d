package objfs

import (
	"context"
	"fmt"

	"github.com/noema-project/noema/objfs/search"
)

// lsiSeed fixes the random projection, so the same corpus gives the same
// model.
const lsiSeed = 0x4e6f656d61

// RefreshModel relearns the latent semantic model from the indexed
// documents when the corpus has grown or shrunk by half since it was
// learned (or when force is set), and re-projects every document. It
// reports whether it learned. Documents indexed in between are projected
// with the model they find, so the model need not be fresh to be useful.
func (s *Store) RefreshModel(ctx context.Context, force bool) (bool, error) {
	learned := false
	err := s.Update(ctx, func(tx *Tx) error {
		n, err := countRows(ctx, tx, `SELECT COUNT(*) FROM docs`)
		if err != nil {
			return err
		}
		k, err := getMetaInt(ctx, tx, metaLSIK)
		if err != nil {
			return err
		}
		basisDocs, err := getMetaInt(ctx, tx, metaLSIDocs)
		if err != nil {
			return err
		}
		stale := force || k == 0 || 2*n > 3*basisDocs || 3*n < 2*basisDocs
		if n < search.MinBasisDocs {
			if k == 0 {
				return nil
			}
			return tx.dropModel()
		}
		if !stale {
			return nil
		}
		ids, fwd, err := tx.forwardVectors()
		if err != nil {
			return err
		}
		df := make(map[uint32]int)
		for _, d := range fwd {
			for _, t := range d {
				df[t.ID]++
			}
		}
		basis, err := search.LearnBasis(ctx, fwd, func(id uint32) int { return df[id] }, len(fwd), search.BasisOptions{Seed: lsiSeed})
		if err != nil {
			return err
		}
		if basis == nil {
			return tx.dropModel()
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM lsi_terms`); err != nil {
			return fmt.Errorf("objfs: replace LSI model: %w", err)
		}
		for id, bt := range basis.Terms {
			if _, err := tx.exec(`INSERT INTO lsi_terms(term_id, idf, vec) VALUES(?, ?, ?)`, id, float64(bt.IDF), search.EncodeVector(bt.Vec)); err != nil {
				return fmt.Errorf("objfs: store LSI model: %w", err)
			}
		}
		for i, d := range fwd {
			var vec []byte
			if v := basis.Project(d); v != nil {
				vec = search.EncodeVector(v)
			}
			if _, err := tx.exec(`UPDATE docs SET lsi = ? WHERE object_id = ?`, vec, ids[i]); err != nil {
				return fmt.Errorf("objfs: project documents: %w", err)
			}
		}
		for key, v := range map[string]int64{metaLSIK: int64(basis.K), metaLSIDocs: int64(len(fwd))} {
			if err := setMeta(ctx, tx, key, v); err != nil {
				return err
			}
		}
		if err := bumpMeta(ctx, tx, metaLSIGen); err != nil {
			return err
		}
		tx.docsChanged = true
		learned = true
		return nil
	})
	return learned, err
}

// dropModel removes the LSI model (the corpus became too small for one).
func (tx *Tx) dropModel() error {
	for _, q := range []string{`DELETE FROM lsi_terms`, `UPDATE docs SET lsi = NULL`} {
		if _, err := tx.ExecContext(tx.ctx, q); err != nil {
			return fmt.Errorf("objfs: drop LSI model: %w", err)
		}
	}
	if err := setMeta(tx.ctx, tx, metaLSIK, 0); err != nil {
		return err
	}
	tx.docsChanged = true
	return bumpMeta(tx.ctx, tx, metaLSIGen)
}

// forwardVectors reads every document's forward vector.
func (tx *Tx) forwardVectors() ([]int64, [][]search.TermFreq, error) {
	rows, err := tx.QueryContext(tx.ctx, `SELECT object_id, terms FROM docs ORDER BY object_id`)
	if err != nil {
		return nil, nil, fmt.Errorf("objfs: read documents: %w", err)
	}
	defer rows.Close()
	var ids []int64
	var fwd [][]search.TermFreq
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, nil, fmt.Errorf("objfs: read documents: %w", err)
		}
		tfs, err := search.DecodeTerms(nil, raw)
		if err != nil {
			return nil, nil, fmt.Errorf("objfs: document %d: %w (run noema fs reindex)", id, err)
		}
		ids = append(ids, id)
		fwd = append(fwd, tfs)
	}
	return ids, fwd, rows.Err()
}

// useEmbeddingModel records which model document embeddings come from; a
// different model's vectors are dropped, since they cannot be compared.
func (tx *Tx) useEmbeddingModel(model string) error {
	cur, err := getMetaString(tx.ctx, tx, metaEmbModel)
	if err != nil || cur == model {
		return err
	}
	if _, err := tx.ExecContext(tx.ctx, `UPDATE docs SET emb = NULL`); err != nil {
		return fmt.Errorf("objfs: drop old embeddings: %w", err)
	}
	tx.docsChanged = true
	return setMeta(tx.ctx, tx, metaEmbModel, model)
}

func countRows(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("objfs: count: %w", err)
	}
	return n, nil
}
