package system

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// The systemd template of python3-dbusmock has StartUnit, StopUnit and
// GetUnit with jobs signalled by JobNew/JobRemoved. It lacks LoadUnit
// and RestartUnit, and never fails a job; the test adds those the way the
// real manager behaves.
const (
	// LoadUnit answers like systemd's GetUnit for a unit it knows and
	// with systemd's NoSuchUnit error for one it does not.
	mockLoadUnit = `
if args[0] not in self.units:
    raise dbus.exceptions.DBusException('Unit %s not found.' % args[0], name='org.freedesktop.systemd1.NoSuchUnit')
ret = self.units[args[0]]
`
	// RestartUnit stops and starts the unit, returning the start job.
	mockRestartUnit = `
self.StopUnit(args[0], args[1])
ret = self.StartUnit(args[0], args[1])
`
	// StartUnit that fails the job of the units in self.failing, the way a
	// service whose ExecStart exits non-zero does.
	mockFailingStart = `
import dbusmock.templates.systemd as tpl
from gi.repository import GLib
name = str(args[0])
if name in getattr(self, 'failing', ()):
    job_id = self.next_job_id
    self.next_job_id += 1
    job = '/org/freedesktop/systemd1/Job/%d' % job_id
    unit = objects[self.units[name]]
    unit.UpdateProperties('org.freedesktop.systemd1.Unit', {'ActiveState': 'failed'})
    GLib.idle_add(lambda s=self, i=job_id, j=job, n=name: s.EmitSignal('org.freedesktop.systemd1.Manager', 'JobRemoved', 'uoss', [i, j, n, 'failed']))
    ret = job
else:
    ret = tpl.StartUnit(self, args[0], args[1])
`
)

type systemdFixture struct {
	bus  *dconftest.Bus
	mock *dbusMock
	m    *Module
}

func newSystemd(t *testing.T, units ...string) *systemdFixture {
	t.Helper()
	bus := dconftest.StartSessionBus(t)
	mock := startMock(t, bus, "systemd", systemdName, "")
	mock.addMethod(t, systemdPath, systemdManager, "LoadUnit", "s", "o", mockLoadUnit)
	mock.addMethod(t, systemdPath, systemdManager, "RestartUnit", "ss", "o", mockRestartUnit)
	mock.addMethod(t, systemdPath, systemdManager, "StartUnit", "ss", "o", mockFailingStart)
	for _, u := range units {
		mock.call(t, systemdPath, "org.freedesktop.DBus.Mock.AddMockUnit", u)
	}
	m := New(Options{SystemBus: bus.Address, SessionBus: bus.Address})
	t.Cleanup(func() { m.Close() })
	return &systemdFixture{bus: bus, mock: mock, m: m}
}

// activeState reads a unit's ActiveState with a connection of the test's
// own, through GetUnit, which the module never calls.
func (f *systemdFixture) activeState(t *testing.T, unit string) string {
	t.Helper()
	var path dbus.ObjectPath
	if err := f.mock.conn.Object(systemdName, systemdPath).Call(systemdManager+".GetUnit", 0, unit).Store(&path); err != nil {
		t.Fatalf("GetUnit %s: %v", unit, err)
	}
	v, err := f.mock.conn.Object(systemdName, path).GetProperty(systemdUnit + ".ActiveState")
	if err != nil {
		t.Fatalf("ActiveState of %s: %v", unit, err)
	}
	return v.Value().(string)
}

func resultOf(t *testing.T, env *action.Envelope) map[string]any {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(env.Execution.Result, &r); err != nil {
		t.Fatalf("result %s: %v", env.Execution.Result, err)
	}
	return r
}

func errorOf(env *action.Envelope) string {
	if env.Execution.Error == nil {
		return ""
	}
	return env.Execution.Error.Message
}

func TestServiceStartAndUndo(t *testing.T) {
	f := newSystemd(t, "nginx.service")
	p := pipelinetest.New(t, pipelinetest.Options{}, f.m)

	env := p.Do(t, "service.start", `{"unit":"nginx"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !env.Request.Risk.Privileged || env.Request.Risk.Destructive {
		t.Errorf("risk = %+v, want privileged only", env.Request.Risk)
	}
	if env.Execution.ApprovalID == "" {
		t.Error("a system unit started without approval")
	}
	if got := f.activeState(t, "nginx.service"); got != "active" {
		t.Fatalf("after start ActiveState = %s", got)
	}
	if r := resultOf(t, env); r["old"] != "inactive" || r["new"] != "active" || r["job_result"] != "done" {
		t.Errorf("result = %v", r)
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := f.activeState(t, "nginx.service"); got != "inactive" {
		t.Fatalf("after undo ActiveState = %s", got)
	}
	if orig, _ := p.Runtime.Get(context.Background(), env.Identity.ActionID); orig.Execution.State != action.RolledBack {
		t.Errorf("original is %s after undo", orig.Execution.State)
	}
	p.Verify(t)
}

func TestServiceStopAndUndo(t *testing.T) {
	f := newSystemd(t, "cups.service")
	f.mock.call(t, systemdPath, systemdManager+".StartUnit", "cups.service", "replace")
	p := pipelinetest.New(t, pipelinetest.Options{}, f.m)

	env := p.Do(t, "service.stop", `{"unit":"cups.service"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !env.Request.Risk.Destructive || !env.Request.Risk.Privileged {
		t.Errorf("risk = %+v, want destructive and privileged", env.Request.Risk)
	}
	if got := f.activeState(t, "cups.service"); got != "inactive" {
		t.Fatalf("after stop ActiveState = %s", got)
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if u.Request.Risk.Destructive {
		t.Error("an undo that restarts what was running is flagged destructive")
	}
	if got := f.activeState(t, "cups.service"); got != "active" {
		t.Fatalf("after undo ActiveState = %s", got)
	}
	p.Verify(t)
}

// Starting a running unit changes nothing, so there is nothing to undo.
func TestServiceStartAlreadyRunning(t *testing.T) {
	f := newSystemd(t, "ssh.service")
	f.mock.call(t, systemdPath, systemdManager+".StartUnit", "ssh.service", "replace")
	p := pipelinetest.New(t, pipelinetest.Options{}, f.m)
	env := p.Do(t, "service.start", `{"unit":"ssh"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if r := resultOf(t, env); r["changed"] != false {
		t.Errorf("result = %v", r)
	}
	if _, err := p.Runtime.Undo(context.Background(), env.Identity.ActionID, p.Human); err == nil || !strings.Contains(err.Error(), "no pre-state") {
		t.Errorf("undo of a no-op start: %v", err)
	}
}

func TestServiceRestartHasNoUndo(t *testing.T) {
	f := newSystemd(t, "nginx.service")
	f.mock.call(t, systemdPath, systemdManager+".StartUnit", "nginx.service", "replace")
	p := pipelinetest.New(t, pipelinetest.Options{}, f.m)
	env := p.Do(t, "service.restart", `{"unit":"nginx"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := f.activeState(t, "nginx.service"); got != "active" {
		t.Fatalf("after restart ActiveState = %s", got)
	}
	_, err := p.Runtime.Undo(context.Background(), env.Identity.ActionID, p.Human)
	if err == nil || !strings.Contains(err.Error(), "cannot be undone") || !strings.Contains(err.Error(), "in-memory state") {
		t.Errorf("undo of a restart: %v, want an honest refusal", err)
	}
	p.Verify(t)
}

func TestServiceStatus(t *testing.T) {
	f := newSystemd(t, "cron.service")
	p := pipelinetest.New(t, pipelinetest.Options{}, f.m)

	env := p.Do(t, "service.status", `{"unit":"cron"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if env.Execution.ApprovalID != "" || env.Request.Risk.Any() {
		t.Errorf("a status query needed approval or carries risk %+v", env.Request.Risk)
	}
	if r := resultOf(t, env); r["running"] != false || r["active_state"] != "inactive" || r["found"] != true {
		t.Errorf("result = %v", r)
	}

	f.mock.call(t, systemdPath, systemdManager+".StartUnit", "cron.service", "replace")
	env = p.Do(t, "service.status", `{"unit":"cron.service"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if r := resultOf(t, env); r["running"] != true || r["active_state"] != "active" {
		t.Errorf("result = %v", r)
	}

	env = p.Do(t, "service.status", `{"unit":"no-such-thing"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if r := resultOf(t, env); r["found"] != false || r["running"] != false {
		t.Errorf("status of a unit systemd does not know: %v", r)
	}
	p.Verify(t)
}

func TestServiceFailures(t *testing.T) {
	f := newSystemd(t, "broken.service")
	f.mock.call(t, systemdPath, "org.freedesktop.DBus.Mock.AddMethod", "org.freedesktop.DBus.Mock", "MarkFailing", "s", "",
		"self.failing = getattr(self, 'failing', set()) | {args[0]}")
	f.mock.call(t, systemdPath, "org.freedesktop.DBus.Mock.MarkFailing", "broken.service")
	p := pipelinetest.New(t, pipelinetest.Options{}, f.m)

	env := p.Do(t, "service.start", `{"unit":"broken"}`)
	if env.Execution.State != action.RolledBack && env.Execution.State != action.Failed {
		t.Fatalf("a failing start is %s", env.Execution.State)
	}
	if msg := errorOf(env); !strings.Contains(msg, `result "failed"`) {
		t.Errorf("error = %q", msg)
	}

	env = p.Do(t, "service.start", `{"unit":"missing"}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "no unit missing.service") {
		t.Errorf("error = %q", msg)
	}
	p.Verify(t)
}

// With no systemd on the bus every change fails with a message that says
// so, never a success.
func TestServiceWithoutSystemd(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	m := New(Options{SystemBus: bus.Address})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	for _, a := range []string{"service.start", "service.stop", "service.restart", "service.status"} {
		env := p.Do(t, a, `{"unit":"nginx"}`)
		pipelinetest.RequireState(t, env, action.Failed)
		if msg := errorOf(env); !strings.Contains(msg, "systemd is not running on the system bus") {
			t.Errorf("%s error = %q", a, msg)
		}
	}
	p.Verify(t)
}

func TestServiceUserScopeIsNotPrivileged(t *testing.T) {
	f := newSystemd(t, "syncthing.service")
	p := pipelinetest.New(t, pipelinetest.Options{}, f.m)
	env := p.Do(t, "service.start", `{"unit":"syncthing","scope":"user"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if env.Request.Risk.Privileged || env.Execution.ApprovalID != "" {
		t.Errorf("user unit: risk %+v, approval %q", env.Request.Risk, env.Execution.ApprovalID)
	}
	if got := f.activeState(t, "syncthing.service"); got != "active" {
		t.Errorf("ActiveState = %s", got)
	}
}

func TestNormalizeUnit(t *testing.T) {
	for in, want := range map[string]string{
		"nginx": "nginx.service", "nginx.service": "nginx.service", "getty@tty1": "getty@tty1.service",
		"sshd.socket": "sshd.socket", "multi-user.target": "multi-user.target", "a.b": "a.b.service",
		"dev-sda1.device": "dev-sda1.device", "x\\x2dy.mount": "x\\x2dy.mount",
	} {
		got, err := normalizeUnit(in)
		if err != nil || got != want {
			t.Errorf("normalizeUnit(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "../etc/passwd", "a/b", "-x", ".service", "nginx service", "a\x00b", "ünit", strings.Repeat("a", 256)} {
		if got, err := normalizeUnit(bad); err == nil {
			t.Errorf("normalizeUnit(%q) = %q, want an error", bad, got)
		}
	}
}

func TestServiceSchemaRefusesPaths(t *testing.T) {
	m := New(Options{})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	e, ok := p.Registry.Catalog().Lookup("service.stop")
	if !ok {
		t.Fatal("service.stop not registered")
	}
	for _, bad := range []string{`{"unit":"../../x"}`, `{"unit":"a b"}`, `{"unit":""}`, `{}`, `{"unit":"x","extra":1}`, `{"unit":"x","scope":"root"}`} {
		if err := e.ValidateTarget(json.RawMessage(bad)); err == nil {
			t.Errorf("target %s accepted", bad)
		}
	}
}
