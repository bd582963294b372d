package system

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/noema-project/noema/internal/platform/dbusmocktest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// dbusMock is a python3-dbusmock service on a private bus that stands in
// for the system bus (dbus-daemon --session serves the same protocol).
type dbusMock struct {
	bus  *dconftest.Bus
	conn *dbus.Conn
	name string
}

// startMock runs a dbusmock template (params as JSON) against bus and
// waits until it owns name.
func startMock(t *testing.T, bus *dconftest.Bus, template, name string, params string) *dbusMock {
	t.Helper()
	var p map[string]any
	if params != "" {
		if err := json.Unmarshal([]byte(params), &p); err != nil {
			t.Fatalf("mock parameters: %v", err)
		}
	}
	conn := bus.Conn(t)
	dbusmocktest.Start(t, bus, conn, template, name, p)
	return &dbusMock{bus: bus, conn: conn, name: name}
}

// call invokes a method on the mock (including its org.freedesktop.DBus.Mock
// control interface).
func (d *dbusMock) call(t *testing.T, path dbus.ObjectPath, method string, args ...any) *dbus.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := d.conn.Object(d.name, path).CallWithContext(ctx, method, 0, args...)
	if c.Err != nil {
		t.Fatalf("%s: %v", method, c.Err)
	}
	return c
}

// addMethod gives the mock a method implemented in Python.
func (d *dbusMock) addMethod(t *testing.T, path dbus.ObjectPath, iface, name, in, out, code string) {
	t.Helper()
	dbusmocktest.AddMethod(t, d.conn, d.name, path, iface, name, in, out, code)
}
