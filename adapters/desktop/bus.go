package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/noema-project/noema/internal/platform/dbusconn"

	"github.com/godbus/dbus/v5"
)

// systemBus returns the system bus connection, connecting on first use
// and again after the bus went away, so a long-running daemon survives a
// restarted dbus-daemon.
func (m *Module) systemBus(ctx context.Context) (*dbus.Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.system != nil && m.system.Connected() {
		return m.system, nil
	}
	addr := m.opts.SystemBus
	if addr == "" {
		addr = os.Getenv("DBUS_SYSTEM_BUS_ADDRESS")
	}
	if addr == "" {
		addr = "unix:path=/var/run/dbus/system_bus_socket"
	}
	c, err := dbusconn.Dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the system bus: %w", err)
	}
	m.system = c
	return c, nil
}

// sessionBus returns the session bus connection used for notifications.
func (m *Module) sessionBus(ctx context.Context) (*dbus.Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.session != nil && m.session.Connected() {
		return m.session, nil
	}
	addr := m.opts.SessionBus
	if addr == "" {
		addr = m.opts.DConf.BusAddress
	}
	if addr == "" {
		addr = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	}
	if addr == "" {
		return nil, errors.New("no session bus: DBUS_SESSION_BUS_ADDRESS is not set (is this a desktop session?)")
	}
	c, err := dbusconn.Dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the session bus: %w", err)
	}
	m.session = c
	return c, nil
}

// busError explains common D-Bus failures in terms of the service the
// person knows.
func busError(service, what string, err error) error {
	var de dbus.Error
	if errors.As(err, &de) {
		switch de.Name {
		case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
			return fmt.Errorf("%s is not running (%s): %w", service, what, err)
		case "org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownObject",
			"org.freedesktop.DBus.Error.UnknownInterface":
			return fmt.Errorf("%s does not offer %s: %w", service, what, err)
		case "org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired":
			return fmt.Errorf("%s refused %s: %w", service, what, err)
		}
	}
	return fmt.Errorf("%s: %s: %w", service, what, err)
}
