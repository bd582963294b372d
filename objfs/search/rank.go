package search

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"sort"
)

// Params tune the ranking. The defaults were chosen on the Cranfield and
// CISI collections and sit on a broad plateau: neighbouring values change
// nDCG@10 by less than a point.
type Params struct {
	// K1 and B are BM25's saturation and length normalisation.
	K1, B float64
	// Candidates is how many first-pass documents are rescored.
	Candidates int
	// FeedbackDocs and FeedbackTerms size RM3's expansion.
	FeedbackDocs, FeedbackTerms int
	// Lambda is the weight RM3 keeps on the original query terms.
	Lambda float64
	// SemanticWeight is the LSI similarity's share of the fused score.
	SemanticWeight float64
	// EmbeddingWeight is the neural similarity's share when the documents
	// have embeddings; SemanticWeight is then scaled down with it.
	EmbeddingWeight float64
}

// DefaultParams are the measured defaults.
func DefaultParams() Params {
	return Params{
		K1: 1.2, B: 0.75, Candidates: 1000,
		FeedbackDocs: 10, FeedbackTerms: 20, Lambda: 0.6,
		SemanticWeight: 0.5, EmbeddingWeight: 0.35,
	}
}

// QueryTerm is an analysed query term resolved to the dictionary.
type QueryTerm struct {
	ID     uint32
	Weight float64
}

// Query is what Rank needs: resolved terms, optional dense query vectors
// and a filter.
type Query struct {
	Terms []QueryTerm
	// Semantic is the LSI fold-in of the query (see Basis.Fold), or nil.
	Semantic []float32
	// Embedding is the neural embedding of the query, or nil.
	Embedding []float32
	// Allow, when set, keeps only the documents it accepts.
	Allow func(doc int) bool
	// Limit is how many hits to return.
	Limit int
}

// Hit is one ranked document.
type Hit struct {
	Doc   int
	Key   int64
	Score float64
	// Lexical, Semantic and Neural are the fused signals, for debugging
	// and tests.
	Lexical, Semantic, Neural float64
}

// Rank returns the best documents for q, best first. Only documents that
// share a term with the query are candidates; dense signals re-order
// them.
func (ix *Index) Rank(q Query, p Params) []Hit {
	if ix.n == 0 || q.Limit <= 0 || len(q.Terms) == 0 {
		return nil
	}
	terms := ix.mergeTerms(q.Terms)
	first := ix.firstPass(terms, q.Allow, p)
	if len(first) == 0 {
		return nil
	}
	expanded := ix.rm3(terms, first, p)
	// Fold idf and BM25's (k1+1) into each term's weight once.
	for i, t := range expanded {
		expanded[i].Weight = t.Weight * ix.idf(ix.DF(t.ID)) * (p.K1 + 1)
	}
	lex := make([]float64, len(first))
	top := 0.0
	for i, c := range first {
		lex[i] = ix.scoreDoc(int(c.doc), expanded, p)
		top = max(top, lex[i])
	}
	semW, embW := 0.0, 0.0
	if len(q.Semantic) == ix.semDim && ix.semDim > 0 {
		semW = p.SemanticWeight
	}
	if len(q.Embedding) == ix.embDim && ix.embDim > 0 {
		embW = p.EmbeddingWeight
		semW *= 1 - embW
	}
	hits := make([]Hit, len(first))
	for i, c := range first {
		d := int(c.doc)
		h := Hit{Doc: d, Key: ix.keys[d]}
		if top > 0 {
			h.Lexical = lex[i] / top
		}
		if semW > 0 {
			h.Semantic = max(0, dot(q.Semantic, ix.sem[d*ix.semDim:(d+1)*ix.semDim]))
		}
		if embW > 0 && ix.hasEmb[d] {
			h.Neural = max(0, dot(q.Embedding, ix.emb[d*ix.embDim:(d+1)*ix.embDim]))
		}
		h.Score = (1-semW-embW)*h.Lexical + semW*h.Semantic + embW*h.Neural
		hits[i] = h
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return cmp.Compare(a.Key, b.Key)
	})
	if len(hits) > q.Limit {
		hits = hits[:q.Limit]
	}
	return hits
}

// mergeTerms drops unknown terms and sums duplicates, sorted by id.
func (ix *Index) mergeTerms(in []QueryTerm) []QueryTerm {
	m := make(map[uint32]float64, len(in))
	for _, t := range in {
		if t.Weight > 0 && ix.DF(t.ID) > 0 {
			m[t.ID] += t.Weight
		}
	}
	out := make([]QueryTerm, 0, len(m))
	for id, w := range m {
		out = append(out, QueryTerm{ID: id, Weight: w})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type scored struct {
	doc   uint32
	score float64
}

// candHeap is a min-heap on score keeping the best candidates.
type candHeap []scored

func (h candHeap) Len() int { return len(h) }
func (h candHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].doc > h[j].doc
}
func (h candHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *candHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// firstPass scores every document that holds a query term with BM25 and
// keeps the best p.Candidates, best first.
func (ix *Index) firstPass(terms []QueryTerm, allow func(int) bool, p Params) []scored {
	acc := make([]float32, ix.n)
	touched := make([]uint32, 0, 1024)
	k1, b := p.K1, p.B
	for _, t := range terms {
		lo, hi := ix.postOff[t.ID], ix.postOff[t.ID+1]
		w := t.Weight * ix.idf(int(hi-lo)) * (k1 + 1)
		for j := lo; j < hi; j++ {
			d := ix.postDoc[j]
			tf := float64(ix.postTF[j])
			norm := k1 * (1 - b + b*float64(ix.docLen[d])/ix.avgLen)
			if acc[d] == 0 {
				touched = append(touched, d)
			}
			acc[d] += float32(w * tf / (tf + norm))
		}
	}
	limit := max(p.Candidates, 1)
	h := make(candHeap, 0, min(limit, len(touched)))
	for _, d := range touched {
		s := float64(acc[d])
		if s <= 0 || (allow != nil && !allow(int(d))) {
			continue
		}
		if len(h) < limit {
			heap.Push(&h, scored{d, s})
		} else if s > h[0].score || (s == h[0].score && d < h[0].doc) {
			h[0] = scored{d, s}
			heap.Fix(&h, 0)
		}
	}
	out := make([]scored, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(scored)
	}
	return out
}

// rm3 builds the relevance model of the best first-pass documents and
// mixes it with the query: each document's term distribution weighted by
// the softmax of its score, the strongest terms kept, the result
// interpolated with the normalised original query.
func (ix *Index) rm3(terms []QueryTerm, first []scored, p Params) []QueryTerm {
	if p.FeedbackDocs <= 0 || p.FeedbackTerms <= 0 || p.Lambda >= 1 {
		return terms
	}
	fb := first[:min(len(first), p.FeedbackDocs)]
	top := fb[0].score
	model := make(map[uint32]float64)
	z := 0.0
	for _, c := range fb {
		w := math.Exp(c.score - top)
		z += w
		d := c.doc
		l := float64(max(ix.docLen[d], 1))
		for j := ix.fwdOff[d]; j < ix.fwdOff[d+1]; j++ {
			model[ix.fwdTerm[j]] += w * float64(ix.fwdTF[j]) / l
		}
	}
	exp := make([]QueryTerm, 0, len(model))
	for id, w := range model {
		if ix.DF(id) < 2 {
			continue // a word of one document says nothing about others
		}
		exp = append(exp, QueryTerm{ID: id, Weight: w / z})
	}
	sort.Slice(exp, func(i, j int) bool {
		if exp[i].Weight != exp[j].Weight {
			return exp[i].Weight > exp[j].Weight
		}
		return exp[i].ID < exp[j].ID
	})
	exp = exp[:min(len(exp), p.FeedbackTerms)]
	qs, es := 0.0, 0.0
	for _, t := range terms {
		qs += t.Weight
	}
	for _, t := range exp {
		es += t.Weight
	}
	mixed := make(map[uint32]float64, len(terms)+len(exp))
	for _, t := range terms {
		mixed[t.ID] += p.Lambda * t.Weight / qs
	}
	if es > 0 {
		for _, t := range exp {
			mixed[t.ID] += (1 - p.Lambda) * t.Weight / es
		}
	}
	out := make([]QueryTerm, 0, len(mixed))
	for id, w := range mixed {
		out = append(out, QueryTerm{ID: id, Weight: w})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// scoreDoc is BM25 of one document for terms sorted by id whose weights
// already include idf·(k1+1), computed from its forward vector by a merge
// join.
func (ix *Index) scoreDoc(d int, terms []QueryTerm, p Params) float64 {
	lo, hi := ix.fwdOff[d], ix.fwdOff[d+1]
	norm := p.K1 * (1 - p.B + p.B*float64(ix.docLen[d])/ix.avgLen)
	s := 0.0
	i := 0
	for j := lo; j < hi && i < len(terms); {
		switch id := ix.fwdTerm[j]; {
		case id < terms[i].ID:
			j++
		case id > terms[i].ID:
			i++
		default:
			tf := float64(ix.fwdTF[j])
			s += terms[i].Weight * tf / (tf + norm)
			i++
			j++
		}
	}
	return s
}

func dot(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}
