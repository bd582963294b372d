package timekeeping

import (
	"context"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// Notification is one desktop notification.
type Notification struct {
	Summary string
	Body    string
	// Category follows the notification spec ("x-noema.reminder").
	Category string
}

// Notifier shows notifications. The daemon supplies the D-Bus one; tests
// may supply any other.
type Notifier interface {
	// Notify shows n and returns the id the notification server gave it.
	Notify(ctx context.Context, n Notification) (uint32, error)
}

// DBusNotifier calls org.freedesktop.Notifications.Notify on the session
// bus, which every desktop's notification server implements.
type DBusNotifier struct {
	// Address is the session bus; empty means $DBUS_SESSION_BUS_ADDRESS.
	Address string
	// AppName is shown as the sender (default "Noema").
	AppName string

	mu   sync.Mutex
	conn *dbus.Conn
}

// NewDBusNotifier returns a notifier for the bus at address (empty: the
// session bus). It connects on first use.
func NewDBusNotifier(address string) *DBusNotifier {
	return &DBusNotifier{Address: address, AppName: "Noema"}
}

func (d *DBusNotifier) connection(ctx context.Context) (*dbus.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && d.conn.Connected() {
		return d.conn, nil
	}
	var conn *dbus.Conn
	var err error
	if d.Address == "" {
		conn, err = dbus.ConnectSessionBus(dbus.WithContext(ctx))
	} else {
		conn, err = dbus.Connect(d.Address, dbus.WithContext(ctx))
	}
	if err != nil {
		return nil, fmt.Errorf("notifications need the session D-Bus: %w", err)
	}
	d.conn = conn
	return conn, nil
}

// Notify implements Notifier.
func (d *DBusNotifier) Notify(ctx context.Context, n Notification) (uint32, error) {
	conn, err := d.connection(ctx)
	if err != nil {
		return 0, err
	}
	hints := map[string]dbus.Variant{
		"urgency":       dbus.MakeVariant(byte(1)),
		"desktop-entry": dbus.MakeVariant("noema"),
	}
	if n.Category != "" {
		hints["category"] = dbus.MakeVariant(n.Category)
	}
	app := d.AppName
	if app == "" {
		app = "Noema"
	}
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	var id uint32
	err = obj.CallWithContext(ctx, "org.freedesktop.Notifications.Notify", 0,
		app, uint32(0), "alarm-symbolic", n.Summary, n.Body, []string{}, hints, int32(-1)).Store(&id)
	if err != nil {
		return 0, fmt.Errorf("show notification (is a notification server running on the session bus?): %w", err)
	}
	return id, nil
}

// Close closes the bus connection.
func (d *DBusNotifier) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close()
	d.conn = nil
	return err
}
