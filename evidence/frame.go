package evidence

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zeebo/blake3"
)

// Frame kinds. Every frame is a leaf of the log's Merkle tree and a link of
// its hash chain; the kind says how to read the body.
const (
	KindHeader byte = 'H' // first frame of a segment
	KindRecord byte = 'R' // an evidence record
	KindCommit byte = 'C' // signed end of a group commit
	KindSeal   byte = 'S' // signed last frame of a finished segment
)

const (
	frameHead = 4 + 1   // body length, kind
	frameTail = 32      // chain hash
	maxBody   = 1 << 22 // a record larger than 4 MiB is refused
	domain    = "noema-evidence-frame-v1"
)

// A frame on disk is len(u32 LE) | kind | body | hash, where
// hash = BLAKE3(domain || prev || len || kind || body). The chain covers
// every byte of every frame, so a changed, removed, inserted or reordered
// byte breaks it.
func appendFrame(dst []byte, prev [32]byte, kind byte, body []byte) ([]byte, [32]byte) {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)))
	dst = append(dst, kind)
	dst = append(dst, body...)
	h := chainHash(prev, dst[start:])
	dst = append(dst, h[:]...)
	return dst, h
}

func chainHash(prev [32]byte, headAndBody []byte) [32]byte {
	h := blake3.New()
	h.WriteString(domain)
	h.Write(prev[:])
	h.Write(headAndBody)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// rawFrame is one frame as read from a segment.
type rawFrame struct {
	kind byte
	body []byte
	hash [32]byte
	size int // bytes on disk
}

var errTorn = errors.New("incomplete frame")

// readFrame parses the frame at the start of b and, when prev is not nil,
// checks its link to prev. It returns errTorn when b ends inside the frame.
func readFrame(b []byte, prev *[32]byte) (rawFrame, error) {
	if len(b) < frameHead {
		return rawFrame{}, errTorn
	}
	n := binary.LittleEndian.Uint32(b)
	if n > maxBody {
		return rawFrame{}, fmt.Errorf("frame length %d exceeds the limit", n)
	}
	size := frameHead + int(n) + frameTail
	if len(b) < size {
		return rawFrame{}, errTorn
	}
	kind := b[4]
	switch kind {
	case KindHeader, KindRecord, KindCommit, KindSeal:
	default:
		return rawFrame{}, fmt.Errorf("unknown frame kind %q", kind)
	}
	var stored [32]byte
	copy(stored[:], b[frameHead+int(n):size])
	if prev != nil && chainHash(*prev, b[:frameHead+int(n)]) != stored {
		return rawFrame{}, errors.New("hash chain broken (frame changed, removed or reordered)")
	}
	return rawFrame{kind: kind, body: b[frameHead : frameHead+int(n)], hash: stored, size: size}, nil
}

// commitMessage is what a commit or seal signs: the chain head it closes.
func commitMessage(prev [32]byte, seq uint64) []byte {
	msg := make([]byte, 0, 64+len(domain))
	msg = append(msg, "noema-evidence-commit-v1\n"...)
	msg = binary.BigEndian.AppendUint64(msg, seq)
	return append(msg, prev[:]...)
}
