package objfs

import (
	"errors"
	"io"
)

// Chunk sizes of the content-defined chunker. Measured on edited files
// (TestChunkerDedup, BenchmarkChunk): with a 16 KiB average an insertion
// near the start of a file costs one or two new chunks where fixed-size
// chunks rewrite everything after it, and the gear hash runs at well over
// a gigabyte a second, far faster than BLAKE3 and the disk, so content-
// defined chunking costs nothing noticeable.
const (
	minChunk = 4 << 10
	avgChunk = 16 << 10
	maxChunk = 64 << 10
)

// FastCDC masks (Xia et al., 2016) with normalised chunking: for an
// average of 2^14 bytes, a stricter 16-bit mask before the average size
// and a looser 12-bit one after it pull chunk sizes towards the average.
// The bits are spread over the high 48 bits of the gear hash, which depend
// on the most recent 48 bytes.
var (
	maskStrict = spreadMask(16)
	maskLoose  = spreadMask(12)
)

func spreadMask(n int) uint64 {
	var m uint64
	step := 48 / n
	for i := 0; i < n; i++ {
		m |= 1 << (63 - i*step)
	}
	return m
}

// gear is the FastCDC gear table: fixed pseudo-random words, so the same
// content always cuts at the same places, on every machine and version.
var gear = func() [256]uint64 {
	var g [256]uint64
	x := uint64(0x6e6f656d61636463) // splitmix64 from a fixed seed
	for i := range g {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		g[i] = z ^ (z >> 31)
	}
	return g
}()

// cutPoint returns the length of the first chunk of data.
func cutPoint(data []byte) int {
	n := len(data)
	if n <= minChunk {
		return n
	}
	if n > maxChunk {
		n = maxChunk
	}
	normal := min(avgChunk, n)
	var h uint64
	i := minChunk
	for ; i < normal; i++ {
		h = (h << 1) + gear[data[i]]
		if h&maskStrict == 0 {
			return i + 1
		}
	}
	for ; i < n; i++ {
		h = (h << 1) + gear[data[i]]
		if h&maskLoose == 0 {
			return i + 1
		}
	}
	return n
}

// fixedCutPoint is the fixed-size alternative the benchmarks compare with.
func fixedCutPoint(data []byte) int { return min(len(data), avgChunk) }

// chunkReader splits a stream into content-defined chunks.
type chunkReader struct {
	r   io.Reader
	buf []byte
	lo  int
	hi  int
	eof bool
}

func newChunkReader(r io.Reader) *chunkReader {
	return &chunkReader{r: r, buf: make([]byte, 2*maxChunk)}
}

// next returns the next chunk, valid until the following call, or io.EOF.
func (c *chunkReader) next() ([]byte, error) {
	if c.hi-c.lo < maxChunk && !c.eof {
		if c.lo > 0 {
			copy(c.buf, c.buf[c.lo:c.hi])
			c.hi -= c.lo
			c.lo = 0
		}
		for c.hi < len(c.buf) && !c.eof {
			n, err := c.r.Read(c.buf[c.hi:])
			c.hi += n
			if errors.Is(err, io.EOF) {
				c.eof = true
			} else if err != nil {
				return nil, err
			}
		}
	}
	if c.lo == c.hi {
		return nil, io.EOF
	}
	n := cutPoint(c.buf[c.lo:c.hi])
	if n == c.hi-c.lo && !c.eof {
		// Cannot happen: a full buffer holds more than maxChunk.
		n = min(n, maxChunk)
	}
	out := c.buf[c.lo : c.lo+n]
	c.lo += n
	return out, nil
}
