package network_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/adapters/network"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/runtime"
)

const (
	nmName     = "org.freedesktop.NetworkManager"
	nmPath     = dbus.ObjectPath("/org/freedesktop/NetworkManager")
	bluez      = "org.bluez"
	adapter1   = "org.bluez.Adapter1"
	bluezMock  = "org.bluez.Mock"
	noRfkill   = "/nonexistent/noema-test/rfkill"
	noRfkillCh = "/nonexistent/noema-test/dev-rfkill"
)

// newPipeline installs a network module on addr. Unless the test passes
// its own, the rfkill paths point nowhere, so no test can reach the
// host's radios.
func newPipeline(t *testing.T, opts network.Options) (*pipelinetest.Pipeline, *network.Module) {
	t.Helper()
	if opts.RfkillDir == "" {
		opts.RfkillDir = noRfkill
	}
	if opts.RfkillDevice == "" {
		opts.RfkillDevice = noRfkillCh
	}
	m := network.New(opts)
	t.Cleanup(func() { m.Close() })
	return pipelinetest.New(t, pipelinetest.Options{}, m), m
}

func handler(t *testing.T, m *network.Module, name string) adapter.Handler {
	t.Helper()
	for _, h := range m.Handlers() {
		if h.Manifest().Name == name {
			return h
		}
	}
	t.Fatalf("no handler for %s", name)
	return nil
}

func errorOf(env *action.Envelope) string {
	if env.Execution.Error == nil {
		return ""
	}
	return env.Execution.Error.Message
}

func boolProp(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath, iface, prop string) bool {
	t.Helper()
	v, err := conn.Object(name, path).GetProperty(iface + "." + prop)
	if err != nil {
		t.Fatalf("read %s %s: %v", path, prop, err)
	}
	b, ok := v.Value().(bool)
	if !ok {
		t.Fatalf("%s %s is %s", path, prop, v.Signature())
	}
	return b
}

func wifiOn(t *testing.T, conn *dbus.Conn) bool {
	return boolProp(t, conn, nmName, nmPath, nmName, "WirelessEnabled")
}

func TestWifiOffAndUndo(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "networkmanager", nmName, nil)
	p, m := newPipeline(t, network.Options{SystemBus: bus.Address})

	changes, err := handler(t, m, "network.wifi.set").Preview(context.Background(),
		&action.Request{Action: "network.wifi.set", Target: []byte(`{"enabled":false}`)})
	if err != nil || len(changes) != 1 || changes[0].Old != "on" || changes[0].New != "off" {
		t.Fatalf("preview = %+v, %v", changes, err)
	}

	env := p.Do(t, "network.wifi.set", `{"enabled":false}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if wifiOn(t, conn) {
		t.Fatal("WirelessEnabled still true")
	}
	if env.Request.Risk.NetworkExposure {
		t.Error("turning Wi-Fi off flagged as network exposure")
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if !wifiOn(t, conn) {
		t.Fatal("undo left Wi-Fi off")
	}
	if !u.Request.Risk.NetworkExposure || u.Execution.ApprovalID == "" {
		t.Errorf("undo that turns Wi-Fi on: risk %v, approval %q", u.Request.Risk.Names(), u.Execution.ApprovalID)
	}
	p.Verify(t)
}

func TestWifiOnIsExposure(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "networkmanager", nmName, map[string]any{"WirelessEnabled": false})
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})

	env := p.Do(t, "network.wifi.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !env.Request.Risk.NetworkExposure || env.Execution.ApprovalID == "" {
		t.Errorf("turning Wi-Fi on: risk %v, approval %q", env.Request.Risk.Names(), env.Execution.ApprovalID)
	}
	if !wifiOn(t, conn) {
		t.Fatal("WirelessEnabled still false")
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if wifiOn(t, conn) {
		t.Fatal("undo left Wi-Fi on")
	}
}

func TestWifiHardwareSwitchOff(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "networkmanager", nmName, map[string]any{"WirelessEnabled": false, "WirelessHardwareEnabled": false})
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})

	env := p.Do(t, "network.wifi.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "switched off in hardware") {
		t.Errorf("error %q does not name the hardware switch", msg)
	}
	if wifiOn(t, conn) {
		t.Fatal("WirelessEnabled changed")
	}
}

func TestWifiUnchangedHasNothingToUndo(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "networkmanager", nmName, nil)
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})
	env := p.Do(t, "network.wifi.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if _, err := p.Runtime.Undo(context.Background(), env.Identity.ActionID, p.Human); !errors.Is(err, runtime.ErrCannotUndo) {
		t.Fatalf("undo of a no-op: %v", err)
	}
}

func TestServicesAbsent(t *testing.T) {
	bus, _ := systemBus(t)
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})
	for _, tc := range []struct{ action, target, want string }{
		{"network.wifi.set", `{"enabled":false}`, "NetworkManager is not running"},
		{"network.bluetooth.set", `{"enabled":false}`, "BlueZ (bluetoothd) is not running"},
		{"network.airplane.set", `{"enabled":true}`, "no radios found"},
	} {
		env := p.Do(t, tc.action, tc.target)
		pipelinetest.RequireState(t, env, action.Failed)
		if msg := errorOf(env); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q, want it to say %q", tc.action, msg, tc.want)
		}
	}
	p.Verify(t)
}

// addAdapter adds a BlueZ adapter through the template's API.
func addAdapter(t *testing.T, conn *dbus.Conn, dev, name string, powered bool) dbus.ObjectPath {
	t.Helper()
	var path string
	if err := conn.Object(bluez, "/").Call(bluezMock+".AddAdapter", 0, dev, name).Store(&path); err != nil {
		t.Fatalf("AddAdapter: %v", err)
	}
	if !powered {
		if err := conn.Object(bluez, dbus.ObjectPath(path)).SetProperty(adapter1+".Powered", dbus.MakeVariant(false)); err != nil {
			t.Fatal(err)
		}
	}
	return dbus.ObjectPath(path)
}

func powered(t *testing.T, conn *dbus.Conn, path dbus.ObjectPath) bool {
	return boolProp(t, conn, bluez, path, adapter1, "Powered")
}

func TestBluetoothOffAndUndo(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "bluez5", bluez, nil)
	hci0 := addAdapter(t, conn, "hci0", "laptop", true)
	hci1 := addAdapter(t, conn, "hci1", "dongle", false)
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})

	env := p.Do(t, "network.bluetooth.set", `{"enabled":false}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if powered(t, conn, hci0) || powered(t, conn, hci1) {
		t.Fatal("an adapter is still powered")
	}
	if env.Request.Risk.Any() {
		t.Errorf("turning Bluetooth off flagged %v", env.Request.Risk.Names())
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if !powered(t, conn, hci0) {
		t.Error("undo left hci0 off")
	}
	if powered(t, conn, hci1) {
		t.Error("undo powered hci1, which was off before")
	}
	if !u.Request.Risk.NetworkExposure {
		t.Error("undo that powers an adapter is not flagged")
	}
	p.Verify(t)
}

func TestBluetoothOn(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "bluez5", bluez, nil)
	hci0 := addAdapter(t, conn, "hci0", "laptop", false)
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})

	env := p.Do(t, "network.bluetooth.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !env.Request.Risk.NetworkExposure {
		t.Error("turning Bluetooth on is not flagged as network exposure")
	}
	if !powered(t, conn, hci0) {
		t.Fatal("hci0 not powered")
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if powered(t, conn, hci0) {
		t.Fatal("undo left hci0 powered")
	}
}

func TestBluetoothNoAdapter(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "bluez5", bluez, nil)
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})
	env := p.Do(t, "network.bluetooth.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "no Bluetooth adapter") {
		t.Errorf("error %q", msg)
	}
}

// TestBluetoothBlocked has BlueZ refuse to power the adapter as it does
// while rfkill blocks it; the action fails and says why.
func TestBluetoothBlocked(t *testing.T) {
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "bluez5", bluez, nil)
	hci0 := addAdapter(t, conn, "hci0", "laptop", false)
	if err := conn.Object(bluez, hci0).Call("org.freedesktop.DBus.Mock.AddMethod", 0,
		"org.freedesktop.DBus.Properties", "Set", "ssv", "",
		`raise dbus.exceptions.DBusException("Blocked through rfkill", name="org.bluez.Error.Blocked")`).Err; err != nil {
		t.Fatal(err)
	}
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address})

	env := p.Do(t, "network.bluetooth.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "blocked by rfkill") {
		t.Errorf("error %q does not explain", msg)
	}
	if powered(t, conn, hci0) {
		t.Fatal("adapter powered")
	}
}
