package timekeeping

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// notifyMock is python-dbusmock's notification_daemon template serving
// org.freedesktop.Notifications on a private session bus.
type notifyMock struct {
	bus  *dconftest.Bus
	conn *dbus.Conn
	cmd  *exec.Cmd
}

func startNotifyMock(t *testing.T, bus *dconftest.Bus) *notifyMock {
	t.Helper()
	py := pythonWith(t, "dbusmock", "python3-dbusmock")
	cmd := bus.Command(context.Background(), py, "-m", "dbusmock", "--template", "notification_daemon")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbusmock: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	conn := bus.Conn(t)
	waitFor(t, 30*time.Second, "the notification mock on the bus", func() bool {
		select {
		case <-exited:
			t.Fatalf("dbusmock exited: %s", out.String())
		default:
		}
		var has bool
		conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.Notifications").Store(&has)
		return has
	})
	return &notifyMock{bus: bus, conn: conn, cmd: cmd}
}

// notification is one Notify call the mock received.
type notifyCall struct{ App, Summary, Body string }

func (n *notifyMock) calls(t *testing.T) []notifyCall {
	t.Helper()
	var raw []struct {
		When   uint64
		Method string
		Args   []dbus.Variant
	}
	obj := n.conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	if err := obj.Call("org.freedesktop.DBus.Mock.GetCalls", 0).Store(&raw); err != nil {
		t.Fatalf("GetCalls: %v", err)
	}
	var out []notifyCall
	for _, c := range raw {
		if c.Method != "Notify" || len(c.Args) < 5 {
			continue
		}
		s := func(i int) string { v, _ := c.Args[i].Value().(string); return v }
		out = append(out, notifyCall{App: s(0), Summary: s(3), Body: s(4)})
	}
	return out
}

func TestSchedulerDeliversThroughNotificationServer(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	mock := startNotifyMock(t, bus)
	m, p, db := newTimeModule(t)
	n := NewDBusNotifier(bus.Address)
	t.Cleanup(func() { n.Close() })

	at := time.Now().Add(1500 * time.Millisecond).Format(time.RFC3339Nano)
	rem := p.Do(t, "reminder.create", `{"text":"stretch your legs","at":"`+at+`"}`)
	pipelinetest.RequireState(t, rem, action.Succeeded)
	tmr := p.Do(t, "timer.start", `{"seconds":1,"label":"tea"}`)
	pipelinetest.RequireState(t, tmr, action.Succeeded)
	later := p.Do(t, "reminder.create", `{"text":"not yet","at":"`+time.Now().Add(time.Hour).Format(time.RFC3339)+`"}`)
	pipelinetest.RequireState(t, later, action.Succeeded)

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Scheduler(n, SchedulerOptions{Poll: time.Second}).Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	remID, tmrID := result(t, rem)["id"].(string), result(t, tmr)["id"].(string)
	waitFor(t, 20*time.Second, "both items delivered", func() bool {
		s1, _, _ := row(t, db, remID)
		s2, _, _ := row(t, db, tmrID)
		return s1 == stateDelivered && s2 == stateDelivered
	})
	calls := mock.calls(t)
	if len(calls) != 2 {
		t.Fatalf("notification server got %d calls, want 2: %+v", len(calls), calls)
	}
	got := map[string]string{}
	for _, c := range calls {
		got[c.Summary] = c.Body
		if c.App != "Noema" {
			t.Errorf("sent as %q", c.App)
		}
	}
	if got["Reminder"] != "stretch your legs" || !strings.HasPrefix(got["Timer done: tea"], "1s is up") {
		t.Errorf("notifications %+v", got)
	}
	if state, _, _ := row(t, db, result(t, later)["id"].(string)); state != statePending {
		t.Errorf("the later reminder is %s", state)
	}
	// Delivered once: another process asked to deliver the same item does
	// nothing.
	again := New(Options{DBPath: db})
	t.Cleanup(func() { again.Close() })
	if ok, err := again.Scheduler(n, SchedulerOptions{}).Deliver(t.Context(), remID); ok || err != nil {
		t.Fatalf("second delivery: %v %v", ok, err)
	}
	if len(mock.calls(t)) != 2 {
		t.Fatal("a delivered reminder was shown again")
	}
}

// TestSchedulerCatchesUpAfterDowntime: reminders that came due while no
// scheduler ran are delivered at start, marked as missed.
func TestSchedulerCatchesUpAfterDowntime(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	mock := startNotifyMock(t, bus)
	home := t.TempDir()
	m := New(Options{Home: home})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	at := time.Now().Add(200 * time.Millisecond).Format(time.RFC3339Nano)
	env := p.Do(t, "reminder.create", `{"text":"missed me","at":"`+at+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	m.Close() // "the computer is off"
	time.Sleep(700 * time.Millisecond)

	restarted := New(Options{Home: home})
	t.Cleanup(func() { restarted.Close() })
	n := NewDBusNotifier(bus.Address)
	t.Cleanup(func() { n.Close() })
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- restarted.Scheduler(n, SchedulerOptions{Poll: time.Second, Late: 100 * time.Millisecond}).Run(ctx)
	}()
	t.Cleanup(func() { stop(); <-done })
	waitFor(t, 20*time.Second, "the missed reminder", func() bool { return len(mock.calls(t)) == 1 })
	c := mock.calls(t)[0]
	if !strings.HasPrefix(c.Body, "missed me") || !strings.Contains(c.Body, "missed while Noema was not running") {
		t.Errorf("catch-up notification body %q", c.Body)
	}
}

// TestSchedulersDeliverOnce runs two schedulers on one database, as the
// daemon and a systemd-started `noema notify` would, over many due items.
func TestSchedulersDeliverOnce(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	mock := startNotifyMock(t, bus)
	db := filepath.Join(t.TempDir(), "time.db")
	a, b := New(Options{DBPath: db}), New(Options{DBPath: db})
	t.Cleanup(func() { a.Close(); b.Close() })
	st, err := a.store(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const items = 20
	for i := range items {
		it := item{ID: "rem_" + strings.Repeat("0", 20) + string(rune('A'+i)), Kind: kindReminder, Text: "r", Due: now.Add(-time.Second), Created: now}
		if err := st.insert(t.Context(), it); err != nil {
			t.Fatal(err)
		}
	}
	na, nb := NewDBusNotifier(bus.Address), NewDBusNotifier(bus.Address)
	t.Cleanup(func() { na.Close(); nb.Close() })
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, s := range []*Scheduler{a.Scheduler(na, SchedulerOptions{}), b.Scheduler(nb, SchedulerOptions{})} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.FireDue(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if got := len(mock.calls(t)); got != items || counts[0]+counts[1] != items {
		t.Fatalf("%d notifications shown, schedulers counted %v; want %d in all", got, counts, items)
	}
}

// TestSchedulerKeepsItemsWhenNoServer: with no notification server on
// the bus, delivery fails, the item stays pending with the error, and
// goes out once a server appears.
func TestSchedulerKeepsItemsWhenNoServer(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	m, p, db := newTimeModule(t)
	env := p.Do(t, "timer.start", `{"seconds":1,"label":"oven"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	id := result(t, env)["id"].(string)
	time.Sleep(1100 * time.Millisecond)

	n := NewDBusNotifier(bus.Address)
	t.Cleanup(func() { n.Close() })
	s := m.Scheduler(n, SchedulerOptions{})
	if got, err := s.FireDue(t.Context()); err == nil || got != 0 {
		t.Fatalf("FireDue with no server = %d, %v; want an error", got, err)
	}
	state, _, lastErr := row(t, db, id)
	if state != statePending || !strings.Contains(lastErr, "notification") {
		t.Fatalf("after a failed delivery the timer is %s (%q)", state, lastErr)
	}

	mock := startNotifyMock(t, bus)
	if got, err := s.FireDue(t.Context()); err != nil || got != 1 {
		t.Fatalf("FireDue with a server = %d, %v", got, err)
	}
	if calls := mock.calls(t); len(calls) != 1 || calls[0].Summary != "Timer done: oven" {
		t.Fatalf("calls %+v", calls)
	}
}

func TestStaleClaimsAreRetried(t *testing.T) {
	m := New(Options{DBPath: filepath.Join(t.TempDir(), "time.db")})
	t.Cleanup(func() { m.Close() })
	st, err := m.store(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.insert(t.Context(), item{ID: "rem_x", Kind: kindReminder, Text: "x", Due: now, Created: now}); err != nil {
		t.Fatal(err)
	}
	// A process claimed it and died before recording the delivery.
	if ok, err := st.claim(t.Context(), "rem_x", now.Add(-time.Hour)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, _ := st.claim(t.Context(), "rem_x", now); ok {
		t.Fatal("an item being delivered was claimed twice")
	}
	if n, err := st.recoverStale(t.Context(), now.Add(-time.Minute)); n != 1 || err != nil {
		t.Fatalf("recoverStale = %d, %v", n, err)
	}
	if it, _ := st.get(t.Context(), "rem_x"); it.State != statePending {
		t.Fatalf("stale claim left the item %s", it.State)
	}
}
