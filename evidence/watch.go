package evidence

import "sync"

// Subscribe returns a channel that receives, in log order, every record
// committed after the call, as it was written (redacted, with its sequence
// number). A live view of the log (the daemon's event stream, its D-Bus
// signals) needs this without reading the segments back.
//
// buf bounds how far the reader may fall behind. A reader more than buf
// records behind has its channel closed rather than slowing every append,
// so it can tell that it missed records and read them back with Scan. The
// channel is also closed by cancel and when the log closes.
func (l *Log) Subscribe(buf int) (<-chan Record, func()) {
	if buf < 1 {
		buf = 1
	}
	w := &watcher{ch: make(chan Record, buf)}
	l.watchers.add(w)
	return w.ch, func() { l.watchers.remove(w) }
}

type watcher struct {
	ch chan Record
}

// watchers is the set of subscribers. The committer publishes to it while
// holding mu, so a subscription either sees a batch whole or not at all.
type watchers struct {
	mu     sync.Mutex
	set    map[*watcher]struct{}
	closed bool
}

func (ws *watchers) add(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		close(w.ch)
		return
	}
	if ws.set == nil {
		ws.set = map[*watcher]struct{}{}
	}
	ws.set[w] = struct{}{}
}

func (ws *watchers) remove(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if _, ok := ws.set[w]; ok {
		delete(ws.set, w)
		close(w.ch)
	}
}

// publish hands a committed batch to every subscriber without blocking.
func (ws *watchers) publish(batch []*appendReq) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if len(ws.set) == 0 {
		return
	}
	for w := range ws.set {
	send:
		for _, r := range batch {
			for i, rec := range r.recs {
				rec.Seq = r.receipts[i].Seq
				select {
				case w.ch <- rec:
				default:
					delete(ws.set, w)
					close(w.ch)
					break send
				}
			}
		}
	}
}

func (ws *watchers) closeAll() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.set {
		close(w.ch)
	}
	ws.set, ws.closed = nil, true
}
