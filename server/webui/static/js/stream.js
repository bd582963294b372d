// One server-sent event stream of new evidence for the whole page. Every
// panel filters it by action id: one connection, however many actions are
// on screen (a browser allows only a few per host).

const RETRY_MS = 5000;

// follow streams records after since to handlers.record; handlers.reset is
// called when records may have been missed, handlers.state with 'live',
// 'reconnecting' or 'closed'. It returns a function that stops it.
export function follow(since, handlers) {
  let last = since;
  let es = null;
  let timer = 0;
  let stopped = false;
  const open = () => {
    es = new EventSource('/api/log/stream?since=' + encodeURIComponent(last));
    es.addEventListener('open', () => handlers.state('live'));
    es.addEventListener('record', (e) => {
      let rec;
      try {
        rec = JSON.parse(e.data);
      } catch {
        return;
      }
      if (rec.seq > last) last = rec.seq;
      handlers.record(rec);
    });
    es.addEventListener('reset', () => handlers.reset());
    es.addEventListener('error', () => {
      if (stopped) return;
      if (es.readyState === EventSource.CLOSED) {
        // The daemon refused the stream (busy, stopping, or the session
        // ended): try again later from the last record seen.
        handlers.state('closed');
        timer = setTimeout(open, RETRY_MS);
      } else {
        handlers.state('reconnecting');
      }
    });
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    es.close();
  };
}
