package system

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

// serviceH is one of service.start, service.stop, service.restart and
// service.status.
type serviceH struct {
	m    *Module
	verb string
}

type serviceTarget struct {
	Unit  string `json:"unit"`
	Scope string `json:"scope,omitempty"` // "system" (default) or "user"
}

// serviceState is the pre-state of start and stop: whether the unit was
// running, which undo restores.
type serviceState struct {
	Unit        string `json:"unit"`
	Scope       string `json:"scope"`
	ActiveState string `json:"active_state"`
	WasRunning  bool   `json:"was_running"`
}

var stoppedStates = []string{"inactive", "failed"}

// settleTimeout bounds how long verification waits for a unit to reach
// the state its finished job left it heading for.
const settleTimeout = 5 * time.Second

func (h *serviceH) Manifest() action.Manifest {
	schema := adapter.Schema([]string{"unit"}, map[string]any{
		"unit": map[string]any{
			"type": "string", "minLength": 1, "maxLength": 255, "pattern": `^[A-Za-z0-9:_.\\@-]+$`,
			"description": "systemd unit name; without a unit suffix, .service is added",
		},
		"scope": map[string]any{
			"type": "string", "enum": []string{"system", "user"}, "default": "system",
			"description": "system units (the system manager) or the user's own units",
		},
	})
	m := action.Manifest{
		Name: "service." + h.verb, Schema: schema, Owner: "system",
		Aliases: []string{"systemctl " + h.verb, "service " + h.verb, "daemon", "systemd unit"},
	}
	switch h.verb {
	case "start":
		m.Title = "Start a service"
		m.Description = "Start a systemd unit through the service manager's D-Bus API and wait for the start job to finish. System units need privileges."
		m.Risk = action.Risk{Privileged: true}
		m.Verification = "reads the unit's ActiveState back from systemd and expects active"
		m.Rollback = action.IdempotentReverse
		m.RollbackNote = "undo stops the unit again if it was not running before"
		m.Utterances = []string{
			"(start|launch|bring up|fire up) [the] {unit} [service|daemon|unit]",
			"(turn|switch) on [the] {unit} (service|daemon|server)",
			"(get|make) [the] {unit} [service] (running|go)",
			"(start|launch) [the] (service|daemon|unit) {unit}",
		}
		m.Examples = []action.Example{
			{Text: "start nginx", Target: json.RawMessage(`{"unit":"nginx"}`)},
			{Text: "bring up the cups service", Target: json.RawMessage(`{"unit":"cups"}`)},
			{Text: "start my user unit syncthing", Target: json.RawMessage(`{"unit":"syncthing","scope":"user"}`)},
		}
	case "stop":
		m.Title = "Stop a service"
		m.Description = "Stop a systemd unit through the service manager's D-Bus API and wait for the stop job to finish. Whatever depends on it stops working. System units need privileges."
		m.Risk = action.Risk{Destructive: true, Privileged: true}
		m.Verification = "reads the unit's ActiveState back from systemd and expects inactive (or failed)"
		m.Rollback = action.IdempotentReverse
		m.RollbackNote = "undo starts the unit again if it was running before; the old process's in-memory state is not restored"
		m.Utterances = []string{
			"(stop|halt|shut down|bring down|kill) [the] {unit} (service|daemon|unit)",
			"(stop|halt|shut down|bring down) [the] {unit}",
			"(turn|switch) off [the] {unit} (service|daemon)",
			"(stop|halt) [the] (service|daemon|unit) {unit}",
		}
		m.Examples = []action.Example{
			{Text: "stop apache2", Target: json.RawMessage(`{"unit":"apache2"}`)},
			{Text: "shut down the bluetooth service", Target: json.RawMessage(`{"unit":"bluetooth"}`)},
		}
	case "restart":
		m.Title = "Restart a service"
		m.Description = "Restart a systemd unit (stop, then start; a stopped unit is just started) and wait for the job to finish. System units need privileges."
		m.Risk = action.Risk{Destructive: true, Privileged: true}
		m.Verification = "reads the unit's ActiveState back from systemd and expects active"
		m.Rollback = action.RollbackNone
		m.RollbackNote = "a restart cannot be taken back: the old process and its in-memory state are gone, and the unit runs either way"
		m.Utterances = []string{
			"(restart|bounce|relaunch|cycle) [the] {unit} [service|daemon|unit]",
			"(restart|bounce) [the] (service|daemon|unit) {unit}",
			"(stop and start|turn off and on) [again] [the] {unit} [service]",
			"give [the] {unit} [service] a restart",
		}
		m.Examples = []action.Example{
			{Text: "restart nginx", Target: json.RawMessage(`{"unit":"nginx"}`)},
			{Text: "bounce the ssh daemon", Target: json.RawMessage(`{"unit":"ssh"}`)},
			{Text: "restart the network manager service", Target: json.RawMessage(`{"unit":"NetworkManager"}`)},
		}
	case "status":
		m.Title = "Show a service's status"
		m.Description = "Report whether a systemd unit is known, loaded and running, read from the service manager over D-Bus."
		m.Verification = "reads the unit from systemd again and expects the same load and active state"
		m.Rollback = action.RollbackNone
		m.RollbackNote = "a query changes nothing"
		m.ReadOnly = true
		m.Utterances = []string{
			"is [the] {unit} [service|daemon] (running|up|active|alive|working|on)",
			"(status|state) of [the] {unit} [service|daemon|unit]",
			"(check|show|what is|what's) [the] (status|state) of [the] {unit} [service]",
			"(check|show) [the] {unit} [service] (status|state)",
			"did [the] {unit} [service] (start|fail|crash)",
		}
		m.Examples = []action.Example{
			{Text: "is docker running", Target: json.RawMessage(`{"unit":"docker"}`)},
			{Text: "check the status of cron", Target: json.RawMessage(`{"unit":"cron"}`)},
		}
		m.Aliases = append(m.Aliases, "service state", "is it running")
	}
	return m
}

func (h *serviceH) target(req *action.Request) (serviceTarget, error) {
	var t serviceTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	u, err := normalizeUnit(t.Unit)
	if err != nil {
		return t, fmt.Errorf("%s: %w", req.Action, err)
	}
	t.Unit = u
	switch t.Scope {
	case "":
		t.Scope = "system"
	case "system", "user":
	default:
		return t, fmt.Errorf("%s: scope %q is neither system nor user", req.Action, t.Scope)
	}
	return t, nil
}

func (m *Module) busFor(scope string) *lazyBus {
	if scope == "user" {
		return m.session
	}
	return m.system
}

// Risk drops Privileged for the user's own units and Destructive for an
// undo, which only puts back the state from before.
func (h *serviceH) Risk(req *action.Request) action.Risk {
	r := h.Manifest().Risk
	if t, err := h.target(req); err == nil && t.Scope == "user" {
		r.Privileged = false
	}
	if req.Undo != nil {
		r.Destructive = false
	}
	return r
}

// wantRunning says what start, stop and their undos leave the unit as.
func (h *serviceH) wantRunning(req *action.Request) (bool, error) {
	if req.Undo != nil {
		var st serviceState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return false, err
		}
		return st.WasRunning, nil
	}
	return h.verb != "stop", nil
}

func (h *serviceH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	cur, err := readUnit(ctx, h.m.busFor(t.Scope), t.Unit)
	if err != nil {
		return nil, err
	}
	c := action.Change{Subject: t.Unit, Old: cur.ActiveState}
	if h.verb == "status" {
		c.Note = "read only"
		return []action.Change{c}, nil
	}
	if !cur.Found() {
		return nil, fmt.Errorf("systemd has no unit %s", t.Unit)
	}
	switch h.verb {
	case "restart":
		c.New = "active (restarted)"
		return []action.Change{c}, nil
	}
	want, err := h.wantRunning(req)
	if err != nil {
		return nil, err
	}
	c.New = "inactive"
	if want {
		c.New = "active"
	}
	if running(cur.ActiveState) == want {
		c.Note = "already so; nothing to do"
	}
	return []action.Change{c}, nil
}

func stateProbe(t serviceTarget, states ...string) verify.Spec {
	return verify.Probe("service.state", ServiceStateArgs{Unit: t.Unit, Scope: t.Scope, States: states})
}

func settle(s verify.Spec) verify.Spec {
	return verify.Spec{Eventually: &verify.Eventually{Spec: s, Timeout: verify.Duration(settleTimeout), Interval: verify.Duration(100 * time.Millisecond)}}
}

func (h *serviceH) Verification(req *action.Request) (verify.Spec, error) {
	t, err := h.target(req)
	if err != nil {
		return verify.Spec{}, err
	}
	switch h.verb {
	case "status":
		// systemd answers for the unit; the outcome adds the state seen.
		return stateProbe(t), nil
	case "restart":
		return settle(stateProbe(t, "active")), nil
	}
	want, err := h.wantRunning(req)
	if err != nil {
		return verify.Spec{}, err
	}
	if want {
		return settle(stateProbe(t, "active")), nil
	}
	return settle(stateProbe(t, stoppedStates...)), nil
}

func (h *serviceH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	bus := h.m.busFor(t.Scope)
	pre, err := readUnit(ctx, bus, t.Unit)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if h.verb == "status" {
		return h.status(t, pre), nil
	}
	if !pre.Found() {
		return adapter.Outcome{}, fmt.Errorf("systemd has no unit %s (is it installed?)", t.Unit)
	}
	method := "RestartUnit"
	if h.verb != "restart" {
		want, err := h.wantRunning(req)
		if err != nil {
			return adapter.Outcome{}, err
		}
		if running(pre.ActiveState) == want {
			return adapter.Outcome{Result: map[string]any{
				"unit": t.Unit, "scope": t.Scope, "active_state": pre.ActiveState, "changed": false,
			}}, nil
		}
		method = "StopUnit"
		if want {
			method = "StartUnit"
		}
	}
	var preState any
	if h.verb != "restart" && req.Undo == nil {
		preState = serviceState{Unit: t.Unit, Scope: t.Scope, ActiveState: pre.ActiveState, WasRunning: running(pre.ActiveState)}
	}
	job, result, err := runJob(ctx, bus, method, t.Unit, h.m.opts.JobTimeout)
	if err != nil {
		if job == "" {
			preState = nil // nothing was queued, so nothing to roll back
		}
		return adapter.Outcome{PreState: preState}, err
	}
	if result != "done" {
		return adapter.Outcome{PreState: preState},
			fmt.Errorf("systemd: %s %s finished with result %q (see journalctl -u %s)", method, t.Unit, result, t.Unit)
	}
	post, err := readUnit(ctx, bus, t.Unit)
	if err != nil {
		return adapter.Outcome{PreState: preState}, err
	}
	return adapter.Outcome{
		Result: map[string]any{
			"unit": t.Unit, "scope": t.Scope, "old": pre.ActiveState, "new": post.ActiveState,
			"sub_state": post.SubState, "job": job, "job_result": result, "changed": true,
		},
		PreState: preState,
	}, nil
}

// status answers service.status and adds a check that systemd still
// reports what was answered.
func (h *serviceH) status(t serviceTarget, st unitState) adapter.Outcome {
	st.Unit = t.Unit
	res := map[string]any{
		"unit": t.Unit, "scope": t.Scope, "found": st.Found(), "running": running(st.ActiveState),
		"load_state": st.LoadState, "active_state": st.ActiveState,
	}
	if st.SubState != "" {
		res["sub_state"] = st.SubState
	}
	if st.Description != "" {
		res["description"] = st.Description
	}
	check := ServiceStateArgs{Unit: t.Unit, Scope: t.Scope, LoadState: st.LoadState}
	switch st.ActiveState {
	case "active", "inactive", "failed":
		check.States = []string{st.ActiveState}
	}
	return adapter.Outcome{Result: res, Verification: verify.Probe("service.state", check)}
}

// ServiceStateArgs expect a unit's ActiveState to be one of States (any
// state, when empty: then systemd only has to answer) and, when set, its
// LoadState. The module's own bus addresses are used, so the check reads
// the same systemd the action talked to.
type ServiceStateArgs struct {
	Unit      string   `json:"unit"`
	Scope     string   `json:"scope,omitempty"`
	States    []string `json:"states,omitempty"`
	LoadState string   `json:"load_state,omitempty"`
}

func (m *Module) probeServiceState(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a ServiceStateArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, probeErr("service.state", err)
	}
	unit, err := normalizeUnit(a.Unit)
	if err != nil {
		return verify.Observation{}, probeErr("service.state", err)
	}
	st, err := readUnit(ctx, m.busFor(a.Scope), unit)
	if err != nil {
		return verify.Observation{}, err
	}
	obs := map[string]string{"load_state": st.LoadState, "active_state": st.ActiveState}
	pass := (len(a.States) == 0 || slices.Contains(a.States, st.ActiveState)) && (a.LoadState == "" || a.LoadState == st.LoadState)
	detail := fmt.Sprintf("%s is %s (%s)", unit, st.ActiveState, st.LoadState)
	if len(a.States) > 0 {
		detail += fmt.Sprintf(", want %v", a.States)
	}
	if a.LoadState != "" {
		detail += ", load state want " + a.LoadState
	}
	return verify.Observation{Pass: pass, Observed: obs, Detail: detail}, nil
}
