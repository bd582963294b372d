package evidence

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// InclusionProof shows that one frame is in the tree a checkpoint signs.
type InclusionProof struct {
	Index      uint64   `json:"leaf_index"`
	TreeSize   uint64   `json:"tree_size"`
	LeafHash   []byte   `json:"leaf_hash"`
	Hashes     [][]byte `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

// ProveInclusion builds an RFC 6962 inclusion proof for frame seq against
// the current signed checkpoint. It reads the frame hashes of the log.
func ProveInclusion(ctx context.Context, dir string, pub *PublicKey, seq uint64) (*InclusionProof, error) {
	cp, err := readCheckpoint(dir, pub)
	if err != nil {
		return nil, err
	}
	if cp == nil || seq >= cp.Size {
		return nil, fmt.Errorf("frame %d is not covered by the signed checkpoint yet", seq)
	}
	leaves := make([][]byte, 0, cp.Size)
	err = Scan(ctx, dir, Position{}, func(e Entry) error {
		if uint64(len(leaves)) < cp.Size {
			leaves = append(leaves, leafHash(e.Hash))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if uint64(len(leaves)) < cp.Size {
		return nil, fmt.Errorf("log holds %d frames, checkpoint says %d", len(leaves), cp.Size)
	}
	nodes, err := proof.Inclusion(seq, cp.Size)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		begin, end := id.Coverage()
		hashes[i] = subtreeHash(leaves[begin:end])
	}
	p, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, err
	}
	ip := &InclusionProof{Index: seq, TreeSize: cp.Size, LeafHash: leaves[seq], Hashes: p, Checkpoint: string(cp.Signed)}
	if err := VerifyInclusion(ip, pub); err != nil {
		return nil, fmt.Errorf("built proof does not verify: %w", err)
	}
	return ip, nil
}

// VerifyInclusion checks a proof against the checkpoint it carries, whose
// signature must verify with pub.
func VerifyInclusion(p *InclusionProof, pub *PublicKey) error {
	cp, err := ParseCheckpoint([]byte(p.Checkpoint), pub)
	if err != nil {
		return err
	}
	if cp.Size != p.TreeSize {
		return fmt.Errorf("proof is for size %d, checkpoint for %d", p.TreeSize, cp.Size)
	}
	return proof.VerifyInclusion(rfc6962.DefaultHasher, p.Index, p.TreeSize, p.LeafHash, p.Hashes, cp.Root)
}

// subtreeHash is the root of a perfect subtree over leaf hashes (a power
// of two of them).
func subtreeHash(level [][]byte) []byte {
	for len(level) > 1 {
		next := make([][]byte, len(level)/2)
		for i := range next {
			next[i] = rfc6962.DefaultHasher.HashChildren(level[2*i], level[2*i+1])
		}
		level = next
	}
	return level[0]
}
