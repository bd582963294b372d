package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/server/api"
)

const (
	// ringSize is how many recent records a reconnecting reader can
	// resume from.
	ringSize = 1024
	// subscriberBuf is how far one stream may fall behind before it is
	// told it lagged.
	subscriberBuf = 256
	// maxStreams bounds open event streams.
	maxStreams  = 64
	keepAlive   = 15 * time.Second
	sendTimeout = 10 * time.Second
)

// hub fans the evidence log's new records out to event streams and the
// D-Bus signal, and keeps the most recent ones so a reader that
// reconnects misses nothing.
type hub struct {
	mu      sync.Mutex
	ring    []evidence.Record
	last    uint64 // seq of the newest record seen
	seen    bool
	subs    map[*streamSub]struct{}
	quit    chan struct{}
	done    chan struct{}
	stopped bool
}

type streamSub struct {
	ch     chan evidence.Record
	filter func(*evidence.Record) bool
}

func newHub() *hub {
	return &hub{subs: map[*streamSub]struct{}{}, quit: make(chan struct{}), done: make(chan struct{})}
}

// start follows the log until stop. When the hub itself falls behind the
// log (its subscription is cut), every stream is told so and the hub
// subscribes again.
func (h *hub) start(log *evidence.Log, onRecord func(evidence.Record)) {
	go func() {
		defer close(h.done)
		for {
			ch, cancel := log.Subscribe(4096)
			for rec := range ch {
				h.publish(rec)
				if onRecord != nil {
					onRecord(rec)
				}
			}
			cancel()
			select {
			case <-h.quit:
				return
			default:
			}
			h.dropAll()
		}
	}()
}

// stop ends following and closes every stream.
func (h *hub) stop() {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.stopped = true
	close(h.quit)
	h.mu.Unlock()
	h.dropAll()
}

func (h *hub) publish(rec evidence.Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) == ringSize {
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:ringSize-1]
	}
	h.ring = append(h.ring, rec)
	h.last, h.seen = rec.Seq, true
	for sub := range h.subs {
		if sub.filter != nil && !sub.filter(&rec) {
			continue
		}
		select {
		case sub.ch <- rec:
		default:
			delete(h.subs, sub)
			close(sub.ch)
		}
	}
}

func (h *hub) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// subscribe opens a stream. With since set, the records after it that the
// ring still holds come first; gap says records after since may no longer
// be held. Backlog and live records neither overlap nor miss one,
// because both are taken under the same lock.
func (h *hub) subscribe(since *uint64, filter func(*evidence.Record) bool) (sub *streamSub, backlog []evidence.Record, gap bool, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped || len(h.subs) >= maxStreams {
		return nil, nil, false, false
	}
	if since != nil && h.seen && *since < h.last {
		// Sequence numbers count every frame of the log, commits too, so
		// a gap cannot be told from the numbers alone: a reader is whole
		// only if it last saw a record the ring still holds (or a later
		// one).
		gap = *since < h.ring[0].Seq
		for _, r := range h.ring {
			if r.Seq > *since && (filter == nil || filter(&r)) {
				backlog = append(backlog, r)
			}
		}
	}
	sub = &streamSub{ch: make(chan evidence.Record, subscriberBuf), filter: filter}
	h.subs[sub] = struct{}{}
	return sub, backlog, gap, true
}

func (h *hub) unsubscribe(sub *streamSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// logStream serves new evidence records as server-sent events.
func (s *Server) logStream(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	var since *uint64
	for _, v := range []string{q.Get("since"), r.Header.Get("Last-Event-ID")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			reply(w, bad("since: want a record sequence number"))
			return
		}
		since = &n
	}
	actionID, typ := q.Get("action"), q.Get("type")
	var filter func(*evidence.Record) bool
	if actionID != "" || typ != "" {
		prefix, isPrefix := strings.CutSuffix(typ, "*")
		filter = func(rec *evidence.Record) bool {
			if actionID != "" && rec.ActionID != actionID {
				return false
			}
			if typ != "" && rec.Type != typ && !(isPrefix && strings.HasPrefix(rec.Type, prefix)) {
				return false
			}
			return true
		}
	}
	sub, backlog, gap, ok := s.hub.subscribe(since, filter)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, api.CodeBusy, "too many event streams are open, or the daemon is stopping")
		return
	}
	defer s.hub.unsubscribe(sub)

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		rc.SetWriteDeadline(time.Now().Add(sendTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 2000\n: noema evidence stream\n\n") {
		return
	}
	if gap {
		if !send("event: reset\ndata: {\"reason\":\"records after %d are no longer buffered; reload them with GET /api/log\"}\n\n", *since) {
			return
		}
	}
	record := func(rec evidence.Record) bool {
		data, err := json.Marshal(rec)
		if err != nil {
			return true
		}
		return send("id: %d\nevent: record\ndata: %s\n\n", rec.Seq, data)
	}
	for _, rec := range backlog {
		if !record(rec) {
			return
		}
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case rec, open := <-sub.ch:
			if !open {
				send("event: lagged\ndata: {\"reason\":\"the reader fell behind; reconnect with Last-Event-ID\"}\n\n")
				return
			}
			if !record(rec) {
				return
			}
		case <-tick.C:
			if !send(": keep-alive\n\n") {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}
