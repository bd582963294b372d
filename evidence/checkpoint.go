package evidence

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

const checkpointFile = "checkpoint"

// Checkpoint is a signed statement of the log's Merkle tree (C2SP
// tlog-checkpoint) extended with where the tree ends on disk, the chain head
// and the compact range, so that a writer can resume without rereading the
// whole log and a verifier can detect truncation.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	End    Position
	Head   [32]byte
	Range  [][]byte
	Signed []byte // the note as stored
}

func (c *Checkpoint) text() string {
	var sb strings.Builder
	sb.Write(log.Checkpoint{Origin: c.Origin, Size: c.Size, Hash: c.Root}.Marshal())
	fmt.Fprintf(&sb, "segment %d %d\n", c.End.Segment, c.End.Offset)
	fmt.Fprintf(&sb, "head %s\n", hex.EncodeToString(c.Head[:]))
	sb.WriteString("range")
	for _, h := range c.Range {
		sb.WriteByte(' ')
		sb.WriteString(base64.StdEncoding.EncodeToString(h))
	}
	sb.WriteByte('\n')
	return sb.String()
}

func (k *Key) signCheckpoint(c *Checkpoint) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: c.text()}, noteSigner{k})
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

// ParseCheckpoint checks the signature on a stored checkpoint and reads it.
// Signature lines must be canonical base64, so that no byte of the file can
// change without failing the check.
func ParseCheckpoint(raw []byte, pub *PublicKey) (*Checkpoint, error) {
	if err := strictSignatures(raw); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	cp, rest, _, err := log.ParseCheckpoint(raw, pub.Origin(), pub.verifier)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	c := &Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash, Signed: raw}
	lines := strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n")
	if len(lines) != 3 {
		return nil, errors.New("checkpoint: want segment, head and range lines")
	}
	f := strings.Fields(lines[0])
	if len(f) != 3 || f[0] != "segment" {
		return nil, errors.New("checkpoint: malformed segment line")
	}
	seg, err1 := strconv.Atoi(f[1])
	off, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || seg < 1 || off < 0 {
		return nil, errors.New("checkpoint: malformed segment line")
	}
	c.End = Position{Segment: seg, Offset: off}
	h, ok := strings.CutPrefix(lines[1], "head ")
	hb, err := hex.DecodeString(h)
	if !ok || err != nil || len(hb) != 32 {
		return nil, errors.New("checkpoint: malformed head line")
	}
	copy(c.Head[:], hb)
	r := strings.Fields(lines[2])
	if len(r) == 0 || r[0] != "range" {
		return nil, errors.New("checkpoint: malformed range line")
	}
	for _, s := range r[1:] {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, errors.New("checkpoint: malformed range hash")
		}
		c.Range = append(c.Range, b)
	}
	root, err := rangeRoot(c.Size, c.Range)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if !bytes.Equal(root, c.Root) {
		return nil, errors.New("checkpoint: compact range does not match the root hash")
	}
	return c, nil
}

func strictSignatures(raw []byte) error {
	_, sigs, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		return errors.New("no signature block")
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(sigs), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return errors.New("malformed signature line")
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(f[2]); err != nil {
			return errors.New("signature is not canonical base64")
		}
	}
	return nil
}
