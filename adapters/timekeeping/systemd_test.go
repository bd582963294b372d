package timekeeping

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
)

func TestSystemdRunArgs(t *testing.T) {
	s := newSystemdTimers(SystemdOptions{Command: []string{"/usr/bin/noema", "notify"}})
	due := time.Date(2026, 5, 4, 14, 0, 5, 0, time.FixedZone("CEST", 2*3600))
	got := strings.Join(s.runArgs("rem_01ABC", due), " ")
	want := "--user --unit=noema-reminder-rem_01abc --collect --description=Noema reminder rem_01ABC " +
		"--on-calendar=2026-05-04 12:00:05 UTC --timer-property=AccuracySec=1s -- /usr/bin/noema notify rem_01ABC"
	if got != want {
		t.Fatalf("systemd-run args\n got %s\nwant %s", got, want)
	}
}

func TestSystemdAvailability(t *testing.T) {
	if ok, why := newSystemdTimers(SystemdOptions{RuntimeDir: t.TempDir()}).available(); ok || !strings.Contains(why, "off") {
		t.Errorf("no command: %v %q", ok, why)
	}
	dir := t.TempDir()
	if ok, why := newSystemdTimers(SystemdOptions{Command: []string{"noema", "notify"}, RuntimeDir: dir}).available(); ok || !strings.Contains(why, "no systemd user manager") {
		t.Errorf("no manager socket: %v %q", ok, why)
	}
	// A socket where the manager's would be, but no systemd-run.
	os.MkdirAll(filepath.Join(dir, "systemd"), 0o700)
	l, err := net.Listen("unix", filepath.Join(dir, "systemd", "private"))
	if err != nil {
		t.Skipf("cannot create a unix socket: %v", err)
	}
	defer l.Close()
	if ok, why := newSystemdTimers(SystemdOptions{Command: []string{"noema", "notify"}, RuntimeDir: dir, SystemdRun: "/nonexistent/systemd-run"}).available(); ok || !strings.Contains(why, "systemd-run") {
		t.Errorf("no systemd-run: %v %q", ok, why)
	}
}

// TestSystemdUserTimer creates a real transient timer where a systemd user
// manager runs, and checks that undo removes it.
func TestSystemdUserTimer(t *testing.T) {
	s := newSystemdTimers(SystemdOptions{Command: []string{"/bin/true"}})
	if ok, why := s.available(); !ok {
		t.Skipf("needs a running systemd user manager: %s", why)
	}
	home := t.TempDir()
	m := New(Options{Home: home, Systemd: SystemdOptions{Command: []string{"/bin/true"}}})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "reminder.create", `{"text":"systemd","at":"`+time.Now().Add(time.Hour).Format(time.RFC3339)+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	unit, _ := result(t, env)["systemd_timer"].(string)
	if unit == "" {
		t.Fatalf("no timer created: %s", env.Execution.Result)
	}
	active := func() string {
		out, _ := exec.CommandContext(context.Background(), "systemctl", "--user", "is-active", unit+".timer").Output()
		return strings.TrimSpace(string(out))
	}
	if got := active(); got != "active" {
		t.Fatalf("%s.timer is %q", unit, got)
	}
	pipelinetest.RequireState(t, p.Undo(t, env.Identity.ActionID), action.Succeeded)
	if got := active(); got == "active" {
		t.Fatalf("%s.timer still active after undo", unit)
	}
}
