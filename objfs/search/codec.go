package search

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// TermFreq is one term of a document's forward vector: the term's id in
// the store's dictionary and how often it occurs.
type TermFreq struct {
	ID uint32
	TF uint32
}

// SortTerms orders a forward vector by term id, the order EncodeTerms and
// the ranker expect.
func SortTerms(tfs []TermFreq) {
	slices.SortFunc(tfs, func(a, b TermFreq) int { return cmp.Compare(a.ID, b.ID) })
}

// EncodeTerms packs a forward vector sorted by id as varints: the gap to
// the previous id, then the frequency. Ten to a hundred times smaller than
// the text it comes from.
func EncodeTerms(tfs []TermFreq) []byte {
	out := make([]byte, 0, len(tfs)*3)
	var prev uint32
	for i, t := range tfs {
		gap := t.ID - prev
		if i == 0 {
			gap = t.ID
		}
		out = binary.AppendUvarint(out, uint64(gap))
		out = binary.AppendUvarint(out, uint64(t.TF))
		prev = t.ID
	}
	return out
}

// errCorrupt reports a stored vector that does not decode; the store
// answers it by reindexing the document.
var errCorrupt = errors.New("search: corrupt stored vector")

// DecodeTerms unpacks EncodeTerms's output, appending to dst. Stored bytes
// are checked: ids must increase and frequencies be positive.
func DecodeTerms(dst []TermFreq, b []byte) ([]TermFreq, error) {
	var prev uint64
	first := true
	for len(b) > 0 {
		gap, n := binary.Uvarint(b)
		if n <= 0 {
			return dst, errCorrupt
		}
		b = b[n:]
		tf, n := binary.Uvarint(b)
		if n <= 0 || tf == 0 || tf > math.MaxUint32 {
			return dst, errCorrupt
		}
		b = b[n:]
		id := prev + gap
		if (!first && gap == 0) || id > math.MaxUint32 {
			return dst, errCorrupt
		}
		dst = append(dst, TermFreq{ID: uint32(id), TF: uint32(tf)})
		prev, first = id, false
	}
	return dst, nil
}

// EncodeVector stores a dense vector as little-endian float32s.
func EncodeVector(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// DecodeVector reads EncodeVector's output; want is the expected length
// (0 accepts any). NaNs and infinities are rejected so that a damaged row
// cannot poison every score.
func DecodeVector(b []byte, want int) ([]float32, error) {
	if len(b)%4 != 0 || (want > 0 && len(b) != 4*want) {
		return nil, fmt.Errorf("search: stored vector has %d bytes, want %d", len(b), 4*want)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		x := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, errCorrupt
		}
		v[i] = x
	}
	return v, nil
}
