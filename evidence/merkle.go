package evidence

import (
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// The Merkle tree follows RFC 6962 with SHA-256 so that standard
// transparency-log tooling can check inclusion and consistency. Each leaf is
// a frame's chain hash.
var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

func leafHash(frameHash [32]byte) []byte {
	return rfc6962.DefaultHasher.HashLeaf(frameHash[:])
}

func rangeRoot(size uint64, hashes [][]byte) ([]byte, error) {
	r, err := rangeFactory.NewRange(0, size, hashes)
	if err != nil {
		return nil, err
	}
	return treeRoot(r)
}

func treeRoot(r *compact.Range) ([]byte, error) {
	if r.End() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	return r.GetRootHash(nil)
}

func cloneRange(r *compact.Range) [][]byte {
	return append([][]byte(nil), r.Hashes()...)
}
