package evidence

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func segmentName(n int) string { return fmt.Sprintf("seg-%08d.log", n) }

func parseSegmentName(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "seg-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".log")
	if !ok || len(s) != 8 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// dirListing is what the evidence folder holds.
type dirListing struct {
	segments   []int
	checkpoint bool
	unexpected []string
}

func listDir(dir string) (dirListing, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return dirListing{}, fmt.Errorf("evidence: %w", err)
	}
	var l dirListing
	for _, e := range ents {
		name := e.Name()
		if n, ok := parseSegmentName(name); ok && e.Type().IsRegular() {
			l.segments = append(l.segments, n)
			continue
		}
		if name == checkpointFile && e.Type().IsRegular() {
			l.checkpoint = true
			continue
		}
		l.unexpected = append(l.unexpected, name)
	}
	sort.Ints(l.segments)
	return l, nil
}

// contiguous reports the first segment number missing from 1..n.
func (l dirListing) missing() (int, bool) {
	for i, n := range l.segments {
		if n != i+1 {
			return i + 1, true
		}
	}
	return 0, false
}

func (l dirListing) last() int {
	if len(l.segments) == 0 {
		return 0
	}
	return l.segments[len(l.segments)-1]
}

func segmentPath(dir string, n int) string { return filepath.Join(dir, segmentName(n)) }

// checkFrame enforces what a frame at (seg, off) with index seq and
// predecessor prev must look like. Signatures on commits and seals are
// checked when pub is not nil.
func checkFrame(f rawFrame, seg int, off int64, seq uint64, prev [32]byte, pub *PublicKey) error {
	if off == 0 && f.kind != KindHeader {
		return fmt.Errorf("segment does not start with a header frame")
	}
	switch f.kind {
	case KindRecord:
		if !hasSeqPrefix(f.body, seq) {
			return fmt.Errorf("record does not carry sequence number %d", seq)
		}
		return nil
	case KindHeader:
		if off != 0 {
			return fmt.Errorf("header frame inside a segment")
		}
	}
	var c control
	if err := json.Unmarshal(f.body, &c); err != nil {
		return fmt.Errorf("control frame: %w", err)
	}
	if c.Seq != seq {
		return fmt.Errorf("control frame carries sequence %d, want %d", c.Seq, seq)
	}
	switch f.kind {
	case KindHeader:
		if c.Segment != seg {
			return fmt.Errorf("header names segment %d inside segment %d (files renamed?)", c.Segment, seg)
		}
	case KindSeal:
		if c.Segment != seg {
			return fmt.Errorf("seal names segment %d inside segment %d", c.Segment, seg)
		}
		fallthrough
	case KindCommit:
		if pub != nil && !pub.Verify(commitMessage(prev, seq), c.Sig) {
			return fmt.Errorf("commit signature does not verify")
		}
	}
	return nil
}

func hasSeqPrefix(body []byte, seq uint64) bool {
	want := strconv.AppendUint([]byte(`{"seq":`), seq, 10)
	want = append(want, ',')
	return len(body) >= len(want) && string(body[:len(want)]) == string(want)
}
