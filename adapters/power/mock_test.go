package power_test

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

// dbusmockPython returns an interpreter that can import dbusmock, or
// skips the test.
func dbusmockPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import dbusmock").Run() == nil {
			return py
		}
	}
	t.Skip("python3-dbusmock is not installed (Debian package python3-dbusmock); skipping test that needs mocked system services")
	return ""
}

// systemBus starts a private bus and returns it with a test connection.
func systemBus(t *testing.T) (*dconftest.Bus, *dbus.Conn) {
	t.Helper()
	dbusmockPython(t)
	bus := dconftest.StartSessionBus(t)
	return bus, bus.Conn(t)
}

// startMock runs a dbusmock template on bus and waits until it owns name.
func startMock(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, template, name string, params map[string]any) {
	t.Helper()
	args := []string{"--template", template}
	if params != nil {
		raw, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--parameters", string(raw))
	}
	runMock(t, bus, conn, name, args...)
}

// startGenericMock runs dbusmock without a template: one object at path
// with interface iface, to be filled through org.freedesktop.DBus.Mock.
func startGenericMock(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, name, path, iface string) {
	t.Helper()
	runMock(t, bus, conn, name, name, path, iface)
}

func runMock(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, name string, mockArgs ...string) {
	t.Helper()
	py := dbusmockPython(t)
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

// mockCall is one entry of a dbusmock object's call log.
type mockCall struct {
	Time   uint64
	Method string
	Args   []dbus.Variant
}

// mockCalls reads the call log of a mocked object.
func mockCalls(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath) []mockCall {
	t.Helper()
	var calls []mockCall
	if err := conn.Object(name, path).Call("org.freedesktop.DBus.Mock.GetCalls", 0).Store(&calls); err != nil {
		t.Fatalf("GetCalls: %v", err)
	}
	return calls
}

// addMockMethod replaces or adds a method on a mocked object; code is
// Python run by dbusmock.
func addMockMethod(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath, iface, method, in, out, code string) {
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
