package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/server/client"
)

var errEnough = errors.New("enough")

// collect follows the stream until want record events arrived. It may run
// on any goroutine.
func collect(c *client.Client, since string, q url.Values, want int) ([]client.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var evs []client.Event
	n := 0
	err := c.Stream(ctx, since, q, func(ev client.Event) error {
		evs = append(evs, ev)
		if ev.Type == "record" {
			n++
		}
		if n >= want {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		return evs, fmt.Errorf("stream ended after %d of %d records: %v", n, want, err)
	}
	return evs, nil
}

func mustCollect(t *testing.T, c *client.Client, since string, q url.Values, want int) []client.Event {
	t.Helper()
	evs, err := collect(c, since, q, want)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// The event stream delivers every new evidence record once, in order,
// with its sequence number as the event id; a reader resuming with
// Last-Event-ID gets exactly what it missed; one resuming from before the
// daemon's memory is told to reload; filters select one action's records;
// stopping the daemon ends the stream.
func TestEvidenceStream(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	ctx := context.Background()
	hc := client.HTTP(d.info.HTTP, e.token(t), nil)
	started, err := hc.Log(ctx, client.LogQuery{Type: "server.started"})
	if err != nil || len(started) != 1 {
		t.Fatalf("server.started: %v %v", started, err)
	}
	since := strconv.FormatUint(started[0].Seq, 10)

	env := submitWrite(t, d, filepath.Join(e.work(), "s.txt"))
	evs := mustCollect(t, hc, since, nil, len(env.Execution.Evidence))
	var lastSeq uint64
	for i, ev := range evs {
		if ev.Type != "record" || ev.Record == nil {
			t.Fatalf("event %d: %+v", i, ev)
		}
		if ev.Record.ID != env.Execution.Evidence[i] {
			t.Fatalf("event %d is %s, want %s", i, ev.Record.ID, env.Execution.Evidence[i])
		}
		if ev.ID != strconv.FormatUint(ev.Record.Seq, 10) || ev.Record.Seq <= lastSeq {
			t.Fatalf("event %d: id %s seq %d after %d", i, ev.ID, ev.Record.Seq, lastSeq)
		}
		lastSeq = ev.Record.Seq
	}

	// Resume after the third record: exactly the rest, then live.
	rest := mustCollect(t, hc, evs[2].ID, nil, len(evs)-3)
	for i, ev := range rest {
		if ev.Record == nil || ev.Record.ID != evs[3+i].Record.ID {
			t.Fatalf("resumed event %d: %+v", i, ev)
		}
	}

	// From before anything the daemon holds: a reset first.
	evs0 := mustCollect(t, hc, "0", nil, 1)
	if evs0[0].Type != "reset" {
		t.Fatalf("resuming from 0: first event %+v", evs0[0])
	}

	// Live, filtered to one action: the reader is connected (it has had
	// a record of the first action) before the second action starts.
	type result struct {
		evs []client.Event
		err error
	}
	filtered := make(chan result, 1)
	ready := make(chan struct{})
	from, first := evs[0].ID, env.Identity.ActionID
	go func() {
		connected := ready // closed on the first event, then forgotten
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var got []client.Event
		err := hc.Stream(ctx, from, url.Values{"type": {"action.*"}}, func(ev client.Event) error {
			if connected != nil {
				close(connected)
				connected = nil
			}
			got = append(got, ev)
			if ev.Record != nil && ev.Record.ActionID != first && strings.Contains(string(ev.Record.Data), `"to":"SUCCEEDED"`) {
				return errEnough
			}
			return nil
		})
		filtered <- result{got, err}
	}()
	<-ready
	env2 := submitWrite(t, d, filepath.Join(e.work(), "s2.txt"))
	r := <-filtered
	if !errors.Is(r.err, errEnough) {
		t.Fatalf("filtered stream: %v", r.err)
	}
	seen2 := 0
	for _, ev := range r.evs {
		if ev.Record == nil || !strings.HasPrefix(ev.Record.Type, "action.") {
			t.Fatalf("filtered stream gave %+v", ev)
		}
		if ev.Record.ActionID == env2.Identity.ActionID {
			seen2++
		}
	}
	if seen2 == 0 {
		t.Fatal("the live action's records did not arrive")
	}

	// A stop ends open streams.
	ended := make(chan error, 1)
	go func() {
		ended <- hc.Stream(context.Background(), "", nil, func(client.Event) error { return nil })
	}()
	time.Sleep(100 * time.Millisecond)
	d.stop(t)
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("stream after stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("stream still open after the daemon stopped")
	}
}

func submitWrite(t *testing.T, d *testDaemon, path string) *action.Envelope {
	t.Helper()
	env, err := d.sock.Submit(context.Background(), action.Draft{Action: "fs.write", Target: json.RawMessage(fmt.Sprintf(`{"path":%q,"content":"x"}`, path))}, true)
	if err != nil || env.Execution.State != action.Succeeded {
		t.Fatalf("submit: %v %+v", err, env)
	}
	return env
}
