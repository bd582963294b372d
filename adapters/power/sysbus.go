package power

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// systemBus is a lazily opened connection to the system bus. Power
// actions are rare, so the connection is made on first use and reopened
// if the bus went away in between.
type systemBus struct {
	addr string

	mu   sync.Mutex
	conn *dbus.Conn
}

type connResult struct {
	conn *dbus.Conn
	err  error
}

// get returns a live connection, connecting if needed.
func (b *systemBus) get(ctx context.Context) (*dbus.Conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil && b.conn.Connected() {
		return b.conn, nil
	}
	if b.conn != nil {
		b.conn.Close()
		b.conn = nil
	}
	// The connection outlives this call, so it is not tied to ctx (godbus
	// closes a connection when its context ends); ctx only bounds the wait.
	done := make(chan connResult, 1)
	go func() {
		var c connResult
		if b.addr == "" {
			c.conn, c.err = dbus.ConnectSystemBus()
		} else {
			c.conn, c.err = dbus.Connect(b.addr)
		}
		done <- c
	}()
	select {
	case c := <-done:
		if c.err != nil {
			return nil, fmt.Errorf("connect to the system D-Bus: %w", c.err)
		}
		b.conn = c.conn
		return c.conn, nil
	case <-ctx.Done():
		go func() {
			if c := <-done; c.conn != nil {
				c.conn.Close()
			}
		}()
		return nil, fmt.Errorf("connect to the system D-Bus: %w", ctx.Err())
	}
}

func (b *systemBus) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return nil
	}
	err := b.conn.Close()
	b.conn = nil
	return err
}

// dbusErrorName returns the D-Bus error name carried by err, or "".
func dbusErrorName(err error) string {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name
	}
	var dp *dbus.Error
	if errors.As(err, &dp) {
		return dp.Name
	}
	return ""
}

// serviceMissing reports whether err says that nobody owns the bus name
// called, as opposed to the service answering with an error.
func serviceMissing(err error) bool {
	switch dbusErrorName(err) {
	case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
		return true
	}
	return false
}

// notImplemented reports whether err says the service is there but the
// object, interface or method is not, as with an older API version.
func notImplemented(err error) bool {
	switch dbusErrorName(err) {
	case "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownInterface",
		"org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownProperty",
		"org.freedesktop.DBus.Error.InvalidArgs":
		return true
	}
	return false
}

// getProperty reads one property with ctx.
func getProperty(ctx context.Context, obj dbus.BusObject, iface, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, iface, name).Store(&v)
	return v, err
}

// setProperty writes one property with ctx.
func setProperty(ctx context.Context, obj dbus.BusObject, iface, name string, value any) error {
	return obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Set", 0, iface, name, dbus.MakeVariant(value)).Err
}
