package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type appLaunch struct{ m *Module }

type appTarget struct {
	App string `json:"app"`
}

// launchState names the started process for undo.
type launchState struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
	ID    string `json:"desktop_id"`
	Argv0 string `json:"argv0"`
}

func (h *appLaunch) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "desktop.app.launch",
		Title: "Open an application",
		Description: "Start an installed application, found by its desktop entry (name, generic name, keywords or desktop id) " +
			"in the XDG data directories, with the entry's Exec line as an argv; no shell is involved.",
		Schema: adapter.Schema([]string{"app"}, map[string]any{
			"app": map[string]any{"type": "string", "minLength": 1, "maxLength": 200,
				"description": "the application's name as shown in menus, its desktop id, or what it is (\"web browser\")"},
		}),
		Verification: "the started process is running (read from /proc), or it handed the request to a running instance and exited with status 0",
		Rollback:     action.IdempotentReverse,
		RollbackNote: "undo terminates the started process (SIGTERM to its process group)",
		Utterances: []string{
			"(open|launch|start|run) [the] {app} [app|application|program]",
			"(bring up|fire up|load) [the] {app}",
			"I (want|need) [to use] [the] {app}",
			"(open|start) [a|an|my] {app} [window]",
			"can you (open|start) {app} [for me]",
		},
		Examples: []action.Example{
			{Text: "open firefox", Target: json.RawMessage(`{"app":"firefox"}`)},
			{Text: "launch the text editor", Target: json.RawMessage(`{"app":"text editor"}`)},
			{Text: "start a terminal", Target: json.RawMessage(`{"app":"terminal"}`)},
		},
		Aliases: []string{"open app", "launch program", "start application", "run app"},
		Owner:   "desktop",
	}
}

func (h *appLaunch) target(req *action.Request) (appTarget, error) {
	var t appTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	if strings.TrimSpace(t.App) == "" {
		return t, errors.New("desktop.app.launch: no application named")
	}
	return t, nil
}

// command builds the argv for an entry, wrapping terminal programs in a
// terminal emulator.
func (h *appLaunch) command(e *desktopEntry) ([]string, error) {
	argv, err := splitExec(e.Exec, execContext{Icon: e.Icon, Name: e.Name, Path: e.Path})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Path, err)
	}
	if e.Terminal {
		term, err := terminal()
		if err != nil {
			return nil, fmt.Errorf("%s runs in a terminal: %w", e.Name, err)
		}
		argv = append(term, argv...)
	}
	return argv, nil
}

// terminal finds a terminal emulator that takes a program after -e.
func terminal() ([]string, error) {
	for _, t := range []string{"x-terminal-emulator", "xterm"} {
		if p, err := exec.LookPath(t); err == nil {
			return []string{p, "-e"}, nil
		}
	}
	return nil, errors.New("no terminal emulator (x-terminal-emulator or xterm) is installed")
}

func (h *appLaunch) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var st launchState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		old := "exited"
		if ps, ok, err := readProcStat(st.PID); err == nil && ok && ps.Start == st.Start && ps.alive() {
			old = "running"
		}
		return []action.Change{{Subject: fmt.Sprintf("process %d (%s)", st.PID, st.Argv0), Old: old, New: "terminated"}}, nil
	}
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	e, err := h.m.resolveApp(ctx, t.App)
	if err != nil {
		return nil, err
	}
	argv, err := h.command(e)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: "application " + e.Name, Old: "", New: fmt.Sprintf("started from %s: %s", e.ID, strings.Join(argv, " "))}}, nil
}

func (h *appLaunch) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st launchState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		gone := verify.Probe("app.process.gone", ProcessArgs{PID: st.PID, Start: st.Start})
		return verify.Spec{Eventually: &verify.Eventually{Spec: gone,
			Timeout: verify.Duration(5 * time.Second), Interval: verify.Duration(50 * time.Millisecond)}}, nil
	}
	t, err := h.target(req)
	if err != nil {
		return verify.Spec{}, err
	}
	// Which process proves the launch is known only once it started;
	// Execute adds that check.
	return verify.Probe("app.available", AppArgs{App: t.App}), nil
}

func (h *appLaunch) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var st launchState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return adapter.Outcome{}, err
		}
		return terminate(st)
	}
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	e, err := h.m.resolveApp(ctx, t.App)
	if err != nil {
		return adapter.Outcome{}, err
	}
	argv, err := h.command(e)
	if err != nil {
		return adapter.Outcome{}, err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return adapter.Outcome{}, fmt.Errorf("%s (%s): program %s: %w", e.Name, e.ID, argv[0], err)
	}
	dir := e.WorkDir
	if st, err := os.Stat(dir); dir == "" || !filepath.IsAbs(dir) || err != nil || !st.IsDir() {
		dir, _ = os.UserHomeDir()
	}
	cmd := &exec.Cmd{
		Path: path,
		Args: argv,
		Dir:  dir,
		Env:  append(append(os.Environ(), h.m.opts.Apps.Env...), "GIO_LAUNCHED_DESKTOP_FILE="+e.Path),
		// Its own session: no controlling terminal, and it outlives
		// Noema; standard streams are /dev/null.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		return adapter.Outcome{}, fmt.Errorf("start %s: %w", e.Name, err)
	}
	pid := cmd.Process.Pid
	ps, _, statErr := readProcStat(pid)
	proc := ProcessArgs{PID: pid, Start: ps.Start}
	exited := make(chan error, 1)
	// Reap it when it ends, so it never lingers as a zombie of a
	// long-running Noema, and note how it ended for app.launched.
	go func() {
		err := cmd.Wait()
		if statErr == nil {
			h.m.exits.record(proc, cmd.ProcessState.ExitCode())
		}
		exited <- err
	}()

	grace := h.m.opts.Apps.Grace
	if grace <= 0 {
		grace = 400 * time.Millisecond
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	res := map[string]any{"app": e.Name, "desktop_id": e.ID, "argv": argv, "pid": pid}
	select {
	case err := <-exited:
		if err != nil {
			return adapter.Outcome{}, fmt.Errorf("%s exited at once (%v); start %s from a terminal to see why", e.Name, err, argv[0])
		}
		// Single-instance programs pass the request to the running
		// instance and exit 0; there is no process of ours to stop.
		res["exit_status"] = 0
		res["note"] = "the program exited at once with status 0, which usually means an already running instance took over"
		if statErr != nil {
			return adapter.Outcome{Result: res, Verification: verify.Probe("value.equals", verify.ValueArgs{
				Name: "exit status of " + argv[0], Observed: 0, Expected: 0})}, nil
		}
		return adapter.Outcome{Result: res, Verification: verify.Probe("app.launched", proc)}, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	if statErr != nil {
		return adapter.Outcome{}, fmt.Errorf("started %s as pid %d but cannot read it back: %w", e.Name, pid, statErr)
	}
	return adapter.Outcome{
		Result:       res,
		PreState:     launchState{PID: pid, Start: ps.Start, ID: e.ID, Argv0: argv[0]},
		Verification: verify.Probe("app.launched", proc),
	}, nil
}

// terminate ends a launched process: SIGTERM to its process group (it
// leads one, so helpers it started end too), letting it save and close.
func terminate(st launchState) (adapter.Outcome, error) {
	ps, ok, err := readProcStat(st.PID)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if !ok || ps.Start != st.Start || !ps.alive() {
		return adapter.Outcome{Result: map[string]any{"pid": st.PID, "note": "the program had already exited"}}, nil
	}
	target := st.PID
	if ps.PGID == st.PID {
		target = -st.PID
	}
	if err := syscall.Kill(target, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return adapter.Outcome{}, fmt.Errorf("terminate pid %d: %w", st.PID, err)
	}
	return adapter.Outcome{Result: map[string]any{"pid": st.PID, "signal": "SIGTERM", "process_group": target < 0}}, nil
}

// AppArgs name an application that must resolve to a launchable entry.
type AppArgs struct {
	App string `json:"app"`
}

func (m *Module) probeAppAvailable(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a AppArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("app.available: %w", err)
	}
	e, err := m.resolveApp(ctx, a.App)
	if err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	return verify.Observation{Pass: true, Observed: map[string]string{"desktop_id": e.ID, "name": e.Name},
		Detail: fmt.Sprintf("%q is %s (%s)", a.App, e.Name, e.ID)}, nil
}
