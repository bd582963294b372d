package power_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/power"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/runtime"
	"golang.org/x/sys/unix"
)

const (
	login1     = "org.freedesktop.login1"
	login1Path = dbus.ObjectPath("/org/freedesktop/login1")
	login1Mgr  = "org.freedesktop.login1.Manager"
)

func newPipeline(t *testing.T, addr string) (*pipelinetest.Pipeline, *power.Module) {
	t.Helper()
	m := power.New(power.Options{SystemBus: addr})
	t.Cleanup(func() { m.Close() })
	return pipelinetest.New(t, pipelinetest.Options{}, m), m
}

// logindActsOn makes the mocked method behave as logind does once it
// accepts a request: logind sets its pending action before replying, so
// PreparingForSleep or PreparingForShutdown reads true until the job ends.
// The dbusmock template records the call but does not model this.
func logindActsOn(t *testing.T, conn *dbus.Conn, method, property string) {
	t.Helper()
	addMockMethod(t, conn, login1, login1Path, login1Mgr, method, "b", "",
		`self.UpdateProperties("`+login1Mgr+`", {"`+property+`": dbus.Boolean(True)})`)
}

// calledWith returns the arguments of each logged call of method.
func calledWith(t *testing.T, conn *dbus.Conn, method string) [][]any {
	t.Helper()
	var out [][]any
	for _, c := range mockCalls(t, conn, login1, login1Path) {
		if c.Method != method {
			continue
		}
		var args []any
		for _, a := range c.Args {
			args = append(args, a.Value())
		}
		out = append(out, args)
	}
	return out
}

func errorOf(env *action.Envelope) string {
	if env.Execution.Error == nil {
		return ""
	}
	return env.Execution.Error.Message
}

func TestTransitionsReachLogind(t *testing.T) {
	for _, tc := range []struct {
		action, method, property string
		destructive              bool
	}{
		{"power.suspend", "Suspend", "PreparingForSleep", false},
		{"power.reboot", "Reboot", "PreparingForShutdown", true},
		{"power.poweroff", "PowerOff", "PreparingForShutdown", true},
	} {
		t.Run(tc.action, func(t *testing.T) {
			bus, conn := systemBus(t)
			startMock(t, bus, conn, "logind", login1, nil)
			logindActsOn(t, conn, tc.method, tc.property)
			p, _ := newPipeline(t, bus.Address)

			env := p.Do(t, tc.action, `{}`)
			pipelinetest.RequireState(t, env, action.Succeeded)
			if env.Request.Risk.Destructive != tc.destructive {
				t.Errorf("risk destructive = %v, want %v", env.Request.Risk.Destructive, tc.destructive)
			}
			if tc.destructive && env.Execution.ApprovalID == "" {
				t.Errorf("%s ran without a human approval", tc.action)
			}
			calls := calledWith(t, conn, tc.method)
			if len(calls) != 1 || len(calls[0]) != 1 || calls[0][0] != false {
				t.Fatalf("logind %s calls = %v, want one with interactive=false", tc.method, calls)
			}
			if v := env.Execution.Verification; v == nil || !v.Passed() {
				t.Fatalf("verification = %+v", v)
			}

			_, err := p.Runtime.Undo(context.Background(), env.Identity.ActionID, p.Human)
			if !errors.Is(err, runtime.ErrCannotUndo) {
				t.Fatalf("undo of %s: err = %v, want ErrCannotUndo", tc.action, err)
			}
			if !strings.Contains(err.Error(), "nothing to restore") && !strings.Contains(err.Error(), "cannot be brought back") {
				t.Errorf("undo refusal does not say why: %v", err)
			}
			p.Verify(t)
		})
	}
}

// TestAcceptedWithoutEffectFails runs the plain template: logind answers
// the call but nothing shows that it is acting on it, so the action must
// not be reported as done.
func TestAcceptedWithoutEffectFails(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "logind", login1, nil)
	p, _ := newPipeline(t, bus.Address)

	env := p.Do(t, "power.suspend", `{}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "PreparingForSleep=false") {
		t.Errorf("error %q does not say what was observed", msg)
	}
	if n := len(calledWith(t, conn, "Suspend")); n != 1 {
		t.Errorf("Suspend called %d times, want 1", n)
	}
	p.Verify(t)
}

// inhibit takes a logind inhibitor lock through the real API; the lock
// lasts while the returned descriptor is open.
func inhibit(t *testing.T, conn *dbus.Conn, what, who, why, mode string) {
	t.Helper()
	var fd dbus.UnixFD
	if err := conn.Object(login1, login1Path).Call(login1Mgr+".Inhibit", 0, what, who, why, mode).Store(&fd); err != nil {
		t.Fatalf("Inhibit: %v", err)
	}
	f := os.NewFile(uintptr(fd), "inhibitor")
	t.Cleanup(func() { f.Close() })
}

func TestBlockInhibitorRefuses(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "logind", login1, nil)
	logindActsOn(t, conn, "Suspend", "PreparingForSleep")
	logindActsOn(t, conn, "Reboot", "PreparingForShutdown")
	inhibit(t, conn, "sleep:idle", "Disc Burner", "Writing a DVD", "block")
	inhibit(t, conn, "shutdown", "Update Manager", "Saving files before restart", "delay")
	p, _ := newPipeline(t, bus.Address)

	env := p.Do(t, "power.suspend", `{}`)
	pipelinetest.RequireState(t, env, action.Failed)
	msg := errorOf(env)
	for _, want := range []string{"Disc Burner", "Writing a DVD", "block sleep"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not mention %q", msg, want)
		}
	}
	if calls := calledWith(t, conn, "Suspend"); len(calls) != 0 {
		t.Fatalf("Suspend was called despite the lock: %v", calls)
	}

	// A delay lock on shutdown only postpones a reboot, and a sleep lock
	// does not concern it.
	env = p.Do(t, "power.reboot", `{}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !strings.Contains(string(env.Execution.Result), "Update Manager") {
		t.Errorf("result %s does not name the delaying program", env.Execution.Result)
	}
	p.Verify(t)
}

func TestPreviewNamesTheLock(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "logind", login1, nil)
	inhibit(t, conn, "shutdown", "Backup", "Copying photos", "block")
	m := power.New(power.Options{SystemBus: bus.Address})
	defer m.Close()
	h := handler(t, m, "power.poweroff")
	changes, err := h.Preview(context.Background(), &action.Request{Action: "power.poweroff", Target: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || !strings.Contains(changes[0].Note, "will be refused") || !strings.Contains(changes[0].Note, "Copying photos") {
		t.Fatalf("preview = %+v", changes)
	}
}

func TestCannotSuspendHere(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "logind", login1, map[string]any{"CanSuspend": "na"})
	logindActsOn(t, conn, "Suspend", "PreparingForSleep")
	p, _ := newPipeline(t, bus.Address)

	env := p.Do(t, "power.suspend", `{}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "cannot suspend") {
		t.Errorf("error %q does not say suspend is unsupported", msg)
	}
	if calls := calledWith(t, conn, "Suspend"); len(calls) != 0 {
		t.Fatalf("Suspend was called although logind said na: %v", calls)
	}
}

func TestLogindAbsent(t *testing.T) {
	bus, _ := systemBus(t)
	p, _ := newPipeline(t, bus.Address)
	for _, name := range []string{"power.suspend", "power.reboot", "power.poweroff"} {
		env := p.Do(t, name, `{}`)
		pipelinetest.RequireState(t, env, action.Failed)
		if msg := errorOf(env); !strings.Contains(msg, "systemd-logind is not running") {
			t.Errorf("%s error %q does not say logind is missing", name, msg)
		}
	}
	p.Verify(t)
}

func TestNoSystemBus(t *testing.T) {
	p, _ := newPipeline(t, "unix:path=/nonexistent/noema-test-bus")
	env := p.Do(t, "power.suspend", `{}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "system D-Bus") {
		t.Errorf("error %q does not name the bus", msg)
	}
}

// TestProbeSeesSleep checks the suspend proof that outlives the suspend:
// time asleep since boot (CLOCK_BOOTTIME − CLOCK_MONOTONIC) grown past
// the baseline recorded with the request.
func TestProbeSeesSleep(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "logind", login1, nil)
	m := power.New(power.Options{SystemBus: bus.Address})
	defer m.Close()
	probe := m.Probes()["power.logind.accepted"]

	var boot, mono unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err != nil {
		t.Fatal(err)
	}
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono); err != nil {
		t.Fatal(err)
	}
	now := boot.Nano() - mono.Nano()
	for _, tc := range []struct {
		before int64
		pass   bool
	}{
		{now, false},
		{now - int64(3*time.Second), true},
	} {
		args, _ := json.Marshal(power.LogindArgs{Action: "suspend", SleptBefore: &tc.before})
		obs, err := probe.Probe(context.Background(), args)
		if err != nil {
			t.Fatal(err)
		}
		if obs.Pass != tc.pass {
			t.Errorf("baseline %d: pass = %v (%s), want %v", tc.before, obs.Pass, obs.Detail, tc.pass)
		}
	}
	// Shutdown has no such trace; without logind preparing it fails.
	obs, err := probe.Probe(context.Background(), []byte(`{"action":"reboot"}`))
	if err != nil || obs.Pass {
		t.Fatalf("reboot probe = %+v, %v", obs, err)
	}
	if _, err := probe.Probe(context.Background(), []byte(`{"action":"hibernate"}`)); err == nil {
		t.Error("unknown action accepted")
	}
}

// TestLogindRefuses has logind answer as it does when polkit would need a
// password: the action fails with that reason and is not retried
// interactively.
func TestLogindRefuses(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "logind", login1, nil)
	addMockMethod(t, conn, login1, login1Path, login1Mgr, "PowerOff", "b", "",
		`raise dbus.exceptions.DBusException("Interactive authentication required.", name="org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")`)
	p, _ := newPipeline(t, bus.Address)

	env := p.Do(t, "power.poweroff", `{}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "polkit wants a password") {
		t.Errorf("error %q does not explain the refusal", msg)
	}
	p.Verify(t)
}
