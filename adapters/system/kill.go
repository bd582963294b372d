package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type processKillH struct{ m *Module }

type killTarget struct {
	PID   int    `json:"pid,omitempty"`
	Name  string `json:"name,omitempty"`
	Force bool   `json:"force,omitempty"`
}

func (h *processKillH) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "process.kill",
		Title: "End a process",
		Description: "Ask a process (by pid) or every process of a name to terminate with SIGTERM and wait for it to exit; " +
			"with force, send SIGKILL to what is still running after the wait. Refuses init, kernel threads and Noema itself.",
		Schema: adapter.Schema(nil, map[string]any{
			"pid":   map[string]any{"type": "integer", "minimum": 1, "maximum": 4194304, "description": "process id"},
			"name":  map[string]any{"type": "string", "minLength": 1, "maxLength": 64, "pattern": `^[^/\x00]+$`, "description": "program name; every process of that name is ended"},
			"force": map[string]any{"type": "boolean", "default": false, "description": "send SIGKILL if SIGTERM did not end it in time"},
		}, map[string]any{"oneOf": []any{
			map[string]any{"required": []string{"pid"}},
			map[string]any{"required": []string{"name"}},
		}}),
		Risk:         action.Risk{Destructive: true},
		Verification: "reads /proc until the process (this very instance, by its start time) is gone",
		Rollback:     action.RollbackNone,
		RollbackNote: "a stopped process cannot be brought back with its state; start the program again instead",
		Utterances: []string{
			"(kill|end|terminate|stop|close) [the] (process|pid) [id|number] {pid}",
			"(kill|end|terminate|quit|close) [all] [the] {name} [process|processes|program]",
			"(kill|end|terminate|stop|close|quit) [the] (process|program|app|application) [named|called] {name}",
			"(force kill|force quit|kill -9|end task) [the] {name}",
			"(force kill|force quit) [the] process {pid}",
			"make {name} (stop|quit|exit)",
		},
		Examples: []action.Example{
			{Text: "kill firefox", Target: json.RawMessage(`{"name":"firefox"}`)},
			{Text: "terminate process 4242", Target: json.RawMessage(`{"pid":4242}`)},
			{Text: "force quit slack", Target: json.RawMessage(`{"name":"slack","force":true}`)},
		},
		Aliases: []string{"kill", "pkill", "killall", "end task", "force quit", "terminate"},
		Owner:   "system",
	}
}

func (h *processKillH) target(req *action.Request) (killTarget, error) {
	var t killTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	switch {
	case (t.PID > 0) == (t.Name != ""):
		return t, errors.New("process.kill: give either pid or name")
	case t.PID < 0:
		return t, fmt.Errorf("process.kill: pid %d is not a process id", t.PID)
	case strings.ContainsAny(t.Name, "/\x00"):
		return t, fmt.Errorf("process.kill: %q is not a program name", t.Name)
	}
	return t, nil
}

// resolve finds the processes a target names.
func (m *Module) resolve(t killTarget) ([]proc, error) {
	if t.PID > 0 {
		p, err := m.readProc(t.PID)
		if err != nil || p.Dead() {
			return nil, fmt.Errorf("no process with pid %d is running", t.PID)
		}
		return []proc{p}, nil
	}
	all, err := m.allProcs()
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, p := range all {
		if !p.Dead() && p.matchesName(t.Name) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no process named %q is running", t.Name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// refuse says why a process must not be signalled, or "".
func refuse(p proc) string {
	switch {
	case p.PID == 1:
		return "it is init, whose end takes the whole system down"
	case p.Kernel():
		return "it is a kernel thread"
	case p.PID == os.Getpid():
		return "it is Noema itself"
	case p.PID == os.Getppid():
		return "it is the process that started Noema"
	}
	return ""
}

func (h *processKillH) Risk(req *action.Request) action.Risk {
	r := h.Manifest().Risk
	t, err := h.target(req)
	if err != nil {
		return r
	}
	ps, err := h.m.resolve(t)
	if err != nil {
		return r
	}
	for _, p := range ps {
		if p.UID != os.Getuid() {
			r.Privileged = true // another user's process
		}
	}
	return r
}

func (h *processKillH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	ps, err := h.m.resolve(t)
	if err != nil {
		return nil, err
	}
	names := userNames{}
	how := "terminated (SIGTERM)"
	if t.Force {
		how = fmt.Sprintf("terminated (SIGTERM, then SIGKILL after %v)", h.m.opts.KillTimeout)
	}
	var out []action.Change
	for _, p := range ps {
		c := action.Change{Subject: fmt.Sprintf("pid %d %s (%s)", p.PID, p.displayName(), names.name(p.UID)), Old: "running", New: how}
		if why := refuse(p); why != "" {
			c.New, c.Note = "refused", why
		}
		out = append(out, c)
	}
	return out, nil
}

func (h *processKillH) Verification(req *action.Request) (verify.Spec, error) {
	t, err := h.target(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Spec{Eventually: &verify.Eventually{
		Spec:     verify.Probe("process.gone", GoneArgs{PID: t.PID, Name: t.Name}),
		Timeout:  verify.Duration(settleTimeout),
		Interval: verify.Duration(50 * time.Millisecond),
	}}, nil
}

func (h *processKillH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		return adapter.Outcome{}, errors.New("process.kill cannot be undone: " + h.Manifest().RollbackNote)
	}
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	targets, err := h.m.resolve(t)
	if err != nil {
		return adapter.Outcome{}, err
	}
	for _, p := range targets {
		if why := refuse(p); why != "" {
			return adapter.Outcome{}, fmt.Errorf("refusing to signal pid %d (%s): %s", p.PID, p.displayName(), why)
		}
	}
	names := userNames{}
	var signalled []map[string]any
	var checks []verify.Spec
	for _, p := range targets {
		if err := h.m.signal(p, unix.SIGTERM); err != nil {
			return adapter.Outcome{}, fmt.Errorf("SIGTERM to pid %d (%s, user %s): %w", p.PID, p.displayName(), names.name(p.UID), err)
		}
		signalled = append(signalled, map[string]any{"pid": p.PID, "name": p.displayName(), "user": names.name(p.UID)})
		checks = append(checks, verify.Probe("process.gone", GoneArgs{PID: p.PID, StartTicks: p.StartTicks}))
	}
	left := h.m.wait(ctx, targets)
	var killed []int
	if len(left) > 0 && t.Force {
		for _, p := range left {
			if err := h.m.signal(p, unix.SIGKILL); err != nil {
				return adapter.Outcome{}, fmt.Errorf("SIGKILL to pid %d (%s): %w", p.PID, p.displayName(), err)
			}
			killed = append(killed, p.PID)
		}
		left = h.m.wait(ctx, left)
	}
	if len(left) > 0 {
		var still []string
		for _, p := range left {
			still = append(still, fmt.Sprintf("%d (%s)", p.PID, p.displayName()))
		}
		hint := "; ask again with force to send SIGKILL"
		if t.Force {
			hint = " even after SIGKILL (stuck in the kernel?)"
		}
		return adapter.Outcome{}, fmt.Errorf("still running %v after the signal: pid %s%s", h.m.opts.KillTimeout, strings.Join(still, ", "), hint)
	}
	res := map[string]any{"terminated": signalled}
	if len(killed) > 0 {
		res["sigkill"] = killed
	}
	return adapter.Outcome{Result: res, Verification: verify.AllOf(checks...)}, nil
}

// wait waits up to KillTimeout for targets to exit.
func (m *Module) wait(ctx context.Context, targets []proc) []proc {
	ctx, cancel := context.WithTimeout(ctx, m.opts.KillTimeout)
	defer cancel()
	return m.waitForExit(ctx, targets)
}

// signal sends sig to exactly the process instance p was read as. A
// pidfd pins the process, so a pid freed and reused between reading and
// signalling is noticed (by its start time) instead of hitting a
// stranger. Kernels without pidfds fall back to kill(2) after the same
// check.
func (m *Module) signal(p proc, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(p.PID, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil // already gone
	case errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL):
		if _, ok := m.alive(p.PID, p.StartTicks); !ok {
			return nil
		}
		return unix.Kill(p.PID, sig)
	case err != nil:
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(fd)
	if _, ok := m.alive(p.PID, p.StartTicks); !ok {
		return nil // exited, and the pid may already be someone else's
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	return nil
}

// GoneArgs expect a process to have exited: one instance (PID with
// StartTicks, or any process with PID when StartTicks is 0), or every
// process called Name.
type GoneArgs struct {
	PID        int    `json:"pid,omitempty"`
	StartTicks uint64 `json:"start_ticks,omitempty"`
	Name       string `json:"name,omitempty"`
}

func (m *Module) probeProcessGone(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a GoneArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, probeErr("process.gone", err)
	}
	if a.PID > 0 {
		st, ok := m.alive(a.PID, a.StartTicks)
		if ok {
			return verify.Observation{Pass: false, Observed: map[string]any{"pid": a.PID, "name": st.Comm, "state": string(st.State)},
				Detail: fmt.Sprintf("pid %d (%s) is still running", a.PID, st.Comm)}, nil
		}
		return verify.Observation{Pass: true, Detail: fmt.Sprintf("pid %d has exited", a.PID)}, nil
	}
	if a.Name == "" {
		return verify.Observation{}, errors.New("process.gone: needs pid or name")
	}
	all, err := m.allProcs()
	if err != nil {
		return verify.Observation{}, err
	}
	var still []int
	for _, p := range all {
		if !p.Dead() && p.matchesName(a.Name) {
			still = append(still, p.PID)
		}
	}
	if len(still) > 0 {
		return verify.Observation{Pass: false, Observed: still, Detail: fmt.Sprintf("%d process(es) named %q still running: %v", len(still), a.Name, still)}, nil
	}
	return verify.Observation{Pass: true, Detail: fmt.Sprintf("no process named %q is running", a.Name)}, nil
}
