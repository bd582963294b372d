package evidence

import (
	"errors"
	"fmt"
	"os"
)

// tailState is the log's state at a frame boundary.
type tailState struct {
	seg    int
	off    int64
	seq    uint64
	head   [32]byte
	hashes [][]byte
	sealed bool // the frame before this boundary is a seal
}

// recover finds the last signed commit, cuts whatever follows it, and
// leaves l ready to append. Data before the checkpoint is trusted as
// signed; Verify, not Open, rereads it.
func (l *Log) recover() error {
	dir, pub := l.opts.Dir, l.opts.Key.Public()
	ls, err := listDir(dir)
	if err != nil {
		return err
	}
	cp, err := readCheckpoint(dir, pub)
	if err != nil {
		return &CorruptError{Pos: Position{Segment: 1}, Reason: err.Error()}
	}
	if n, gap := ls.missing(); gap {
		return &CorruptError{Pos: Position{Segment: n}, Reason: "segment file missing"}
	}
	if len(ls.segments) == 0 {
		if cp != nil && cp.Size > 0 {
			return &CorruptError{Pos: Position{Segment: 1}, Reason: fmt.Sprintf("checkpoint covers %d frames but no segment exists", cp.Size)}
		}
		l.tree = rangeFactory.NewEmptyRange(0)
		if err := l.startSegment(1); err != nil {
			return err
		}
		return l.writeCheckpoint()
	}

	st := tailState{seg: 1}
	if cp != nil {
		st = tailState{seg: cp.End.Segment, off: cp.End.Offset, seq: cp.Size, head: cp.Head, hashes: cp.Range}
		if st.seg > ls.last() {
			return &CorruptError{Pos: cp.End, Reason: "checkpoint names a segment that does not exist (log truncated)"}
		}
	}
	good := st
	tree, err := rangeFactory.NewRange(0, st.seq, st.hashes)
	if err != nil {
		return &CorruptError{Pos: cp.End, Reason: err.Error()}
	}
	var cutAt *Position
	var cutReason string
scan:
	for s := st.seg; s <= ls.last(); s++ {
		data, err := os.ReadFile(segmentPath(dir, s))
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		var pos int64
		if s == st.seg {
			pos = st.off
			if int64(len(data)) < pos {
				return &CorruptError{Pos: Position{s, int64(len(data))}, Reason: fmt.Sprintf("segment is shorter than the checkpoint says (%d < %d bytes): truncated", len(data), pos)}
			}
		} else if !good.sealed || good.seg != s-1 {
			// A later segment may only follow a sealed one.
			cutAt, cutReason = &Position{s, 0}, "segment follows an unsealed segment"
			break
		}
		for pos < int64(len(data)) {
			f, err := readFrame(data[pos:], &st.head)
			if err == nil {
				err = checkFrame(f, s, pos, st.seq, st.head, pub)
			}
			if err != nil {
				cutAt, cutReason = &Position{s, pos}, err.Error()
				if errors.Is(err, errTorn) {
					cutReason = "torn write"
				}
				break scan
			}
			st.head = f.hash
			st.seq++
			pos += int64(f.size)
			tree.Append(leafHash(f.hash), nil)
			if f.kind == KindCommit || f.kind == KindSeal {
				good = tailState{seg: s, off: pos, seq: st.seq, head: st.head, hashes: cloneRange(tree), sealed: f.kind == KindSeal}
			}
		}
	}
	if cutAt == nil && (good.seg != ls.last() || good.off != fileSize(segmentPath(dir, good.seg))) {
		cutAt, cutReason = &Position{good.seg, good.off}, "frames after the last signed commit"
	}
	if cutAt != nil && good.seg < ls.last()-1 {
		return &CorruptError{Pos: *cutAt, Reason: cutReason + " with committed segments after it"}
	}
	if cutAt != nil {
		rec := &Recovery{Segment: good.seg, Offset: good.off, Reason: cutReason, CommittedAt: good.seq}
		if cp != nil {
			rec.Checkpoint = cp.Size
		}
		if err := cutAfter(dir, ls, good, rec); err != nil {
			return err
		}
		l.recovery = rec
	}
	if l.tree, err = rangeFactory.NewRange(0, good.seq, good.hashes); err != nil {
		return err
	}
	l.seq, l.head = good.seq, good.head
	if good.off == 0 {
		// The first segment's header never committed.
		os.Remove(segmentPath(dir, good.seg))
		if err := l.startSegment(good.seg); err != nil {
			return err
		}
	} else if good.sealed {
		l.seg = good.seg
		if err := l.startSegment(good.seg + 1); err != nil {
			return err
		}
	} else {
		f, err := os.OpenFile(segmentPath(dir, good.seg), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		l.f, l.seg, l.off = f, good.seg, good.off
	}
	if cp == nil || cp.Size != l.seq || cutAt != nil {
		return l.writeCheckpoint()
	}
	return nil
}

// cutAfter truncates the segment holding the last commit and removes any
// later (uncommitted) segment files.
func cutAfter(dir string, ls dirListing, good tailState, rec *Recovery) error {
	for _, s := range ls.segments {
		path := segmentPath(dir, s)
		switch {
		case s == good.seg:
			size := fileSize(path)
			if size > good.off {
				rec.BytesCut += size - good.off
				if err := os.Truncate(path, good.off); err != nil {
					return fmt.Errorf("evidence: cut torn tail: %w", err)
				}
				if err := syncFile(path); err != nil {
					return err
				}
			}
		case s > good.seg:
			rec.BytesCut += fileSize(path)
			rec.FilesCut++
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("evidence: remove uncommitted segment: %w", err)
			}
		}
	}
	return syncDir(dir)
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("evidence: sync %s: %w", path, err)
	}
	return nil
}
