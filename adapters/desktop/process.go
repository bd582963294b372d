package desktop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/noema-project/noema/verify"
)

// procStat is what Noema reads of /proc/<pid>/stat.
type procStat struct {
	Comm  string
	State byte
	PGID  int
	// Start is the start time in clock ticks after boot; with the pid it
	// names one process, even after the pid is reused.
	Start uint64
}

// parseProcStat reads /proc/<pid>/stat. The command name sits in
// parentheses and may itself contain spaces and parentheses, so fields
// are counted from the last ')'.
func parseProcStat(data []byte) (procStat, error) {
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(data[end+1:]))
	// state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	// cmajflt utime stime cutime cstime priority nice num_threads
	// itrealvalue starttime
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat: pgrp %q", truncate(f[2], 20))
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat: starttime %q", truncate(f[19], 20))
	}
	return procStat{Comm: string(data[open+1 : end]), State: f[0][0], PGID: pgid, Start: start}, nil
}

// readProcStat returns a process's stat; ok is false if it does not
// exist.
func readProcStat(pid int) (procStat, bool, error) {
	if pid <= 0 {
		return procStat{}, false, fmt.Errorf("invalid pid %d", pid)
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return procStat{}, false, nil
	}
	if err != nil {
		return procStat{}, false, err
	}
	st, err := parseProcStat(data)
	if err != nil {
		return procStat{}, false, err
	}
	return st, true, nil
}

// alive reports whether st is a live process (not a zombie).
func (st procStat) alive() bool { return st.State != 'Z' && st.State != 'X' && st.State != 'x' }

// ProcessArgs name one process by pid and start time.
type ProcessArgs struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// processState reads whether the very process named is running: same
// pid, same start time, not a zombie.
func processState(a ProcessArgs) (running bool, detail string, err error) {
	st, ok, err := readProcStat(a.PID)
	if err != nil {
		return false, "", err
	}
	switch {
	case !ok:
		return false, fmt.Sprintf("process %d does not exist", a.PID), nil
	case st.Start != a.Start:
		return false, fmt.Sprintf("pid %d is now another process (%s)", a.PID, st.Comm), nil
	case !st.alive():
		return false, fmt.Sprintf("process %d (%s) has exited", a.PID, st.Comm), nil
	}
	return true, fmt.Sprintf("process %d (%s) is running", a.PID, st.Comm), nil
}

// probeLaunched passes while the launched process runs, or once it has
// exited with status 0 as this module saw when reaping it: a
// single-instance program hands the request to its running instance and
// exits, sometimes only after a second or two.
func (m *Module) probeLaunched(_ context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a ProcessArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("app.launched: %w", err)
	}
	running, detail, err := processState(a)
	if err != nil {
		return verify.Observation{}, fmt.Errorf("app.launched: %w", err)
	}
	if running {
		return verify.Observation{Pass: true, Observed: map[string]any{"pid": a.PID, "running": true}, Detail: detail}, nil
	}
	if status, ok := m.exits.lookup(a); ok {
		return verify.Observation{Pass: status == 0, Observed: map[string]any{"pid": a.PID, "running": false, "exit_status": status},
			Detail: fmt.Sprintf("process %d exited with status %d", a.PID, status)}, nil
	}
	return verify.Observation{Pass: false, Observed: map[string]any{"pid": a.PID, "running": false}, Detail: detail}, nil
}

// probeGone passes once the named process no longer runs.
func probeGone(_ context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a ProcessArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("app.process.gone: %w", err)
	}
	running, detail, err := processState(a)
	if err != nil {
		return verify.Observation{}, fmt.Errorf("app.process.gone: %w", err)
	}
	return verify.Observation{Pass: !running, Observed: map[string]any{"pid": a.PID, "running": running}, Detail: detail}, nil
}

// exitLog remembers how launched processes ended, for app.launched.
type exitLog struct {
	mu sync.Mutex
	m  map[ProcessArgs]exitRecord
}

type exitRecord struct {
	status int
	at     time.Time
}

// exitLogTTL bounds how long an exit is remembered; verification runs
// seconds after a launch.
const exitLogTTL = 10 * time.Minute

func (l *exitLog) record(p ProcessArgs, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.m == nil {
		l.m = map[ProcessArgs]exitRecord{}
	}
	for k, r := range l.m {
		if now.Sub(r.at) > exitLogTTL {
			delete(l.m, k)
		}
	}
	l.m[p] = exitRecord{status: status, at: now}
}

func (l *exitLog) lookup(p ProcessArgs) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[p]
	return r.status, ok
}
