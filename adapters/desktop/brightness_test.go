package desktop_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dbusmocktest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// fakeSysfs makes a sysfs-shaped tree with one backlight device.
func fakeSysfs(t *testing.T, dev string, cur, max int) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "class", "backlight", dev)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"brightness": strconv.Itoa(cur), "max_brightness": strconv.Itoa(max), "type": "raw"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readBrightness(t *testing.T, root, dev string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "class", "backlight", dev, "brightness"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// startLogind runs dbusmock's logind template with the caller's session at
// /org/freedesktop/login1/session/auto. The template has no SetBrightness,
// so the test adds it: like logind, it writes the value into the device's
// sysfs brightness attribute (here the temporary tree).
func startLogind(t *testing.T, sysfs string) (*dconftest.Bus, *dbus.Conn) {
	t.Helper()
	dbusmocktest.Python(t)
	bus := dconftest.StartSessionBus(t)
	startMock(t, bus, "org.freedesktop.login1", "logind", nil)
	conn := bus.Conn(t)
	login := conn.Object("org.freedesktop.login1", "/org/freedesktop/login1")
	var path dbus.ObjectPath
	if err := login.Call("org.freedesktop.DBus.Mock.AddSession", 0, "auto", "seat0", uint32(os.Getuid()), "noema", true).Store(&path); err != nil {
		t.Fatalf("AddSession: %v", err)
	}
	root, _ := json.Marshal(sysfs)
	code := fmt.Sprintf(`if args[0] != "backlight" or "/" in args[1]:
    raise dbus.exceptions.DBusException("bad device", name="org.freedesktop.DBus.Error.InvalidArgs")
with open(%s + "/class/backlight/" + args[1] + "/brightness", "w") as f:
    f.write("%%d\n" %% args[2])`, root)
	if err := conn.Object("org.freedesktop.login1", path).Call("org.freedesktop.DBus.Mock.AddMethod", 0,
		"org.freedesktop.login1.Session", "SetBrightness", "ssu", "", code).Err; err != nil {
		t.Fatalf("AddMethod SetBrightness: %v", err)
	}
	return bus, conn
}

func TestBrightnessSetAndUndo(t *testing.T) {
	sysfs := fakeSysfs(t, "intel_backlight", 500, 1000)
	bus, conn := startLogind(t, sysfs)
	m := newModule(t, desktop.Options{SysfsRoot: sysfs, SystemBus: bus.Address})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "desktop.brightness.set", `{"percent":30}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	requirePreview(t, env, "50% (500/1000)", "30% (300/1000)")
	if got := readBrightness(t, sysfs, "intel_backlight"); got != 300 {
		t.Fatalf("brightness = %d, want 300", got)
	}
	calls := mockCalls(t, conn, "org.freedesktop.login1", "/org/freedesktop/login1/session/auto")
	if len(calls) != 1 || calls[0].Method != "SetBrightness" {
		t.Fatalf("logind calls = %+v, want one SetBrightness", calls)
	}
	if dev := calls[0].Args[1].Value(); dev != "intel_backlight" {
		t.Fatalf("SetBrightness device = %v", dev)
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := readBrightness(t, sysfs, "intel_backlight"); got != 500 {
		t.Fatalf("after undo brightness = %d, want 500", got)
	}
	requirePreview(t, u, "30% (300/1000)", "50% (500/1000)")

	// A relative change, from the level at execution.
	env = p.Do(t, "desktop.brightness.set", `{"delta":-15}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := readBrightness(t, sysfs, "intel_backlight"); got != 350 {
		t.Fatalf("after -15 brightness = %d, want 350", got)
	}
	u = p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := readBrightness(t, sysfs, "intel_backlight"); got != 500 {
		t.Fatalf("after undo brightness = %d, want 500", got)
	}

	// Never black: 0 % and a large negative step stop at 1 %.
	for _, target := range []string{`{"percent":0}`, `{"delta":-100}`} {
		env = p.Do(t, "desktop.brightness.set", target)
		pipelinetest.RequireState(t, env, action.Succeeded)
		if got := readBrightness(t, sysfs, "intel_backlight"); got != 10 {
			t.Fatalf("%s: brightness = %d, want 10 (1%%)", target, got)
		}
		if note, _ := result(t, env)["note"].(string); !strings.Contains(note, "1 %") {
			t.Fatalf("%s: result does not say it was clamped: %s", target, env.Execution.Result)
		}
	}
	env = p.Do(t, "desktop.brightness.set", `{"delta":100}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := readBrightness(t, sysfs, "intel_backlight"); got != 1000 {
		t.Fatalf("brightness = %d, want 1000", got)
	}
	p.Verify(t)
}

func TestBrightnessCoarseDevice(t *testing.T) {
	// Seven levels: a small step still moves one level.
	sysfs := fakeSysfs(t, "acpi_video0", 3, 7)
	bus, _ := startLogind(t, sysfs)
	m := newModule(t, desktop.Options{SysfsRoot: sysfs, SystemBus: bus.Address})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.brightness.set", `{"delta":5}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := readBrightness(t, sysfs, "acpi_video0"); got != 4 {
		t.Fatalf("brightness = %d, want 4", got)
	}
	env = p.Do(t, "desktop.brightness.set", `{"percent":0}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := readBrightness(t, sysfs, "acpi_video0"); got != 1 {
		t.Fatalf("brightness = %d, want 1 (never 0)", got)
	}
}

func TestBrightnessWithoutLogindFails(t *testing.T) {
	dbusmocktest.Python(t)
	sysfs := fakeSysfs(t, "intel_backlight", 500, 1000)
	bus := dconftest.StartSessionBus(t) // no logind on it
	m := newModule(t, desktop.Options{SysfsRoot: sysfs, SystemBus: bus.Address})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.brightness.set", `{"percent":30}`)
	requireFailed(t, env, "logind")
	if got := readBrightness(t, sysfs, "intel_backlight"); got != 500 {
		t.Fatalf("brightness changed to %d", got)
	}
	p.Verify(t)
}

func TestBrightnessLogindIgnoresWrite(t *testing.T) {
	// A logind that answers but does not change the level must not pass
	// verification.
	sysfs := fakeSysfs(t, "intel_backlight", 500, 1000)
	bus, conn := startLogind(t, sysfs)
	if err := conn.Object("org.freedesktop.login1", "/org/freedesktop/login1/session/auto").Call("org.freedesktop.DBus.Mock.AddMethod", 0,
		"org.freedesktop.login1.Session", "SetBrightness", "ssu", "", "pass").Err; err != nil {
		t.Fatal(err)
	}
	m := newModule(t, desktop.Options{SysfsRoot: sysfs, SystemBus: bus.Address})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.brightness.set", `{"percent":80}`)
	if env.Execution.State == action.Succeeded {
		t.Fatalf("succeeded although the level did not change")
	}
	if env.Execution.Error == nil || env.Execution.Error.Code != "verification_failed" {
		t.Fatalf("error = %+v, want verification_failed", env.Execution.Error)
	}
}

func TestBrightnessNoBacklight(t *testing.T) {
	m := newModule(t, desktop.Options{SysfsRoot: t.TempDir(), SystemBus: "unix:path=/nonexistent"})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.brightness.set", `{"delta":10}`)
	requireFailed(t, env, "no backlight")
}

func TestBrightnessRejectsBadTargets(t *testing.T) {
	m := newModule(t, desktop.Options{SysfsRoot: t.TempDir()})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	for _, target := range []string{`{}`, `{"percent":30,"delta":5}`, `{"percent":130}`, `{"delta":-101}`, `{"percent":"high"}`, `{"level":3}`} {
		if err := validate(t, p, "desktop.brightness.set", target); err == nil {
			t.Errorf("%s accepted", target)
		}
	}
}
