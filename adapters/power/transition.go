package power

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/noema-project/noema/internal/platform/dbusconn"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

const probeLogind = "power.logind.accepted"

// sleepThreshold is how much the time asleep must grow before a suspend
// counts as observed; the two clock reads are microseconds apart, so any
// real suspend clears it by far.
const sleepThreshold = 250 * time.Millisecond

// logindAction is power.suspend, power.reboot or power.poweroff.
type logindAction struct {
	m    *Module
	kind kind
}

func (h *logindAction) Manifest() action.Manifest {
	info := h.kind.info()
	m := action.Manifest{
		Name:         info.action,
		Schema:       adapter.Schema(nil, map[string]any{}),
		Verification: "logind reports the transition under way (" + info.preparing + "), or, for suspend, the kernel's clocks show the machine slept after the request",
		Rollback:     action.RollbackNone,
		Owner:        "power",
	}
	switch h.kind {
	case suspend:
		m.Title = "Suspend the machine"
		m.Description = "Put the computer to sleep (suspend to RAM) through systemd-logind. Refused while an inhibitor lock blocks sleep."
		m.RollbackNote = "suspend ends when you wake the machine; there is nothing to restore"
		m.Utterances = []string{
			"(suspend|sleep) [the] (computer|machine|laptop|pc|system)",
			"put [the] (computer|machine|laptop|pc|system) to sleep",
			"(go to|enter) sleep [mode]",
			"suspend [now]",
			"send [the] (computer|machine|laptop) to sleep",
		}
		m.Examples = []action.Example{
			{Text: "put the laptop to sleep", Target: json.RawMessage(`{}`)},
			{Text: "suspend the computer now", Target: json.RawMessage(`{}`)},
			{Text: "go to sleep", Target: json.RawMessage(`{}`)},
		}
		m.Aliases = []string{"sleep", "suspend", "standby", "suspend to ram"}
	case reboot:
		m.Title = "Restart the machine"
		m.Description = "Reboot the computer through systemd-logind. Programs close and unsaved work is lost. Refused while an inhibitor lock blocks shutdown."
		m.RollbackNote = "the machine restarts; running programs and unsaved work cannot be brought back"
		m.Risk = action.Risk{Destructive: true}
		m.Utterances = []string{
			"(restart|reboot) [the] (computer|machine|laptop|pc|system)",
			"(restart|reboot) [now]",
			"(do|perform) a (restart|reboot)",
			"turn [the] (computer|machine) off and on again",
		}
		m.Examples = []action.Example{
			{Text: "reboot the machine", Target: json.RawMessage(`{}`)},
			{Text: "restart my pc now", Target: json.RawMessage(`{}`)},
			{Text: "do a reboot", Target: json.RawMessage(`{}`)},
		}
		m.Aliases = []string{"reboot", "restart", "warm boot"}
	case poweroff:
		m.Title = "Power the machine off"
		m.Description = "Shut the computer down through systemd-logind. Programs close and unsaved work is lost. Refused while an inhibitor lock blocks shutdown."
		m.RollbackNote = "the machine powers off; nothing to restore, and running programs and unsaved work are gone"
		m.Risk = action.Risk{Destructive: true}
		m.Utterances = []string{
			"(shut|power) down [the] (computer|machine|laptop|pc|system)",
			"(shut|power|turn|switch) [the] (computer|machine|laptop|pc|system) (down|off)",
			"(turn|switch|shut) off [the] (computer|machine|laptop|pc|system)",
			"(shut down|power off|poweroff) [now]",
		}
		m.Examples = []action.Example{
			{Text: "shut down the computer", Target: json.RawMessage(`{}`)},
			{Text: "power the laptop off", Target: json.RawMessage(`{}`)},
			{Text: "turn off the machine now", Target: json.RawMessage(`{}`)},
		}
		m.Aliases = []string{"shutdown", "power off", "halt", "turn off"}
	}
	return m
}

// LogindArgs are the arguments of the power.logind.accepted probe.
//
// The proof that logind took a request on is logind's own state: from the
// moment it accepts Suspend, Reboot or PowerOff until the job finishes it
// reports PreparingForSleep or PreparingForShutdown as true. A shutdown
// never finishes while anyone can still look, so that property stays
// true. A suspend does finish, after resume, and verification may only
// run then; so SleptBefore carries the time the machine had spent asleep
// since boot when the request was made, and more time asleep now shows
// that the machine did sleep in between. Neither reading is a record of
// our own: both come from logind and the kernel.
type LogindArgs struct {
	Action      string `json:"action"`
	SleptBefore *int64 `json:"slept_before_ns,omitempty"`
}

func (m *Module) probeLogind(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a LogindArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("%s: %w", probeLogind, err)
	}
	k, ok := kindFromArg(a.Action)
	if !ok {
		return verify.Observation{}, fmt.Errorf("%s: unknown action %q", probeLogind, a.Action)
	}
	info := k.info()
	obj, err := m.logind(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	prep, err := m.preparing(ctx, obj, k)
	if err != nil {
		return verify.Observation{}, err
	}
	observed := map[string]any{info.preparing: prep}
	if prep {
		return verify.Observation{Pass: true, Observed: observed,
			Detail: fmt.Sprintf("logind reports %s=true: the request to %s is under way", info.preparing, info.verb)}, nil
	}
	if k == suspend && a.SleptBefore != nil {
		now, err := sleptNanos()
		if err != nil {
			return verify.Observation{}, err
		}
		slept := time.Duration(now - *a.SleptBefore)
		observed["slept_since_request"] = slept.String()
		if slept >= sleepThreshold {
			return verify.Observation{Pass: true, Observed: observed,
				Detail: fmt.Sprintf("the machine slept for %s since the request", slept.Round(time.Millisecond))}, nil
		}
	}
	detail := fmt.Sprintf("logind reports %s=false: no %s under way", info.preparing, info.what)
	if k == suspend {
		detail += ", and the machine has not slept since the request"
	}
	return verify.Observation{Pass: false, Observed: observed, Detail: detail}, nil
}

func (h *logindAction) probe(slept *int64) verify.Spec {
	return verify.Probe(probeLogind, LogindArgs{Action: h.kind.info().arg, SleptBefore: slept})
}

func (h *logindAction) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		return verify.Spec{}, fmt.Errorf("%s cannot be undone: %s", req.Action, h.Manifest().RollbackNote)
	}
	if h.kind != suspend {
		return h.probe(nil), nil
	}
	// The baseline at submission bounds the proof even before Execute
	// adds a tighter one taken right before the call.
	slept, err := sleptNanos()
	if err != nil {
		return verify.Spec{}, err
	}
	return h.probe(&slept), nil
}

func (h *logindAction) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		return nil, fmt.Errorf("%s cannot be undone: %s", req.Action, h.Manifest().RollbackNote)
	}
	info := h.kind.info()
	obj, err := h.m.logind(ctx)
	if err != nil {
		return nil, err
	}
	ch := action.Change{Subject: "machine", Old: "running", New: info.state}
	delaying, err := h.m.check(ctx, obj, h.kind)
	if errors.Is(err, errNoLogind) {
		return nil, err
	}
	if err != nil {
		ch.Note = "will be refused: " + err.Error()
		return []action.Change{ch}, nil
	}
	switch h.kind {
	case suspend:
		ch.Note = "open programs stay in memory; wake the machine to continue"
	default:
		ch.Note = "every program closes; unsaved work is lost"
	}
	if len(delaying) > 0 {
		ch.Note += fmt.Sprintf("; %d program(s) may delay it briefly (%s)", len(delaying), delaying[0])
	}
	return []action.Change{ch}, nil
}

func (h *logindAction) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	info := h.kind.info()
	if req.Undo != nil {
		return adapter.Outcome{}, fmt.Errorf("%s cannot be undone: %s", req.Action, h.Manifest().RollbackNote)
	}
	obj, err := h.m.logind(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	delaying, err := h.m.check(ctx, obj, h.kind)
	if err != nil {
		return adapter.Outcome{}, err
	}
	var out adapter.Outcome
	if h.kind == suspend {
		slept, err := sleptNanos()
		if err != nil {
			return adapter.Outcome{}, err
		}
		out.Verification = h.probe(&slept)
	}
	if err := obj.CallWithContext(ctx, logindIface+"."+info.method, 0, false).Err; err != nil {
		if dbusconn.ServiceMissing(err) {
			return adapter.Outcome{}, errNoLogind
		}
		if dbusconn.ErrorName(err) == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" {
			return adapter.Outcome{}, fmt.Errorf("polkit wants a password to %s and Noema does not ask for one (it calls logind non-interactively): %w", info.verb, err)
		}
		return adapter.Outcome{}, fmt.Errorf("logind refused to %s: %w", info.verb, err)
	}
	result := map[string]any{"requested": info.arg, "via": logindIface + "." + info.method}
	if len(delaying) > 0 {
		result["delayed_by"] = delaying
	}
	out.Result = result
	return out, nil
}
