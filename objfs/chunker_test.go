package objfs

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/zeebo/blake3"
)

// chunks splits data with a cut-point function.
func chunks(data []byte, cut func([]byte) int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := cut(data)
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

func TestChunkBounds(t *testing.T) {
	data := randomBytes(11, 4<<20)
	cs := chunks(data, cutPoint)
	total := 0
	for i, c := range cs {
		if len(c) > maxChunk || (len(c) < minChunk && i != len(cs)-1) {
			t.Fatalf("chunk %d has %d bytes", i, len(c))
		}
		total += len(c)
	}
	avg := total / len(cs)
	if avg < avgChunk/2 || avg > 2*avgChunk {
		t.Fatalf("average chunk %d bytes, want about %d", avg, avgChunk)
	}
	// The streaming reader cuts exactly where the in-memory chunker does,
	// whatever sizes the reads come in.
	cr := newChunkReader(iotest.OneByteReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		c, err := cr.next()
		if err == io.EOF {
			if i != len(cs) {
				t.Fatalf("stream gave %d chunks, memory %d", i, len(cs))
			}
			break
		}
		if err != nil || !bytes.Equal(c, cs[i]) {
			t.Fatalf("stream chunk %d differs: %v", i, err)
		}
	}
}

// sharedBytes is how much of b's chunked content is already in a's.
func sharedBytes(a, b []byte, cut func([]byte) int) (shared, total int) {
	have := map[[32]byte]bool{}
	for _, c := range chunks(a, cut) {
		have[blake3.Sum256(c)] = true
	}
	for _, c := range chunks(b, cut) {
		total += len(c)
		if have[blake3.Sum256(c)] {
			shared += len(c)
		}
	}
	return shared, total
}

// TestChunkerDedup is the measurement behind content-defined chunking:
// after a small insertion, edit or deletion, how much of the new version
// is already stored, with content-defined and with fixed-size chunks.
func TestChunkerDedup(t *testing.T) {
	base := randomBytes(12, 2<<20)
	edits := map[string][]byte{
		"insert 20 bytes at 1 KiB":  append(append(append([]byte{}, base[:1024]...), bytes.Repeat([]byte("x"), 20)...), base[1024:]...),
		"delete 100 bytes at 1 MiB": append(append([]byte{}, base[:1<<20]...), base[1<<20+100:]...),
		"overwrite 10 bytes mid":    append(append(append([]byte{}, base[:700000]...), bytes.Repeat([]byte("y"), 10)...), base[700010:]...),
		"append 4 KiB":              append(append([]byte{}, base...), randomBytes(13, 4096)...),
	}
	for name, edited := range edits {
		cs, total := sharedBytes(base, edited, cutPoint)
		fs, _ := sharedBytes(base, edited, fixedCutPoint)
		cdc, fixed := float64(cs)/float64(total), float64(fs)/float64(total)
		t.Logf("%-26s content-defined %.1f%% reused, fixed-size %.1f%%", name, 100*cdc, 100*fixed)
		if cdc < 0.95 {
			t.Errorf("%s: content-defined chunking reused only %.1f%%", name, 100*cdc)
		}
	}
}

// BenchmarkChunk compares the cost of finding cut points; both are far
// faster than hashing the chunks with BLAKE3 (BenchmarkBLAKE3).
func BenchmarkChunk(b *testing.B) {
	data := randomBytes(14, 8<<20)
	for _, bc := range []struct {
		name string
		cut  func([]byte) int
	}{{"content-defined", cutPoint}, {"fixed", fixedCutPoint}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				chunks(data, bc.cut)
			}
		})
	}
}

func BenchmarkBLAKE3(b *testing.B) {
	data := randomBytes(15, 8<<20)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		blake3.Sum256(data)
	}
}
