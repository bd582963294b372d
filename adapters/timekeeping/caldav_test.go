package timekeeping

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
)

// radicale is a real CalDAV server (Debian package radicale) on 127.0.0.1.
type radicale struct {
	URL string
}

// startRadicale runs Radicale with a temporary storage folder. With
// htpasswd non-empty it checks "user:password" lines (plain text);
// otherwise it accepts any credentials.
func startRadicale(t *testing.T, htpasswd string) *radicale {
	t.Helper()
	py := pythonWith(t, "radicale", "radicale")
	dir := t.TempDir()
	port := freePort(t)
	args := []string{"-m", "radicale",
		"--server-hosts", fmt.Sprintf("127.0.0.1:%d", port),
		"--storage-filesystem-folder", filepath.Join(dir, "collections"),
		"--logging-level", "warning",
	}
	if htpasswd != "" {
		file := filepath.Join(dir, "users")
		if err := os.WriteFile(file, []byte(htpasswd+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--auth-type", "htpasswd", "--auth-htpasswd-filename", file, "--auth-htpasswd-encryption", "plain", "--auth-delay", "0")
	} else {
		args = append(args, "--auth-type", "none")
	}
	cmd := exec.Command(py, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start radicale: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("radicale log:\n%s", log.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, 30*time.Second, "radicale to listen on "+addr, func() bool {
		select {
		case <-exited:
			t.Fatalf("radicale exited:\n%s", log.String())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return &radicale{URL: "http://" + addr + "/"}
}

// request sends one request to the server, as a client other than Noema.
func (r *radicale) request(t *testing.T, method, path, user, pass, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(r.URL, "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *radicale) mkcalendar(t *testing.T, path, user, pass string) {
	t.Helper()
	if code, body := r.request(t, "MKCALENDAR", path, user, pass, ""); code != http.StatusCreated {
		t.Fatalf("MKCALENDAR %s: %d %s", path, code, body)
	}
}

func TestCalDAVCreateListUndo(t *testing.T) {
	srv := startRadicale(t, "")
	srv.mkcalendar(t, "/alice/work/", "alice", "any")
	// An event another client put there.
	other := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\nBEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260302T080000Z\r\nDTEND:20260302T083000Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if code, body := srv.request(t, http.MethodPut, "/alice/work/weekly-1.ics", "alice", "any", other); code != http.StatusCreated {
		t.Fatalf("PUT other event: %d %s", code, body)
	}

	// No calendar path: the module discovers /alice/work/.
	m := New(Options{Home: t.TempDir(), CalDAV: CalDAVOptions{URL: srv.URL, User: "alice", Password: "any"}})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "calendar.event.create", `{"title":"Review, part 2","start":"2026-05-04T10:00:00+02:00","duration_minutes":30}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	res := result(t, env)
	uid := res["uid"].(string)
	if !strings.Contains(res["calendar"].(string), "/alice/work/") {
		t.Errorf("event went to %v, want the discovered /alice/work/", res["calendar"])
	}

	// Read it back as another client would.
	code, body := srv.request(t, http.MethodGet, "/alice/work/"+uid+".ics", "alice", "any", "")
	if code != http.StatusOK {
		t.Fatalf("GET the new event: %d %s", code, body)
	}
	for _, want := range []string{"UID:" + uid, `SUMMARY:Review\, part 2`, "DTSTART:20260504T080000Z", "DTEND:20260504T083000Z"} {
		if !strings.Contains(body, want) {
			t.Errorf("server copy lacks %q:\n%s", want, body)
		}
	}

	list := p.Do(t, "calendar.event.list", `{"from":"2026-05-04T00:00:00Z","to":"2026-05-05T00:00:00Z"}`)
	pipelinetest.RequireState(t, list, action.Succeeded)
	var got []string
	for _, e := range result(t, list)["events"].([]any) {
		ev := e.(map[string]any)
		got = append(got, fmt.Sprintf("%s@%s", ev["title"], ev["start"]))
	}
	at8 := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC).In(time.Local).Format(time.RFC3339)
	want := "Review, part 2@" + at8 + ",Standup@" + at8
	if strings.Join(got, ",") != want {
		t.Errorf("listed %v, want %s", got, want)
	}

	undo := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, undo, action.Succeeded)
	if code, _ := srv.request(t, http.MethodGet, "/alice/work/"+uid+".ics", "alice", "any", ""); code != http.StatusNotFound {
		t.Fatalf("event still on the server after undo: %d", code)
	}
	if code, _ := srv.request(t, http.MethodGet, "/alice/work/weekly-1.ics", "alice", "any", ""); code != http.StatusOK {
		t.Fatalf("undo touched the other client's event: %d", code)
	}
	p.Verify(t)
}

func TestCalDAVAuthentication(t *testing.T) {
	srv := startRadicale(t, "bob:s3cret")
	srv.mkcalendar(t, "/bob/cal/", "bob", "s3cret")

	wrong := New(Options{Home: t.TempDir(), CalDAV: CalDAVOptions{URL: srv.URL, User: "bob", Password: "wrong", CalendarPath: "/bob/cal/"}})
	t.Cleanup(func() { wrong.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, wrong)
	env := p.Do(t, "calendar.event.create", `{"title":"x","start":"2026-05-04T10:00:00Z"}`)
	requireFailed(t, env, "401")
	if strings.Contains(string(env.Execution.Result)+env.Execution.Error.Message, "s3cret") || strings.Contains(env.Execution.Error.Message, "wrong") {
		t.Errorf("the password reached the record: %s", env.Execution.Error.Message)
	}

	right := New(Options{Home: t.TempDir(), CalDAV: CalDAVOptions{URL: srv.URL, User: "bob", Password: "s3cret", CalendarPath: "/bob/cal"}})
	t.Cleanup(func() { right.Close() })
	p2 := pipelinetest.New(t, pipelinetest.Options{}, right)
	env = p2.Do(t, "calendar.event.create", `{"title":"x","start":"2026-05-04T10:00:00Z"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	pipelinetest.RequireState(t, p2.Undo(t, env.Identity.ActionID), action.Succeeded)
}

func TestCalDAVMissingCalendarAndServer(t *testing.T) {
	srv := startRadicale(t, "")
	m := New(Options{Home: t.TempDir(), CalDAV: CalDAVOptions{URL: srv.URL, User: "carol", Password: "x", CalendarPath: "/carol/nope/"}})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	requireFailed(t, p.Do(t, "calendar.event.create", `{"title":"x","start":"2026-05-04T10:00:00Z"}`), "CalDAV")

	// Discovery with no calendar at all.
	m2 := New(Options{Home: t.TempDir(), CalDAV: CalDAVOptions{URL: srv.URL, User: "dave", Password: "x"}})
	t.Cleanup(func() { m2.Close() })
	p2 := pipelinetest.New(t, pipelinetest.Options{}, m2)
	requireFailed(t, p2.Do(t, "calendar.event.list", `{}`), "no calendar for events")

	// Nothing listening.
	down := New(Options{Home: t.TempDir(), CalDAV: CalDAVOptions{URL: fmt.Sprintf("http://127.0.0.1:%d/", freePort(t)), CalendarPath: "/x/y/", Timeout: 5 * time.Second}})
	t.Cleanup(func() { down.Close() })
	p3 := pipelinetest.New(t, pipelinetest.Options{}, down)
	requireFailed(t, p3.Do(t, "calendar.event.create", `{"title":"x","start":"2026-05-04T10:00:00Z"}`), "unreachable")
	requireFailed(t, p3.Do(t, "calendar.event.list", `{}`), "unreachable")
}

func TestCalDAVRejectsCredentialsInURL(t *testing.T) {
	m := New(Options{CalDAV: CalDAVOptions{URL: "http://u:p@127.0.0.1:1/"}})
	if _, err := m.calendar(); err == nil || strings.Contains(err.Error(), "u:p") {
		t.Fatalf("URL with credentials: %v", err)
	}
}
