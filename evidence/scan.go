package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrStop ends a Scan early without error.
var ErrStop = errors.New("stop scan")

// Scan reads committed frames from pos (a frame boundary) to the end of the
// log in order, calling fn for each; records after the last signed commit
// are not passed on. It checks structure, not the chain: Verify does that.
// Scan is for readers (indexes, `log show`), which must not depend on a
// writer being present.
func Scan(ctx context.Context, dir string, from Position, fn func(Entry) error) error {
	if from.Segment < 1 {
		from = Position{Segment: 1}
	}
	var pending []Entry
	for s := from.Segment; ; s++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := os.ReadFile(segmentPath(dir, s))
		if errors.Is(err, fs.ErrNotExist) {
			if s == from.Segment && from.Offset > 0 {
				return fmt.Errorf("evidence: %s missing", segmentName(s))
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		var off int64
		if s == from.Segment {
			off = from.Offset
			if off > int64(len(data)) {
				return fmt.Errorf("evidence: %s is shorter than position %d", segmentName(s), off)
			}
		}
		for off < int64(len(data)) {
			f, err := readFrame(data[off:], nil)
			if errors.Is(err, errTorn) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("evidence: %s offset %d: %w", segmentName(s), off, err)
			}
			e := Entry{Kind: f.kind, Pos: Position{s, off}, Size: f.size, Hash: f.hash, Body: f.body}
			if f.kind == KindRecord {
				if e.Record, err = decodeRecord(f.body); err != nil {
					return fmt.Errorf("evidence: %s offset %d: %w", segmentName(s), off, err)
				}
				e.Seq = e.Record.Seq
			} else {
				var c control
				if err := json.Unmarshal(f.body, &c); err != nil {
					return fmt.Errorf("evidence: %s offset %d: %w", segmentName(s), off, err)
				}
				e.Seq, e.Segment = c.Seq, c.Segment
			}
			off += int64(f.size)
			pending = append(pending, e)
			if f.kind == KindCommit || f.kind == KindSeal {
				for _, p := range pending {
					if err := fn(p); err != nil {
						if errors.Is(err, ErrStop) {
							return nil
						}
						return err
					}
				}
				pending = pending[:0]
			}
		}
	}
}
