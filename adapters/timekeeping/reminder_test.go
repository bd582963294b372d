package timekeeping

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// row reads an item straight from the database file, through its own
// connection, as any other reader would.
func row(t *testing.T, dbPath, id string) (state string, due time.Time, unitErr string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dueMs int64
	if err := db.QueryRow(`SELECT state, due_ms, last_error FROM items WHERE id = ?`, id).Scan(&state, &dueMs, &unitErr); err != nil {
		t.Fatalf("read %s from %s: %v", id, dbPath, err)
	}
	return state, time.UnixMilli(dueMs), unitErr
}

func newTimeModule(t *testing.T) (*Module, *pipelinetest.Pipeline, string) {
	t.Helper()
	home := t.TempDir()
	m := New(Options{Home: home})
	t.Cleanup(func() { m.Close() })
	return m, pipelinetest.New(t, pipelinetest.Options{}, m), filepath.Join(home, "time.db")
}

func TestReminderCreateUndo(t *testing.T) {
	_, p, db := newTimeModule(t)
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	env := p.Do(t, "reminder.create", `{"text":"call the garage","at":"`+at.Format(time.RFC3339)+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	id := result(t, env)["id"].(string)
	if state, due, _ := row(t, db, id); state != statePending || !due.Equal(at) {
		t.Fatalf("row %s is %s due %s, want pending due %s", id, state, due, at)
	}
	undo := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, undo, action.Succeeded)
	if state, _, _ := row(t, db, id); state != stateCancelled {
		t.Fatalf("row %s is %s after undo, want cancelled", id, state)
	}
	p.Verify(t)
}

func TestReminderRefusals(t *testing.T) {
	m, p, _ := newTimeModule(t)
	past := time.Now().Add(-time.Hour).Format(time.RFC3339)
	requireFailed(t, p.Do(t, "reminder.create", `{"text":"too late","at":"`+past+`"}`), "already passed")
	if err := rejects(p, "reminder.create", `{"text":"x","at":"at nine"}`); err == nil {
		t.Error("a time that is not RFC 3339 was accepted")
	}

	// A reminder that has gone off cannot be undone.
	soon := time.Now().Add(300 * time.Millisecond).Format(time.RFC3339Nano)
	env := p.Do(t, "reminder.create", `{"text":"now","at":"`+soon+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	time.Sleep(400 * time.Millisecond)
	bus := dconftest.StartSessionBus(t)
	startNotifyMock(t, bus)
	n := NewDBusNotifier(bus.Address)
	t.Cleanup(func() { n.Close() })
	if got, err := m.Scheduler(n, SchedulerOptions{}).FireDue(t.Context()); err != nil || got != 1 {
		t.Fatalf("FireDue = %d, %v", got, err)
	}
	u := p.Undo(t, env.Identity.ActionID)
	requireFailed(t, u, "delivered")
}

func TestTimerStartCancelUndo(t *testing.T) {
	_, p, db := newTimeModule(t)
	start := p.Do(t, "timer.start", `{"seconds":600,"label":"pasta"}`)
	pipelinetest.RequireState(t, start, action.Succeeded)
	id := result(t, start)["id"].(string)
	if state, due, _ := row(t, db, id); state != statePending || time.Until(due) < 590*time.Second {
		t.Fatalf("timer row %s due %s", state, due)
	}

	time.Sleep(1100 * time.Millisecond)
	cancel := p.Do(t, "timer.cancel", `{"label":"pasta"}`)
	pipelinetest.RequireState(t, cancel, action.Succeeded)
	if state, _, _ := row(t, db, id); state != stateCancelled {
		t.Fatalf("timer is %s after cancel", state)
	}

	time.Sleep(1100 * time.Millisecond)
	restore := p.Undo(t, cancel.Identity.ActionID)
	pipelinetest.RequireState(t, restore, action.Succeeded)
	state, due, _ := row(t, db, id)
	// The restored timer ends its remaining time after the undo, not at
	// its first end, and not with its full length again.
	if left := time.Until(due); state != statePending || left > 599*time.Second || left < 590*time.Second {
		t.Fatalf("restored timer is %s with %s left, want pending with about 598s", state, left)
	}

	// Undoing the start cancels the (restored) timer.
	undoStart := p.Undo(t, start.Identity.ActionID)
	pipelinetest.RequireState(t, undoStart, action.Succeeded)
	if state, _, _ := row(t, db, id); state != stateCancelled {
		t.Fatalf("timer is %s after undoing its start", state)
	}
	p.Verify(t)
}

func TestTimerCancelChoosesOrRefuses(t *testing.T) {
	_, p, _ := newTimeModule(t)
	requireFailed(t, p.Do(t, "timer.cancel", `{}`), "no timer is running")
	requireFailed(t, p.Do(t, "timer.cancel", `{"label":"tea"}`), `no timer called "tea"`)

	only := p.Do(t, "timer.start", `{"seconds":60}`)
	pipelinetest.RequireState(t, only, action.Succeeded)
	if got := result(t, only)["label"]; got != defaultTimerLabel {
		t.Errorf("unlabelled timer is called %v", got)
	}
	pipelinetest.RequireState(t, p.Do(t, "timer.cancel", `{}`), action.Succeeded)

	pipelinetest.RequireState(t, p.Do(t, "timer.start", `{"seconds":60,"label":"tea"}`), action.Succeeded)
	pipelinetest.RequireState(t, p.Do(t, "timer.start", `{"seconds":90,"label":"eggs"}`), action.Succeeded)
	env := p.Do(t, "timer.cancel", `{}`)
	requireFailed(t, env, "say which")
	if !strings.Contains(env.Execution.Error.Message, `"tea"`) || !strings.Contains(env.Execution.Error.Message, `"eggs"`) {
		t.Errorf("refusal does not name the running timers: %s", env.Execution.Error.Message)
	}
	pipelinetest.RequireState(t, p.Do(t, "timer.cancel", `{"label":"eggs"}`), action.Succeeded)
	if err := rejects(p, "timer.start", `{"seconds":0}`); err == nil {
		t.Error("a zero-second timer was accepted")
	}
}

func TestRemindersSurviveRestart(t *testing.T) {
	home := t.TempDir()
	m := New(Options{Home: home})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	at := time.Now().Add(time.Hour).Format(time.RFC3339)
	env := p.Do(t, "reminder.create", `{"text":"persist","at":"`+at+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	id := result(t, env)["id"].(string)
	m.Close()

	again := New(Options{Home: home})
	t.Cleanup(func() { again.Close() })
	st, err := again.store(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	it, err := st.get(t.Context(), id)
	if err != nil || it.State != statePending || it.Text != "persist" {
		t.Fatalf("after reopening: %+v, %v", it, err)
	}
}

func TestTimeDatabaseUnusable(t *testing.T) {
	home := t.TempDir()
	// The database path is a folder: nothing can be stored.
	if err := os.MkdirAll(filepath.Join(home, "time.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Home: home})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	requireFailed(t, p.Do(t, "timer.start", `{"seconds":60}`), "time.db")
	requireFailed(t, p.Do(t, "reminder.create", `{"text":"x","at":"`+time.Now().Add(time.Hour).Format(time.RFC3339)+`"}`), "time.db")
}

// TestReminderListRange checks that a range keeps only the items due in
// it, and that a range that ends before it starts is refused.
func TestReminderListRange(t *testing.T) {
	_, p, _ := newTimeModule(t)
	now := time.Now().Truncate(time.Second)
	soon, later := now.Add(time.Hour), now.Add(49*time.Hour)
	pipelinetest.RequireState(t, p.Do(t, "reminder.create", `{"text":"soon","at":"`+soon.Format(time.RFC3339)+`"}`), action.Succeeded)
	pipelinetest.RequireState(t, p.Do(t, "reminder.create", `{"text":"later","at":"`+later.Format(time.RFC3339)+`"}`), action.Succeeded)

	all := p.Do(t, "reminder.list", `{}`)
	pipelinetest.RequireState(t, all, action.Succeeded)
	if n := result(t, all)["count"]; n != float64(2) {
		t.Fatalf("without a range: %v items, want 2", n)
	}
	day := p.Do(t, "reminder.list", `{"from":"`+later.Add(-time.Hour).Format(time.RFC3339)+`"}`)
	pipelinetest.RequireState(t, day, action.Succeeded)
	items, _ := result(t, day)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["text"] != "later" {
		t.Fatalf("from an hour before the later one: %v, want only it", items)
	}
	if err := rejects(p, "reminder.list", `{"from":"`+later.Format(time.RFC3339)+`","to":"`+soon.Format(time.RFC3339)+`"}`); err == nil || !strings.Contains(err.Error(), "before it starts") {
		t.Fatalf("a range ending before it starts: %v", err)
	}
	p.Verify(t)
}
