package timekeeping

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
)

// foreignCalendar is a file another application wrote: an event with a
// zone and properties Noema does not know, which must survive Noema's
// writes.
const foreignCalendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//App//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:other-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260504T150000\r\n" +
	"DTEND;TZID=Europe/Berlin:20260504T160000\r\nSUMMARY:Yoga\r\nX-OTHER-APP-COLOR:green\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func TestFileCalendarCreateListUndo(t *testing.T) {
	mustLoad(t, "Europe/Berlin")
	home := t.TempDir()
	file := filepath.Join(home, "calendar", "noema.ics")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(foreignCalendar), 0o600); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Home: home})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "calendar.event.create", `{"title":"Dentist","start":"2026-05-04T14:00:00+02:00","duration_minutes":90}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	uid, _ := result(t, env)["uid"].(string)
	if uid == "" {
		t.Fatalf("no uid in %s", env.Execution.Result)
	}
	if env.Execution.Preview == nil || !strings.Contains(env.Execution.Preview[0].Note, "Yoga") {
		t.Errorf("preview does not point out the overlap with Yoga: %+v", env.Execution.Preview)
	}

	// Read the file independently of the adapter.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"UID:" + uid, "SUMMARY:Dentist", "DTSTART:20260504T120000Z", "DTEND:20260504T133000Z", "UID:other-1", "X-OTHER-APP-COLOR:green"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("calendar file lacks %q:\n%s", want, data)
		}
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("calendar file mode %v, want 0600", fi.Mode().Perm())
	}

	list := p.Do(t, "calendar.event.list", `{"from":"2026-05-04T00:00:00+02:00","to":"2026-05-05T00:00:00+02:00"}`)
	pipelinetest.RequireState(t, list, action.Succeeded)
	res := result(t, list)
	if res["untrusted"] != true {
		t.Errorf("list result is not marked untrusted: %v", res)
	}
	evs, _ := res["events"].([]any)
	var titles []string
	for _, e := range evs {
		titles = append(titles, e.(map[string]any)["title"].(string))
	}
	if strings.Join(titles, ",") != "Dentist,Yoga" {
		t.Errorf("listed %v, want Dentist,Yoga", titles)
	}

	undo := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, undo, action.Succeeded)
	if got := originalState(t, p, env.Identity.ActionID); got != action.RolledBack {
		t.Errorf("original is %s after undo, want ROLLED_BACK", got)
	}
	data, _ = os.ReadFile(file)
	if strings.Contains(string(data), uid) {
		t.Errorf("event %s still in the file after undo:\n%s", uid, data)
	}
	if !strings.Contains(string(data), "UID:other-1") || !strings.Contains(string(data), "X-OTHER-APP-COLOR:green") {
		t.Errorf("undo lost the other application's event:\n%s", data)
	}
	p.Verify(t)
}

func TestFileCalendarDefaultListWindow(t *testing.T) {
	home := t.TempDir()
	now := time.Now()
	m := New(Options{Home: home})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	start := now.Add(2 * time.Hour).Truncate(time.Minute).Format(time.RFC3339)
	pipelinetest.RequireState(t, p.Do(t, "calendar.event.create", `{"title":"Soon","start":"`+start+`"}`), action.Succeeded)
	far := now.Add(30 * 24 * time.Hour).Truncate(time.Minute).Format(time.RFC3339)
	pipelinetest.RequireState(t, p.Do(t, "calendar.event.create", `{"title":"Later","start":"`+far+`"}`), action.Succeeded)

	list := p.Do(t, "calendar.event.list", `{}`)
	pipelinetest.RequireState(t, list, action.Succeeded)
	evs, _ := result(t, list)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["title"] != "Soon" {
		t.Fatalf("the coming week lists %v, want only Soon", evs)
	}
	// A read-only action has nothing to undo.
	if _, err := p.Runtime.Undo(context.Background(), list.Identity.ActionID, p.Human); err == nil {
		t.Fatal("undo of a listing was accepted")
	}
}

func TestFileCalendarRefusesBrokenFile(t *testing.T) {
	home := t.TempDir()
	file := filepath.Join(home, "calendar", "noema.ics")
	os.MkdirAll(filepath.Dir(file), 0o700)
	broken := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n")
	if err := os.WriteFile(file, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Home: home})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "calendar.event.create", `{"title":"Dentist","start":"2026-05-04T14:00:00+02:00"}`)
	requireFailed(t, env, "malformed iCalendar")
	if data, _ := os.ReadFile(file); string(data) != string(broken) {
		t.Fatalf("a file that does not parse was rewritten:\n%s", data)
	}
	requireFailed(t, p.Do(t, "calendar.event.list", `{}`), "malformed iCalendar")
}

func TestCalendarRejectsBadTargets(t *testing.T) {
	m := New(Options{Home: t.TempDir()})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	for _, c := range []struct{ action, target string }{
		{"calendar.event.create", `{"title":"x","start":"tomorrow at nine"}`},
		{"calendar.event.create", `{"title":"x","start":"2026-05-04T14:00:00+02:00","duration_minutes":0}`},
		{"calendar.event.create", `{"title":"   ","start":"2026-05-04T14:00:00+02:00"}`},
		{"calendar.event.create", `{"title":"x","start":"2026-05-04T14:00:00+02:00","where":"office"}`},
		{"calendar.event.list", `{"from":"2026-05-05T00:00:00Z","to":"2026-05-04T00:00:00Z"}`},
	} {
		if err := rejects(p, c.action, c.target); err == nil {
			t.Errorf("%s %s was accepted", c.action, c.target)
		} else {
			t.Logf("%s %s: %v", c.action, c.target, err)
		}
	}
}

// TestFileCalendarConcurrentWriters adds events from two modules (as two
// noema processes would) at once; the lock keeps every one.
func TestFileCalendarConcurrentWriters(t *testing.T) {
	home := t.TempDir()
	a, b := New(Options{Home: home}), New(Options{Home: home})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 10; i++ {
		for _, m := range []*Module{a, b} {
			wg.Add(1)
			go func(m *Module, i int) {
				defer wg.Done()
				cal, err := m.calendar()
				if err != nil {
					errs <- err
					return
				}
				start := time.Date(2026, 5, 4, 8+i, 0, 0, 0, time.UTC)
				uid := "c-" + time.Now().Format("150405.000000000") + "-" + string(rune('a'+i))
				_, err = cal.Put(ctx, uid, newEvent(uid, "e", start, start.Add(time.Hour), start))
				errs <- err
			}(m, i)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cal, _ := a.calendar()
	evs, _, err := cal.Between(ctx, time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 20 {
		t.Fatalf("%d events after 20 concurrent adds", len(evs))
	}
}

func TestTimeWithoutOffsetIsLocal(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	_, start, end, err := createTarget{Title: "x", Start: "2026-05-04T14:00:00", DurationMinutes: 30}.resolve(berlin)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC); !start.Equal(want) || end.Sub(start) != 30*time.Minute {
		t.Fatalf("start %s end %s, want %s", start, end, want)
	}
	if _, _, _, err := (createTarget{Title: "x", Start: "next tuesday"}).resolve(berlin); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Fatalf("unreadable time: %v", err)
	}
}
