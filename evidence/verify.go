package evidence

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// AllSignatures checks every commit signature, not only the seals and
	// the final commit. The hash chain already binds every earlier commit
	// to the ones checked, so this only helps to locate damage.
	AllSignatures bool
}

// Problem names the first thing wrong with a log.
type Problem struct {
	File     string `json:"file"`
	Offset   int64  `json:"offset"`
	Seq      uint64 `json:"seq"`
	RecordID string `json:"record_id,omitempty"`
	Reason   string `json:"reason"`
}

func (p *Problem) String() string {
	s := fmt.Sprintf("%s offset %d (frame %d)", p.File, p.Offset, p.Seq)
	if p.RecordID != "" {
		s += " record " + p.RecordID
	}
	return s + ": " + p.Reason
}

// Report is the outcome of Verify.
type Report struct {
	OK             bool     `json:"ok"`
	Segments       int      `json:"segments"`
	Frames         uint64   `json:"frames"`
	Records        uint64   `json:"records"`
	Bytes          int64    `json:"bytes"`
	CheckpointSize uint64   `json:"checkpoint_size"`
	Root           string   `json:"root,omitempty"`
	Problem        *Problem `json:"problem,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// Verify checks every byte of the evidence folder against the hash chain,
// the seals, the final commit and the signed checkpoint. It reads only; a
// torn tail from a crash is reported (the next writer cuts and records it).
// The error is for failures to read; a damaged log is a Report with OK false.
func Verify(ctx context.Context, dir string, pub *PublicKey, opts VerifyOptions) (*Report, error) {
	rep := &Report{}
	fail := func(file string, off int64, seq uint64, body []byte, reason string) (*Report, error) {
		rep.Problem = &Problem{File: file, Offset: off, Seq: seq, Reason: reason}
		if body != nil {
			var r struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(body, &r) == nil {
				rep.Problem.RecordID = r.ID
			}
		}
		return rep, nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	ls, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	if len(ls.unexpected) > 0 {
		return fail(ls.unexpected[0], 0, 0, nil, "unexpected file in the evidence folder")
	}
	if n, gap := ls.missing(); gap {
		return fail(segmentName(n), 0, 0, nil, "segment file missing")
	}
	raw, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	var cp *Checkpoint
	if len(ls.segments) > 0 {
		if raw == nil {
			return fail(checkpointFile, 0, 0, nil, "checkpoint missing")
		}
		if cp, err = ParseCheckpoint(raw, pub); err != nil {
			return fail(checkpointFile, 0, 0, nil, err.Error())
		}
		rep.CheckpointSize = cp.Size
	} else if raw != nil {
		return fail(checkpointFile, 0, 0, nil, "checkpoint present but no segment")
	}

	tree := rangeFactory.NewEmptyRange(0)
	var (
		head       [32]byte
		seq        uint64
		lastCommit struct {
			body []byte
			prev [32]byte
			seq  uint64
			off  int64
		}
		cpSeen bool
	)
	checkCP := func(name string, seg int, off int64) (bool, error) {
		if cp == nil || cpSeen || seq != cp.Size {
			return true, nil
		}
		cpSeen = true
		root, err := treeRoot(tree)
		if err != nil {
			return false, err
		}
		if !bytes.Equal(root, cp.Root) || cp.Head != head || cp.End != (Position{seg, off}) {
			rep.Problem = &Problem{File: name, Offset: off, Seq: seq, Reason: "log does not match the signed checkpoint"}
			return false, nil
		}
		return true, nil
	}
	if ok, err := checkCP(segmentName(1), 1, 0); !ok || err != nil {
		return rep, err
	}
	for i, s := range ls.segments {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := segmentName(s)
		data, err := os.ReadFile(segmentPath(dir, s))
		if err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		rep.Segments++
		rep.Bytes += int64(len(data))
		var off int64
		var lastKind byte
		for off < int64(len(data)) {
			f, err := readFrame(data[off:], &head)
			if err != nil {
				if errors.Is(err, errTorn) {
					return fail(name, off, seq, nil, fmt.Sprintf("torn or truncated frame (%d trailing bytes); if noema was killed mid-write, the next noema command cuts it and records the recovery", int64(len(data))-off))
				}
				return fail(name, off, seq, frameBody(data[off:]), err.Error())
			}
			commitPub := pub
			if f.kind == KindCommit && !opts.AllSignatures {
				commitPub = nil
				lastCommit.body, lastCommit.prev, lastCommit.seq, lastCommit.off = f.body, head, seq, off
			}
			if err := checkFrame(f, s, off, seq, head, commitPub); err != nil {
				return fail(name, off, seq, f.body, err.Error())
			}
			if f.kind == KindRecord {
				rep.Records++
			}
			head = f.hash
			seq++
			off += int64(f.size)
			lastKind = f.kind
			tree.Append(leafHash(f.hash), nil)
			if ok, err := checkCP(name, s, off); !ok || err != nil {
				return rep, err
			}
		}
		last := i == len(ls.segments)-1
		switch {
		case !last && lastKind != KindSeal:
			return fail(name, off, seq, nil, "segment is not sealed but another follows it (truncated or files replaced)")
		case last && lastKind == KindRecord:
			return fail(name, off, seq, nil, "records after the last signed commit (appended without the key, or an interrupted write)")
		case last && lastKind == KindCommit && lastCommit.body != nil:
			var c control
			if json.Unmarshal(lastCommit.body, &c) != nil || !pub.Verify(commitMessage(lastCommit.prev, lastCommit.seq), c.Sig) {
				return fail(name, lastCommit.off, lastCommit.seq, nil, "final commit signature does not verify")
			}
		}
	}
	rep.Frames = seq
	if cp != nil && !cpSeen {
		return fail(checkpointFile, 0, seq, nil, fmt.Sprintf("checkpoint covers %d frames but the log has %d: log truncated", cp.Size, seq))
	}
	if cp != nil && cp.Size < seq {
		rep.Notes = append(rep.Notes, fmt.Sprintf("checkpoint is %d frames behind the last signed commit (refreshed by the next write)", seq-cp.Size))
	}
	root, err := treeRoot(tree)
	if err != nil {
		return nil, err
	}
	rep.Root = hex.EncodeToString(root)
	rep.OK = true
	return rep, nil
}

func frameBody(b []byte) []byte {
	if len(b) < frameHead {
		return nil
	}
	n := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	if n > maxBody || len(b) < frameHead+n {
		return nil
	}
	return b[frameHead : frameHead+n]
}
