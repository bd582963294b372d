package power_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/adapters/power"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/runtime"
)

const (
	hadess     = "net.hadess.PowerProfiles"
	hadessPath = dbus.ObjectPath("/net/hadess/PowerProfiles")
)

func handler(t *testing.T, m *power.Module, name string) adapter.Handler {
	t.Helper()
	for _, h := range m.Handlers() {
		if h.Manifest().Name == name {
			return h
		}
	}
	t.Fatalf("no handler for %s", name)
	return nil
}

func activeProfile(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath) string {
	t.Helper()
	v, err := conn.Object(name, path).GetProperty(name + ".ActiveProfile")
	if err != nil {
		t.Fatal(err)
	}
	return v.Value().(string)
}

func TestProfileSetAndUndo(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "power_profiles_daemon", hadess, nil)
	p, m := newPipeline(t, bus.Address)

	changes, err := handler(t, m, "power.profile.set").Preview(context.Background(),
		&action.Request{Action: "power.profile.set", Target: []byte(`{"profile":"performance"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Old != "balanced" || changes[0].New != "performance" {
		t.Fatalf("preview = %+v", changes)
	}

	env := p.Do(t, "power.profile.set", `{"profile":"performance"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := activeProfile(t, conn, hadess, hadessPath); got != "performance" {
		t.Fatalf("ActiveProfile = %s after set", got)
	}
	if env.Request.Risk.Any() {
		t.Errorf("profile change flagged %v", env.Request.Risk.Names())
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := activeProfile(t, conn, hadess, hadessPath); got != "balanced" {
		t.Fatalf("ActiveProfile = %s after undo, want balanced", got)
	}
	p.Verify(t)
}

func TestProfileUnchangedHasNothingToUndo(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "power_profiles_daemon", hadess, map[string]any{"ActiveProfile": "power-saver"})
	p, _ := newPipeline(t, bus.Address)

	env := p.Do(t, "power.profile.set", `{"profile":"power-saver"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if _, err := p.Runtime.Undo(context.Background(), env.Identity.ActionID, p.Human); !errors.Is(err, runtime.ErrCannotUndo) {
		t.Fatalf("undo of a no-op: err = %v, want ErrCannotUndo", err)
	}
}

// TestProfileNotOffered removes performance from the daemon's list, as on
// machines without a performance driver.
func TestProfileNotOffered(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "power_profiles_daemon", hadess, nil)
	profiles := []map[string]dbus.Variant{
		{"Profile": dbus.MakeVariant("power-saver"), "Driver": dbus.MakeVariant("dbusmock")},
		{"Profile": dbus.MakeVariant("balanced"), "Driver": dbus.MakeVariant("dbusmock")},
	}
	if err := conn.Object(hadess, hadessPath).SetProperty(hadess+".Profiles", dbus.MakeVariant(profiles)); err != nil {
		t.Fatal(err)
	}
	p, _ := newPipeline(t, bus.Address)

	env := p.Do(t, "power.profile.set", `{"profile":"performance"}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "no performance power profile") {
		t.Errorf("error %q does not explain", msg)
	}
	if got := activeProfile(t, conn, hadess, hadessPath); got != "balanced" {
		t.Fatalf("ActiveProfile changed to %s", got)
	}
}

// TestProfileUPowerName serves the API under the name power-profiles-daemon
// 0.20 and later use. The dbusmock template only knows the older name, so
// this builds the same object with dbusmock's generic API; the adapter
// must prefer it.
func TestProfileUPowerName(t *testing.T) {
	const (
		name = "org.freedesktop.UPower.PowerProfiles"
		path = dbus.ObjectPath("/org/freedesktop/UPower/PowerProfiles")
	)
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "power_profiles_daemon", hadess, nil)
	startGenericMock(t, bus, conn, name, string(path), name)
	profiles := []map[string]dbus.Variant{
		{"Profile": dbus.MakeVariant("power-saver"), "Driver": dbus.MakeVariant("dbusmock")},
		{"Profile": dbus.MakeVariant("balanced"), "Driver": dbus.MakeVariant("dbusmock")},
		{"Profile": dbus.MakeVariant("performance"), "Driver": dbus.MakeVariant("dbusmock")},
	}
	props := map[string]dbus.Variant{
		"ActiveProfile": dbus.MakeVariant("power-saver"),
		"Profiles":      dbus.MakeVariant(profiles),
	}
	if err := conn.Object(name, path).Call("org.freedesktop.DBus.Mock.AddProperties", 0, name, props).Err; err != nil {
		t.Fatal(err)
	}
	p, _ := newPipeline(t, bus.Address)

	env := p.Do(t, "power.profile.set", `{"profile":"performance"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := activeProfile(t, conn, name, path); got != "performance" {
		t.Fatalf("new-name ActiveProfile = %s", got)
	}
	if got := activeProfile(t, conn, hadess, hadessPath); got != "balanced" {
		t.Fatalf("legacy-name ActiveProfile changed to %s; only the preferred name should be used", got)
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := activeProfile(t, conn, name, path); got != "power-saver" {
		t.Fatalf("ActiveProfile = %s after undo", got)
	}
}

func TestProfileDaemonAbsent(t *testing.T) {
	bus, _ := systemBus(t)
	p, _ := newPipeline(t, bus.Address)
	env := p.Do(t, "power.profile.set", `{"profile":"balanced"}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "power-profiles-daemon is not running") {
		t.Errorf("error %q does not say the daemon is missing", msg)
	}
}

func TestProfileSchemaRejectsUnknown(t *testing.T) {
	bus, _ := systemBus(t)
	p, _ := newPipeline(t, bus.Address)
	_, err := p.Runtime.Submit(context.Background(), runtime.Submission{Subject: p.Human,
		Draft: action.Draft{Action: "power.profile.set", Target: []byte(`{"profile":"turbo"}`)}})
	if err == nil {
		t.Fatal("a profile outside the enum was accepted")
	}
}
