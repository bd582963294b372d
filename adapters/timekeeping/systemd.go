package timekeeping

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// SystemdOptions configure transient systemd user timers, which deliver a
// reminder even when the daemon is not running. They are a second path
// only: the Scheduler catches up on everything at start, and the claim in
// the database keeps the two from both delivering.
type SystemdOptions struct {
	// Command is the program a timer runs, with the item's id appended:
	// {"/usr/bin/noema", "notify"} runs `noema notify rem_…`. Empty turns
	// systemd timers off.
	Command []string
	// RuntimeDir is $XDG_RUNTIME_DIR, where a running user manager has
	// its socket (default from the environment).
	RuntimeDir string
	// SystemdRun and Systemctl are the programs (default from PATH).
	SystemdRun, Systemctl string
}

type systemdTimers struct{ opts SystemdOptions }

func newSystemdTimers(opts SystemdOptions) *systemdTimers {
	if opts.RuntimeDir == "" {
		opts.RuntimeDir = os.Getenv("XDG_RUNTIME_DIR")
	}
	if opts.SystemdRun == "" {
		opts.SystemdRun = "systemd-run"
	}
	if opts.Systemctl == "" {
		opts.Systemctl = "systemctl"
	}
	return &systemdTimers{opts: opts}
}

// available reports whether timers are wanted and a user manager runs:
// its private socket exists and systemd-run is installed.
func (s *systemdTimers) available() (bool, string) {
	if len(s.opts.Command) == 0 {
		return false, "systemd timers are off (no notify command configured)"
	}
	if s.opts.RuntimeDir == "" {
		return false, "no XDG_RUNTIME_DIR, so no systemd user manager"
	}
	if fi, err := os.Stat(filepath.Join(s.opts.RuntimeDir, "systemd", "private")); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return false, "no systemd user manager is running"
	}
	if _, err := exec.LookPath(s.opts.SystemdRun); err != nil {
		return false, "systemd-run is not installed"
	}
	return true, ""
}

// unitName is the transient unit for an item.
func unitName(id string) string { return "noema-reminder-" + strings.ToLower(id) }

// runArgs is the systemd-run command line for an item due at due.
func (s *systemdTimers) runArgs(id string, due time.Time) []string {
	args := []string{
		"--user", "--unit=" + unitName(id), "--collect",
		"--description=Noema reminder " + id,
		"--on-calendar=" + due.UTC().Format("2006-01-02 15:04:05") + " UTC",
		"--timer-property=AccuracySec=1s",
		"--",
	}
	args = append(args, s.opts.Command...)
	return append(args, id)
}

// schedule creates the timer for an item. A failure is reported, not
// fatal: the Scheduler remains the primary path.
func (s *systemdTimers) schedule(ctx context.Context, id string, due time.Time) (unit, note string) {
	if ok, why := s.available(); !ok {
		return "", why
	}
	if time.Until(due) < 2*time.Second {
		return "", "due now; the scheduler delivers it"
	}
	cmd := exec.CommandContext(ctx, s.opts.SystemdRun, s.runArgs(id, due)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Sprintf("systemd-run failed: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return unitName(id), ""
}

// cancel stops an item's timer; a timer already gone is fine.
func (s *systemdTimers) cancel(ctx context.Context, unit string) {
	if unit == "" {
		return
	}
	if ok, _ := s.available(); !ok {
		return
	}
	// Only the timer: its service may be the very `noema notify` that
	// delivered the item, and it ends by itself.
	exec.CommandContext(ctx, s.opts.Systemctl, "--user", "stop", unit+".timer").Run()
}
