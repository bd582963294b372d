// Package dbusmocktest runs python-dbusmock templates on a private
// dbus-daemon for tests, the way GNOME projects test their D-Bus clients:
// logind, NetworkManager, BlueZ, UPower, systemd and the notification
// daemon are real D-Bus services speaking their real interfaces, scripted
// by the test. Tests skip when python3-dbusmock is not installed.
package dbusmocktest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// The system services in these tests are python-dbusmock templates (the
// way GNOME projects test their D-Bus clients) on a private dbus-daemon
// that stands in for the system bus.

// Python returns an interpreter that can import dbusmock, or
// skips the test.
func Python(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import dbusmock").Run() == nil {
			return py
		}
	}
	t.Skip("python3-dbusmock is not installed (Debian package python3-dbusmock); skipping test that needs mocked system services")
	return ""
}

// SystemBus starts a private bus and returns it with a test connection.
func SystemBus(t *testing.T) (*dconftest.Bus, *dbus.Conn) {
	t.Helper()
	Python(t)
	bus := dconftest.StartSessionBus(t)
	return bus, bus.Conn(t)
}

// Start runs a dbusmock template on bus and waits until it owns name.
func Start(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, template, name string, params map[string]any) {
	t.Helper()
	args := []string{"--template", template}
	if params != nil {
		raw, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--parameters", string(raw))
	}
	Run(t, bus, conn, name, args...)
}

// StartGeneric runs dbusmock without a template: one object at path
// with interface iface, to be filled through org.freedesktop.DBus.Mock.
func StartGeneric(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, name, path, iface string) {
	t.Helper()
	Run(t, bus, conn, name, name, path, iface)
}

// Run runs dbusmock with mockArgs on bus (as its system bus) and waits
// until it owns name; the mock is stopped when the test ends.
func Run(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, name string, mockArgs ...string) {
	t.Helper()
	py := Python(t)
	template := strings.Join(mockArgs, " ")
	cmd := exec.Command(py, append([]string{"-m", "dbusmock", "--system"}, mockArgs...)...)
	cmd.Env = append(bus.Env(), "DBUS_SYSTEM_BUS_ADDRESS="+bus.Address)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbusmock %s: %v", template, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
			t.Fatal(err)
		}
		if has {
			return
		}
		select {
		case <-exited:
			t.Fatalf("dbusmock %s exited early:\n%s", template, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbusmock %s did not claim %s within 30s:\n%s", template, name, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Call is one entry of a dbusmock object's call log.
type Call struct {
	Time   uint64
	Method string
	Args   []dbus.Variant
}

// Calls reads the call log of a mocked object.
func Calls(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath) []Call {
	t.Helper()
	var calls []Call
	if err := conn.Object(name, path).Call("org.freedesktop.DBus.Mock.GetCalls", 0).Store(&calls); err != nil {
		t.Fatalf("GetCalls: %v", err)
	}
	return calls
}

// AddMethod replaces or adds a method on a mocked object; code is
// Python run by dbusmock.
func AddMethod(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath, iface, method, in, out, code string) {
	t.Helper()
	if err := conn.Object(name, path).Call("org.freedesktop.DBus.Mock.AddMethod", 0, iface, method, in, out, code).Err; err != nil {
		t.Fatalf("AddMethod %s: %v", method, err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
