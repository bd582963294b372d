package power_test

import (
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/internal/platform/dbusmocktest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// The system services in these tests are python-dbusmock templates on a
// private dbus-daemon that stands in for the system bus (dbusmocktest).

func systemBus(t *testing.T) (*dconftest.Bus, *dbus.Conn) { return dbusmocktest.SystemBus(t) }

func startMock(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, template, name string, params map[string]any) {
	t.Helper()
	dbusmocktest.Start(t, bus, conn, template, name, params)
}

func startGenericMock(t *testing.T, bus *dconftest.Bus, conn *dbus.Conn, name, path, iface string) {
	t.Helper()
	dbusmocktest.StartGeneric(t, bus, conn, name, path, iface)
}

type mockCall = dbusmocktest.Call

func mockCalls(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath) []mockCall {
	t.Helper()
	return dbusmocktest.Calls(t, conn, name, path)
}

func addMockMethod(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath, iface, method, in, out, code string) {
	t.Helper()
	dbusmocktest.AddMethod(t, conn, name, path, iface, method, in, out, code)
}
