// Package evidence is Noema's tamper-evident, append-only evidence log.
//
// Records are framed into segment files under the evidence folder and
// linked by a BLAKE3 hash chain. Each group commit ends with a commit frame
// signed with the installation's Ed25519 key, finished segments end with a
// signed seal, and a signed checkpoint (C2SP tlog-checkpoint over an RFC 6962
// Merkle tree of all frames) records how far the log reaches, so a changed,
// removed, reordered or added byte, a truncation or a removed or added file
// is detected by Verify. Appends from many goroutines are group-committed
// with one fdatasync per batch; a record is acknowledged only once it is
// durable and signed.
package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/noema-project/noema/internal/ids"
	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/sys/unix"
)

// Options configure a Log.
type Options struct {
	// Dir is the evidence folder. It holds segments and the checkpoint
	// only.
	Dir string
	// RunDir is scratch space on the same filesystem as Dir (for the lock
	// and atomic checkpoint replacement).
	RunDir string
	// Key signs commits, seals and checkpoints.
	Key *Key
	// SegmentBytes is the size after which a segment is sealed.
	SegmentBytes int64
	// MaxBatch bounds the records in one group commit.
	MaxBatch int
	// Now stamps records; defaults to time.Now.
	Now func() time.Time
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("evidence: log closed")

// CorruptError says the log cannot be appended to because data that was
// already committed is damaged. Noema refuses to act rather than extend a
// log it cannot vouch for.
type CorruptError struct {
	Pos    Position
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("evidence log damaged at %s offset %d: %s (run `noema log verify` for details)",
		segmentName(e.Pos.Segment), e.Pos.Offset, e.Reason)
}

// Recovery describes what Open cut from the log after an interrupted write.
type Recovery struct {
	Segment     int    `json:"segment"`
	Offset      int64  `json:"offset"`
	BytesCut    int64  `json:"bytes_cut"`
	FilesCut    int    `json:"files_removed"`
	Reason      string `json:"reason"`
	Checkpoint  uint64 `json:"checkpoint_size"`
	CommittedAt uint64 `json:"committed_size"`
}

// Log appends records. One process at a time holds it (a file lock).
type Log struct {
	opts Options
	lock *os.File
	reqs chan *appendReq
	quit chan struct{}
	done chan struct{}

	// Owned by the committer goroutine after Open returns.
	f    *os.File
	seg  int
	off  int64
	seq  uint64
	head [32]byte
	tree *compact.Range
	buf  []byte
	err  error // sticky: after a failed write the log stays closed

	closeOnce sync.Once
	recovery  *Recovery
	watchers  watchers
}

type appendReq struct {
	bodies   [][]byte // records marshalled without seq
	ids      []string
	recs     []Record // as written, for subscribers; Seq is set on commit
	receipts []Receipt
	err      error
	done     chan struct{}
}

const (
	defaultSegmentBytes = 16 << 20
	defaultMaxBatch     = 4096
)

// Open opens or creates the log, taking the writer lock, and cuts a torn or
// uncommitted tail left by a crash, recording that it did.
func Open(ctx context.Context, opts Options) (*Log, error) {
	if opts.Key == nil {
		return nil, errors.New("evidence: no signing key")
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = defaultSegmentBytes
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultMaxBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, d := range []string{opts.Dir, opts.RunDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
	}
	lock, err := lockFile(ctx, filepath.Join(opts.RunDir, "evidence.lock"))
	if err != nil {
		return nil, err
	}
	l := &Log{opts: opts, lock: lock, reqs: make(chan *appendReq, 1024), quit: make(chan struct{}), done: make(chan struct{})}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	go l.run()
	if l.recovery != nil {
		data, _ := json.Marshal(l.recovery)
		if _, err := l.Append(ctx, Record{Type: "evidence.recovered", Data: data}); err != nil {
			l.Close()
			return nil, fmt.Errorf("evidence: record recovery: %w", err)
		}
	}
	return l, nil
}

// lockFile takes an exclusive flock, waiting until ctx is done.
func lockFile(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("evidence: lock: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("evidence: lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("evidence: waiting for another noema process to release the log: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Recovered reports what Open cut after a crash, or nil.
func (l *Log) Recovered() *Recovery { return l.recovery }

// PublicKey returns the key that verifies this log.
func (l *Log) PublicKey() *PublicKey { return l.opts.Key.Public() }

// Append makes recs durable and returns their receipts in order. Records'
// Data is redacted first; an append whose data cannot be inspected for
// secrets is refused. IDs and times are filled in when empty.
func (l *Log) Append(ctx context.Context, recs ...Record) ([]Receipt, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	req := &appendReq{done: make(chan struct{})}
	for _, r := range recs {
		if r.Type == "" {
			return nil, errors.New("evidence: record without a type")
		}
		data, _, err := Redact(r.Data)
		if err != nil {
			return nil, fmt.Errorf("evidence: refusing append of %s: %w", r.Type, err)
		}
		n := 0
		r.Subject = RedactString(r.Subject, &n)
		r.Data = data
		if r.Time.IsZero() {
			r.Time = l.opts.Now()
		}
		r.Time = r.Time.UTC()
		if r.ID == "" {
			r.ID = ids.New(ids.Evidence, r.Time)
		}
		body, err := json.Marshal(recordBodyOf(r))
		if err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		if len(body)+32 > maxBody {
			return nil, fmt.Errorf("evidence: record %s is %d bytes, over the limit", r.Type, len(body))
		}
		req.bodies = append(req.bodies, body)
		req.ids = append(req.ids, r.ID)
		req.recs = append(req.recs, r)
	}
	select {
	case l.reqs <- req:
	case <-l.quit:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued the records will be written; wait for the outcome even if
	// ctx ends, so the caller never mistakes a durable record for a lost one.
	<-req.done
	return req.receipts, req.err
}

// recordBody is a Record without Seq, which the committer adds.
type recordBody struct {
	ID            string          `json:"id"`
	Time          time.Time       `json:"time"`
	Type          string          `json:"type"`
	ActionID      string          `json:"action_id,omitempty"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	Subject       string          `json:"subject,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
}

func recordBodyOf(r Record) recordBody {
	return recordBody{r.ID, r.Time, r.Type, r.ActionID, r.CorrelationID, r.Subject, r.Data}
}

// Close stops accepting appends, finishes queued ones and releases the lock.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		close(l.quit)
		<-l.done
		l.closeFiles()
		l.watchers.closeAll()
	})
	return nil
}

func (l *Log) closeFiles() {
	if l.f != nil {
		l.f.Close()
	}
	if l.lock != nil {
		l.lock.Close()
	}
}

func (l *Log) run() {
	defer close(l.done)
	batch := make([]*appendReq, 0, 64)
	for {
		var first *appendReq
		select {
		case first = <-l.reqs:
		case <-l.quit:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-l.reqs:
					l.commit([]*appendReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		n := len(first.bodies)
	drain:
		for n < l.opts.MaxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
				n += len(r.bodies)
			default:
				break drain
			}
		}
		l.commit(batch)
	}
}

func (l *Log) commit(batch []*appendReq) {
	err := l.err
	if err == nil {
		err = l.writeBatch(batch)
		if err != nil {
			l.err = fmt.Errorf("evidence: log stopped after a failed write: %w", err)
		}
	}
	if err == nil {
		// Subscribers hear of records before their appenders return, so
		// that whoever acts on an acknowledged record can rely on the
		// stream already holding it.
		l.watchers.publish(batch)
	}
	for _, r := range batch {
		if err != nil {
			r.receipts, r.err = nil, err
		}
		close(r.done)
	}
}

func (l *Log) writeBatch(batch []*appendReq) error {
	buf := l.buf[:0]
	for _, r := range batch {
		r.receipts = make([]Receipt, len(r.bodies))
		for i, body := range r.bodies {
			seq := l.seq
			framed := make([]byte, 0, len(body)+24)
			framed = append(framed, `{"seq":`...)
			framed = appendUint(framed, seq)
			framed = append(framed, ',')
			framed = append(framed, body[1:]...)
			buf = l.appendFrame(buf, KindRecord, framed)
			r.receipts[i] = Receipt{ID: r.ids[i], Seq: seq, Hash: l.head}
		}
	}
	buf = l.appendCommit(buf, KindCommit)
	if err := l.writeSync(buf); err != nil {
		return err
	}
	l.buf = buf[:0]
	if l.off >= l.opts.SegmentBytes {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	return l.writeCheckpoint()
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

func (l *Log) appendFrame(buf []byte, kind byte, body []byte) []byte {
	buf, h := appendFrame(buf, l.head, kind, body)
	l.head = h
	l.tree.Append(leafHash(h), nil)
	l.seq++
	return buf
}

func (l *Log) appendCommit(buf []byte, kind byte) []byte {
	c := control{Seq: l.seq, Sig: l.opts.Key.Sign(commitMessage(l.head, l.seq))}
	if kind == KindSeal {
		c.Segment = l.seg
	}
	body, _ := json.Marshal(c)
	return l.appendFrame(buf, kind, body)
}

func (l *Log) writeSync(buf []byte) error {
	if _, err := l.f.Write(buf); err != nil {
		return fmt.Errorf("write %s: %w", segmentName(l.seg), err)
	}
	if err := unix.Fdatasync(int(l.f.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", segmentName(l.seg), err)
	}
	l.off += int64(len(buf))
	return nil
}

// rotate seals the active segment and starts the next.
func (l *Log) rotate() error {
	if err := l.writeSync(l.appendCommit(nil, KindSeal)); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", segmentName(l.seg), err)
	}
	l.f = nil
	return l.startSegment(l.seg + 1)
}

// startSegment creates segment n with its header and a commit, durably.
func (l *Log) startSegment(n int) error {
	path := segmentPath(l.opts.Dir, n)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", segmentName(n), err)
	}
	l.f, l.seg, l.off = f, n, 0
	hdr, _ := json.Marshal(control{Seq: l.seq, Segment: n, Origin: l.opts.Key.Public().Origin(), Time: l.opts.Now().UTC()})
	buf := l.appendFrame(nil, KindHeader, hdr)
	buf = l.appendCommit(buf, KindCommit)
	if err := l.writeSync(buf); err != nil {
		return err
	}
	return syncDir(l.opts.Dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// writeCheckpoint replaces the signed checkpoint. It is written after the
// frames it covers are durable, so it never claims more than the segments
// hold; it is not synced, because the signed commit frames, not the
// checkpoint, decide what survives a crash.
func (l *Log) writeCheckpoint() error {
	root, err := treeRoot(l.tree)
	if err != nil {
		return err
	}
	cp := &Checkpoint{
		Origin: l.opts.Key.Public().Origin(),
		Size:   l.seq,
		Root:   root,
		End:    Position{Segment: l.seg, Offset: l.off},
		Head:   l.head,
		Range:  cloneRange(l.tree),
	}
	msg, err := l.opts.Key.signCheckpoint(cp)
	if err != nil {
		return err
	}
	tmp := filepath.Join(l.opts.RunDir, "checkpoint.tmp")
	if err := os.WriteFile(tmp, msg, 0o600); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(l.opts.Dir, checkpointFile)); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// readCheckpoint returns the stored checkpoint, nil when there is none or it
// is empty (a checkpoint lost to a power cut before it reached the disk).
func readCheckpoint(dir string, pub *PublicKey) (*Checkpoint, error) {
	raw, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(raw) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return ParseCheckpoint(raw, pub)
}
