package system

import (
	"bytes"
	"context"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// dbusMock is a python3-dbusmock service on a private bus that stands in
// for the system bus (dbus-daemon --session serves the same protocol).
type dbusMock struct {
	bus  *dconftest.Bus
	conn *dbus.Conn
	name string
	out  *lockedBuffer
}

// mockPython finds a Python that can import dbusmock; Debian's lives in
// /usr/bin, which may not be the first python3 on PATH.
func mockPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import dbusmock").Run() == nil {
			return path
		}
	}
	t.Skip("python3-dbusmock is not installed (Debian package python3-dbusmock)")
	return ""
}

// startMock runs `python3 -m dbusmock --template template` against bus and
// waits until it owns name.
func startMock(t *testing.T, bus *dconftest.Bus, template, name string, params string) *dbusMock {
	t.Helper()
	py := mockPython(t)
	args := []string{"-m", "dbusmock", "--template", template}
	if params != "" {
		args = append(args, "-p", params)
	}
	cmd := exec.Command(py, args...)
	cmd.Env = append(bus.Env(), "DBUS_SYSTEM_BUS_ADDRESS="+bus.Address)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbusmock: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	conn := bus.Conn(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err == nil && has {
			break
		}
		select {
		case <-done:
			t.Fatalf("dbusmock %s exited:\n%s", template, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbusmock %s did not claim %s within 20s:\n%s", template, name, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &dbusMock{bus: bus, conn: conn, name: name, out: out}
}

// call invokes a method on the mock (including its org.freedesktop.DBus.Mock
// control interface).
func (d *dbusMock) call(t *testing.T, path dbus.ObjectPath, method string, args ...any) *dbus.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := d.conn.Object(d.name, path).CallWithContext(ctx, method, 0, args...)
	if c.Err != nil {
		t.Fatalf("%s: %v\nmock log:\n%s", method, c.Err, d.out)
	}
	return c
}

// addMethod gives the mock a method implemented in Python.
func (d *dbusMock) addMethod(t *testing.T, path dbus.ObjectPath, iface, name, in, out, code string) {
	t.Helper()
	d.call(t, path, "org.freedesktop.DBus.Mock.AddMethod", iface, name, in, out, code)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
