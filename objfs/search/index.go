package search

import (
	"math"
)

// Doc is one document as the ranker needs it.
type Doc struct {
	// Key is the caller's identifier (the store's object id).
	Key int64
	// Len is the number of index terms, for BM25's length normalisation.
	Len int
	// Terms is the forward vector, sorted by term id.
	Terms []TermFreq
	// Semantic is the LSI vector (unit length), or nil when the document
	// has not been projected yet.
	Semantic []float32
	// Embedding is the neural embedding (unit length), or nil.
	Embedding []float32
	// Meta holds what filters look at.
	Meta Meta
}

// Meta is what query filters look at.
type Meta struct {
	Path    string
	Kind    string
	ModTime int64 // Unix seconds
	Tags    []string
}

// Index is an immutable snapshot of the searchable documents: forward
// vectors, the inverted index built from them, and dense vectors.
type Index struct {
	n       int
	keys    []int64
	meta    []Meta
	avgLen  float64
	docLen  []uint32
	fwdOff  []uint32 // doc i's terms are fwdTerm[fwdOff[i]:fwdOff[i+1]]
	fwdTerm []uint32
	fwdTF   []uint32
	// Postings of term t are postDoc[postOff[t]:postOff[t+1]]; term ids
	// are the store's, so the arrays are as long as the largest id.
	postOff []uint32
	postDoc []uint32
	postTF  []uint32
	semDim  int
	sem     []float32 // n*semDim; a zero row means "not projected"
	embDim  int
	emb     []float32
	hasEmb  []bool
}

// Build makes an index from documents. Documents with a semantic or
// embedding vector of the wrong length are kept without it.
func Build(docs []Doc, semDim, embDim int) *Index {
	ix := &Index{n: len(docs), semDim: semDim, embDim: embDim}
	ix.keys = make([]int64, len(docs))
	ix.meta = make([]Meta, len(docs))
	ix.docLen = make([]uint32, len(docs))
	ix.fwdOff = make([]uint32, len(docs)+1)
	var total, nnz int
	var maxID uint32
	for i, d := range docs {
		nnz += len(d.Terms)
		for _, t := range d.Terms {
			maxID = max(maxID, t.ID)
		}
		ix.keys[i] = d.Key
		ix.meta[i] = d.Meta
		ix.docLen[i] = uint32(max(d.Len, 0))
		total += max(d.Len, 0)
	}
	if len(docs) > 0 {
		ix.avgLen = float64(total) / float64(len(docs))
	}
	if ix.avgLen == 0 {
		ix.avgLen = 1
	}
	ix.fwdTerm = make([]uint32, 0, nnz)
	ix.fwdTF = make([]uint32, 0, nnz)
	counts := make([]uint32, int(maxID)+2)
	for i, d := range docs {
		for _, t := range d.Terms {
			ix.fwdTerm = append(ix.fwdTerm, t.ID)
			ix.fwdTF = append(ix.fwdTF, t.TF)
			counts[t.ID+1]++
		}
		ix.fwdOff[i+1] = uint32(len(ix.fwdTerm))
	}
	// Counting sort by term: postings come out ordered by document.
	for t := 1; t < len(counts); t++ {
		counts[t] += counts[t-1]
	}
	ix.postOff = append([]uint32(nil), counts...)
	ix.postDoc = make([]uint32, nnz)
	ix.postTF = make([]uint32, nnz)
	next := counts[:len(counts)-1]
	for i := range docs {
		for j := ix.fwdOff[i]; j < ix.fwdOff[i+1]; j++ {
			t := ix.fwdTerm[j]
			p := next[t]
			ix.postDoc[p] = uint32(i)
			ix.postTF[p] = ix.fwdTF[j]
			next[t]++
		}
	}
	if semDim > 0 {
		ix.sem = make([]float32, len(docs)*semDim)
		for i, d := range docs {
			if len(d.Semantic) == semDim {
				copy(ix.sem[i*semDim:], d.Semantic)
			}
		}
	}
	if embDim > 0 {
		ix.emb = make([]float32, len(docs)*embDim)
		ix.hasEmb = make([]bool, len(docs))
		for i, d := range docs {
			if len(d.Embedding) == embDim {
				copy(ix.emb[i*embDim:], d.Embedding)
				ix.hasEmb[i] = true
			}
		}
	}
	return ix
}

// Len is the number of documents.
func (ix *Index) Len() int { return ix.n }

// Key returns document i's key.
func (ix *Index) Key(i int) int64 { return ix.keys[i] }

// Meta returns document i's filter fields.
func (ix *Index) Meta(i int) Meta { return ix.meta[i] }

// DF is the number of documents that contain term id.
func (ix *Index) DF(id uint32) int {
	if int(id)+1 >= len(ix.postOff) {
		return 0
	}
	return int(ix.postOff[id+1] - ix.postOff[id])
}

// SemanticDim is the LSI dimension (0 when there is no LSI model).
func (ix *Index) SemanticDim() int { return ix.semDim }

// EmbeddingDim is the neural embedding dimension (0 when none).
func (ix *Index) EmbeddingDim() int { return ix.embDim }

// idf is the BM25 inverse document frequency in the form that stays
// positive for terms in most documents (as Lucene does): a small personal
// corpus has many such terms, and the classic form would zero them.
func (ix *Index) idf(df int) float64 {
	if df == 0 {
		return 0
	}
	return math.Log(1 + (float64(ix.n)-float64(df)+0.5)/(float64(df)+0.5))
}
