package search

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
)

// Basis is a latent semantic model learned from the user's documents: for
// each term of its vocabulary, the term's row of U_k (the left singular
// vectors of the weighted term-document matrix) and the idf it was
// weighted with. Documents and queries are folded in by summing the rows
// of their terms, so a document added later is projected without
// recomputing the model.
type Basis struct {
	K     int
	Terms map[uint32]BasisTerm
}

// BasisTerm is one term's row of the model.
type BasisTerm struct {
	IDF float32
	Vec []float32
}

// BasisOptions size the model.
type BasisOptions struct {
	// K is the number of latent dimensions (default 64: on Cranfield and
	// CISI 64 did as well as 100 to 300, at a fraction of the cost).
	K int
	// Sample caps how many documents the model is learned from (default
	// 4,000, enough for the co-occurrence structure of a personal corpus
	// and a bounded cost); the rest are folded in.
	Sample int
	// Power is the number of power iterations of the randomized SVD
	// (default 3).
	Power int
	// Oversample is how many dimensions beyond K the randomized SVD
	// carries (default 64). With the defaults the learned subspace no
	// longer depends on the random start: nDCG@10 on Cranfield and CISI
	// varies by ±0.002 across seeds, against ±0.005 with 2 iterations and
	// 16 extra dimensions.
	Oversample int
	// MaxTerms caps the model's vocabulary to the terms in most sampled
	// documents (default 12,000); rarer terms carry little latent
	// structure and would dominate the cost.
	MaxTerms int
	// Seed makes the model reproducible.
	Seed uint64
}

// MinBasisDocs is the smallest corpus worth a latent model: with fewer
// documents the co-occurrence statistics are noise.
const MinBasisDocs = 50

// LearnBasis computes a rank-K model from forward vectors with a
// randomized SVD (Halko, Martinsson and Tropp, 2011): Y = A·Ω, a few power
// iterations, Q = orth(Y), then the small matrix B = Qᵀ·A is decomposed
// through the eigenvectors of B·Bᵀ. docs are the forward vectors; df
// gives each term's document frequency over all n documents. It returns
// nil when there are too few documents.
func LearnBasis(ctx context.Context, docs [][]TermFreq, df func(uint32) int, n int, opts BasisOptions) (*Basis, error) {
	if opts.K <= 0 {
		opts.K = 64
	}
	if opts.Sample <= 0 {
		opts.Sample = 4000
	}
	if opts.Power < 0 {
		opts.Power = 0
	} else if opts.Power == 0 {
		opts.Power = 3
	}
	if opts.MaxTerms <= 0 {
		opts.MaxTerms = 12000
	}
	if opts.Oversample <= 0 {
		opts.Oversample = 64
	}
	if len(docs) < MinBasisDocs || n < MinBasisDocs {
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6f626a6673))
	if len(docs) > opts.Sample {
		perm := rng.Perm(len(docs))[:opts.Sample]
		sort.Ints(perm)
		s := make([][]TermFreq, len(perm))
		for i, j := range perm {
			s[i] = docs[j]
		}
		docs = s
	}
	// Vocabulary: terms in at least two sampled documents.
	seen := make(map[uint32]int)
	for _, d := range docs {
		for _, t := range d {
			seen[t.ID]++
		}
	}
	rows := make(map[uint32]int)
	var ids []uint32
	for id, c := range seen {
		if c >= 2 && df(id) > 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) > opts.MaxTerms {
		sort.Slice(ids, func(i, j int) bool {
			if seen[ids[i]] != seen[ids[j]] {
				return seen[ids[i]] > seen[ids[j]]
			}
			return ids[i] < ids[j]
		})
		ids = ids[:opts.MaxTerms]
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i, id := range ids {
		rows[id] = i
	}
	T := len(ids)
	k := min(opts.K, T, len(docs))
	if k < 2 {
		return nil, nil
	}
	l := min(k+opts.Oversample, T, len(docs))
	idf := make([]float64, T)
	for i, id := range ids {
		idf[i] = math.Log(float64(n) / float64(df(id)))
	}
	// Sparse weighted columns of A.
	type entry struct {
		row int
		w   float64
	}
	cols := make([][]entry, len(docs))
	for j, d := range docs {
		for _, t := range d {
			if r, ok := rows[t.ID]; ok {
				cols[j] = append(cols[j], entry{r, termWeight(t.TF, idf[r])})
			}
		}
	}
	// Y (T×l) and Z (n×l) are row-major, so the sparse products run
	// over contiguous rows of l values.
	Y := newDense(T, l)
	Z := newDense(len(docs), l)
	for i := range Z.data {
		Z.data[i] = rng.NormFloat64()
	}
	mulA := func() { // Y = A · Z
		Y.zero()
		for j, col := range cols {
			z := Z.row(j)
			for _, e := range col {
				axpy(Y.row(e.row), e.w, z)
			}
		}
	}
	mulAT := func() { // Z = Aᵀ · Y
		parallel(len(cols), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				z := Z.row(j)
				clear(z)
				for _, e := range cols[j] {
					axpy(z, e.w, Y.row(e.row))
				}
			}
		})
	}
	// The intermediate bases need only be well conditioned; the last
	// one, Q, must be orthonormal to working precision.
	mulA()
	Y.orthonormalize(1)
	for it := 0; it < opts.Power; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mulAT()
		Z.orthonormalize(1)
		mulA()
		Y.orthonormalize(1)
	}
	Y.orthonormalize(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// B = Qᵀ·A, kept as Bᵀ = Aᵀ·Q (n×l); S = B·Bᵀ (l×l).
	mulAT()
	S := Z.gram()
	vals, vecs := jacobiEigen(S)
	order := make([]int, l)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	order = order[:k]
	// U_k = Q · V[:, order].
	basis := &Basis{K: k, Terms: make(map[uint32]BasisTerm, T)}
	for r, id := range ids {
		v := make([]float32, k)
		for c, o := range order {
			s := 0.0
			y := Y.row(r)
			for a := 0; a < l; a++ {
				s += y[a] * vecs[a][o]
			}
			v[c] = float32(s)
		}
		basis.Terms[id] = BasisTerm{IDF: float32(idf[r]), Vec: v}
	}
	return basis, nil
}

// termWeight is the log-tf·idf weight of the term-document matrix.
func termWeight(tf uint32, idf float64) float64 {
	return (1 + math.Log(float64(max(tf, 1)))) * idf
}

// Project folds a document into the model: the unit-length sum of its
// weighted terms' rows. It returns nil when no term is in the model.
func (b *Basis) Project(terms []TermFreq) []float32 {
	v := make([]float64, b.K)
	found := false
	for _, t := range terms {
		bt, ok := b.Terms[t.ID]
		if !ok {
			continue
		}
		w := termWeight(t.TF, float64(bt.IDF))
		for i, x := range bt.Vec {
			v[i] += w * float64(x)
		}
		found = true
	}
	if !found {
		return nil
	}
	return unit(v)
}

// Fold folds a query in: its terms' rows weighted by query weight and
// idf. rows may hold only the query's terms (a store loads just those).
func Fold(k int, terms []QueryTerm, rows map[uint32]BasisTerm) []float32 {
	if k <= 0 {
		return nil
	}
	v := make([]float64, k)
	found := false
	for _, t := range terms {
		bt, ok := rows[t.ID]
		if !ok || len(bt.Vec) != k {
			continue
		}
		w := t.Weight * float64(bt.IDF)
		for i, x := range bt.Vec {
			v[i] += w * float64(x)
		}
		found = true
	}
	if !found {
		return nil
	}
	return unit(v)
}

func unit(v []float64) []float32 {
	n := 0.0
	for _, x := range v {
		n += x * x
	}
	if n == 0 {
		return nil
	}
	n = math.Sqrt(n)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x / n)
	}
	return out
}

// Normalize scales v to unit length in place; it reports false for a zero
// vector.
func Normalize(v []float32) bool {
	n := 0.0
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return false
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return true
}

// dense is a row-major matrix.
type dense struct {
	rows, cols int
	data       []float64
}

func newDense(r, c int) *dense { return &dense{rows: r, cols: c, data: make([]float64, r*c)} }

func (m *dense) row(r int) []float64 { return m.data[r*m.cols : (r+1)*m.cols] }

func (m *dense) zero() { clear(m.data) }

// axpy adds a·x to y.
func axpy(y []float64, a float64, x []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// gram returns mᵀ·m.
func (m *dense) gram() [][]float64 {
	c := m.cols
	parts := make([][]float64, 2)
	parallelN(2, m.rows, func(part, lo, hi int) {
		g := make([]float64, c*c)
		for r := lo; r < hi; r++ {
			y := m.row(r)
			for a := 0; a < c; a++ {
				ya := y[a]
				if ya == 0 {
					continue
				}
				axpy(g[a*c:a*c+a+1], ya, y[:a+1])
			}
		}
		parts[part] = g
	})
	out := make([][]float64, c)
	for a := range out {
		out[a] = make([]float64, c)
		for b := 0; b <= a; b++ {
			for _, g := range parts {
				if g != nil {
					out[a][b] += g[a*c+b]
				}
			}
			out[b][a] = out[a][b]
		}
	}
	return out
}

// orthonormalize replaces the columns by an orthonormal basis of their
// span with rounds of Cholesky QR (two rounds, CholeskyQR2, are as
// accurate as Householder QR when the columns are not nearly dependent),
// falling back to modified Gram-Schmidt when they are.
func (m *dense) orthonormalize(rounds int) {
	for round := 0; round < rounds; round++ {
		if !m.choleskyQR() {
			m.gramSchmidt()
			return
		}
	}
}

// choleskyQR computes G = mᵀm = RᵀR and sets m ← m·R⁻¹; it reports false
// when G is not numerically positive definite.
func (m *dense) choleskyQR() bool {
	c := m.cols
	g := m.gram()
	// Cholesky: g = L·Lᵀ with L lower triangular (R = Lᵀ).
	L := make([]float64, c*c)
	for i := 0; i < c; i++ {
		for j := 0; j <= i; j++ {
			s := g[i][j]
			for k := 0; k < j; k++ {
				s -= L[i*c+k] * L[j*c+k]
			}
			if i == j {
				if s <= 1e-12*max(g[i][i], 1e-300) {
					return false
				}
				L[i*c+i] = math.Sqrt(s)
			} else {
				L[i*c+j] = s / L[j*c+j]
			}
		}
	}
	// Each row y becomes x with x·Lᵀ = y: forward substitution.
	parallel(m.rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			y := m.row(r)
			for j := 0; j < c; j++ {
				s := y[j]
				for k := 0; k < j; k++ {
					s -= y[k] * L[j*c+k]
				}
				y[j] = s / L[j*c+j]
			}
		}
	})
	return true
}

// gramSchmidt orthonormalises the columns one by one, twice; a column
// that vanishes becomes zero.
func (m *dense) gramSchmidt() {
	c := m.cols
	col := func(j int, dst []float64) {
		for r := 0; r < m.rows; r++ {
			dst[r] = m.data[r*c+j]
		}
	}
	cols := make([][]float64, c)
	for j := range cols {
		cols[j] = make([]float64, m.rows)
		col(j, cols[j])
	}
	for pass := 0; pass < 2; pass++ {
		for j, v := range cols {
			for p := 0; p < j; p++ {
				u := cols[p]
				d := 0.0
				for i := range v {
					d += u[i] * v[i]
				}
				axpy(v, -d, u)
			}
			n := 0.0
			for _, x := range v {
				n += x * x
			}
			if n < 1e-20 {
				clear(v)
				continue
			}
			n = 1 / math.Sqrt(n)
			for i := range v {
				v[i] *= n
			}
		}
	}
	for j, v := range cols {
		for r := 0; r < m.rows; r++ {
			m.data[r*c+j] = v[r]
		}
	}
}

// parallel splits [0, n) between two goroutines (the machines Noema runs
// on have few cores; more would only contend).
func parallel(n int, fn func(lo, hi int)) {
	parallelN(2, n, func(_, lo, hi int) { fn(lo, hi) })
}

func parallelN(parts, n int, fn func(part, lo, hi int)) {
	if n < 256 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + parts - 1) / parts
	for p := 0; p < parts; p++ {
		lo, hi := p*step, min((p+1)*step, n)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(p, lo, hi)
		}()
	}
	wg.Wait()
}

// jacobiEigen diagonalises a small symmetric matrix with cyclic Jacobi
// rotations; it returns the eigenvalues and the eigenvectors as columns.
func jacobiEigen(s [][]float64) ([]float64, [][]float64) {
	n := len(s)
	a := make([][]float64, n)
	v := make([][]float64, n)
	for i := range a {
		a[i] = append([]float64(nil), s[i]...)
		v[i] = make([]float64, n)
		v[i][i] = 1
	}
	for sweep := 0; sweep < 60; sweep++ {
		off, diag := 0.0, 0.0
		for i := 0; i < n; i++ {
			diag += a[i][i] * a[i][i]
			for j := i + 1; j < n; j++ {
				off += a[i][j] * a[i][j]
			}
		}
		if off <= 1e-22*diag || off == 0 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if a[p][q] == 0 {
					continue
				}
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				sn := t * c
				for k := 0; k < n; k++ {
					akp, akq := a[k][p], a[k][q]
					a[k][p], a[k][q] = c*akp-sn*akq, sn*akp+c*akq
				}
				for k := 0; k < n; k++ {
					apk, aqk := a[p][k], a[q][k]
					a[p][k], a[q][k] = c*apk-sn*aqk, sn*apk+c*aqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p], v[k][q] = c*vkp-sn*vkq, sn*vkp+c*vkq
				}
			}
		}
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = a[i][i]
	}
	return vals, v
}
