package search

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// An Index can be saved and read back, so a command-line search need not
// rebuild it from the database: reading the file is an order of magnitude
// faster than reading the rows.

const indexMagic = "NOEMAIX1"

// maxPersistLen bounds any array length read from a file.
const maxPersistLen = 1 << 31

// WriteTo writes the index in a private binary format.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	e := &encoder{w: cw}
	e.bytes([]byte(indexMagic))
	e.u64(uint64(ix.n))
	e.u64(uint64(ix.semDim))
	e.u64(uint64(ix.embDim))
	e.u64(math.Float64bits(ix.avgLen))
	e.i64s(ix.keys)
	e.u32s(ix.docLen)
	e.u32s(ix.fwdOff)
	e.u32s(ix.fwdTerm)
	e.u32s(ix.fwdTF)
	e.u32s(ix.postOff)
	e.u32s(ix.postDoc)
	e.u32s(ix.postTF)
	e.f32s(ix.sem)
	e.f32s(ix.emb)
	for i := 0; i < ix.n; i++ {
		m := ix.meta[i]
		e.str(m.Path)
		e.str(m.Kind)
		e.u64(uint64(m.ModTime))
		e.u64(uint64(len(m.Tags)))
		for _, t := range m.Tags {
			e.str(t)
		}
		if ix.embDim > 0 {
			b := byte(0)
			if ix.hasEmb[i] {
				b = 1
			}
			e.bytes([]byte{b})
		}
	}
	if e.err == nil {
		e.err = bw.Flush()
	}
	return cw.n, e.err
}

// ReadIndex reads WriteTo's output, checking every length, offset and id
// so that a damaged file is an error, never a panic or a wrong answer.
func ReadIndex(r io.Reader) (*Index, error) {
	d := &decoder{r: bufio.NewReaderSize(r, 1<<20)}
	magic := d.bytes(len(indexMagic))
	if d.err == nil && string(magic) != indexMagic {
		return nil, errors.New("search: not an index file")
	}
	ix := &Index{}
	ix.n = d.int()
	ix.semDim = d.int()
	ix.embDim = d.int()
	ix.avgLen = math.Float64frombits(d.u64())
	ix.keys = d.i64s()
	ix.docLen = d.u32s()
	ix.fwdOff = d.u32s()
	ix.fwdTerm = d.u32s()
	ix.fwdTF = d.u32s()
	ix.postOff = d.u32s()
	ix.postDoc = d.u32s()
	ix.postTF = d.u32s()
	ix.sem = d.f32s()
	ix.emb = d.f32s()
	if d.err != nil {
		return nil, fmt.Errorf("search: read index: %w", d.err)
	}
	if err := ix.check(); err != nil {
		return nil, err
	}
	ix.meta = make([]Meta, ix.n)
	if ix.embDim > 0 {
		ix.hasEmb = make([]bool, ix.n)
	}
	for i := 0; i < ix.n && d.err == nil; i++ {
		m := &ix.meta[i]
		m.Path, m.Kind = d.str(), d.str()
		m.ModTime = int64(d.u64())
		nt := d.int()
		if nt > 1<<16 {
			return nil, errCorrupt
		}
		for j := 0; j < nt && d.err == nil; j++ {
			m.Tags = append(m.Tags, d.str())
		}
		if ix.embDim > 0 {
			b := d.bytes(1)
			ix.hasEmb[i] = len(b) == 1 && b[0] == 1
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("search: read index: %w", d.err)
	}
	return ix, nil
}

// check validates the arrays' shapes and cross-references.
func (ix *Index) check() error {
	n := ix.n
	bad := func(what string) error { return fmt.Errorf("%w: index file: %s", errCorrupt, what) }
	if n < 0 || ix.semDim < 0 || ix.embDim < 0 || ix.semDim > 1<<12 || ix.embDim > 1<<14 {
		return bad("sizes")
	}
	if len(ix.keys) != n || len(ix.docLen) != n || len(ix.fwdOff) != n+1 {
		return bad("document arrays")
	}
	if math.IsNaN(ix.avgLen) || ix.avgLen <= 0 {
		return bad("average length")
	}
	nnz := len(ix.fwdTerm)
	if len(ix.fwdTF) != nnz || len(ix.postDoc) != nnz || len(ix.postTF) != nnz || len(ix.postOff) == 0 {
		return bad("vector arrays")
	}
	if ix.fwdOff[0] != 0 || int(ix.fwdOff[n]) != nnz {
		return bad("forward offsets")
	}
	for i := 0; i < n; i++ {
		if ix.fwdOff[i] > ix.fwdOff[i+1] {
			return bad("forward offsets")
		}
	}
	terms := uint32(len(ix.postOff) - 1)
	for _, t := range ix.fwdTerm {
		if t >= terms {
			return bad("term id")
		}
	}
	if ix.postOff[0] != 0 || int(ix.postOff[terms]) != nnz {
		return bad("posting offsets")
	}
	for t := uint32(0); t < terms; t++ {
		if ix.postOff[t] > ix.postOff[t+1] {
			return bad("posting offsets")
		}
	}
	for _, d := range ix.postDoc {
		if int(d) >= n {
			return bad("posting document")
		}
	}
	if len(ix.sem) != n*ix.semDim || len(ix.emb) != n*ix.embDim {
		return bad("dense vectors")
	}
	for _, v := range [][]float32{ix.sem, ix.emb} {
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return bad("dense vector value")
			}
		}
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type encoder struct {
	w   io.Writer
	err error
	buf [8]byte
}

func (e *encoder) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.bytes(e.buf[:])
}

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	e.bytes([]byte(s))
}

func (e *encoder) u32s(v []uint32) {
	e.u64(uint64(len(v)))
	b := make([]byte, 4*min(len(v), 1<<16))
	for lo := 0; lo < len(v); lo += 1 << 16 {
		part := v[lo:min(lo+1<<16, len(v))]
		for i, x := range part {
			binary.LittleEndian.PutUint32(b[4*i:], x)
		}
		e.bytes(b[:4*len(part)])
	}
}

func (e *encoder) f32s(v []float32) {
	u := make([]uint32, len(v))
	for i, x := range v {
		u[i] = math.Float32bits(x)
	}
	e.u32s(u)
}

func (e *encoder) i64s(v []int64) {
	e.u64(uint64(len(v)))
	for _, x := range v {
		e.u64(uint64(x))
	}
}

type decoder struct {
	r   io.Reader
	err error
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	b := make([]byte, n)
	_, d.err = io.ReadFull(d.r, b)
	return b
}

func (d *decoder) u64() uint64 {
	b := d.bytes(8)
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *decoder) int() int {
	v := d.u64()
	if v > maxPersistLen {
		if d.err == nil {
			d.err = errCorrupt
		}
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.int()
	if n > 1<<20 {
		d.err = errCorrupt
		return ""
	}
	return string(d.bytes(n))
}

// u32s reads a length-prefixed array in pieces, so a forged length fails
// at the end of the data instead of allocating it all up front.
func (d *decoder) u32s() []uint32 {
	n := d.int()
	out := make([]uint32, 0, min(n, 1<<22))
	for len(out) < n && d.err == nil {
		k := min(n-len(out), 1<<16)
		b := d.bytes(4 * k)
		for i := 0; i < k && d.err == nil; i++ {
			out = append(out, binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
	return out
}

func (d *decoder) f32s() []float32 {
	u := d.u32s()
	if len(u) == 0 {
		return nil
	}
	out := make([]float32, len(u))
	for i, x := range u {
		out[i] = math.Float32frombits(x)
	}
	return out
}

func (d *decoder) i64s() []int64 {
	n := d.int()
	out := make([]int64, 0, min(n, 1<<20))
	for len(out) < n && d.err == nil {
		out = append(out, int64(d.u64()))
	}
	return out
}
