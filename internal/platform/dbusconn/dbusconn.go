// Package dbusconn holds what every D-Bus client in Noema needs: a
// private connection that honours a context while authenticating, a
// connection made on first use and made again after the bus went away,
// and the error names that tell "service not running" from "service said
// no".
package dbusconn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// Dial opens and authenticates a private connection to the bus at addr.
// godbus takes no context for authentication, so the connection is closed
// if ctx ends first, which unblocks it.
func Dial(ctx context.Context, addr string) (*dbus.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := dbus.Dial(addr)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		if err := conn.Auth(nil); err != nil {
			done <- err
			return
		}
		done <- conn.Hello()
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		conn.Close()
		<-done
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// Lazy is a connection made on first use and made again when the bus
// went away (a restarted dbus-daemon), so a long-running daemon survives
// it. Actions are rare, so nothing connects until one needs the bus.
type Lazy struct {
	// Addr is the bus address; empty means the standard bus of its kind.
	Addr string
	// System selects the system bus when Addr is empty.
	System bool

	mu   sync.Mutex
	conn *dbus.Conn
}

// Name says which bus this is, for error messages.
func (b *Lazy) Name() string {
	kind := "session D-Bus"
	if b.System {
		kind = "system D-Bus"
	}
	if b.Addr != "" {
		return kind + " at " + b.Addr
	}
	return kind
}

type connResult struct {
	conn *dbus.Conn
	err  error
}

// Get returns a live connection, connecting if needed. The connection
// outlives the call, so it is not tied to ctx (godbus closes a connection
// when its context ends); ctx only bounds the wait.
func (b *Lazy) Get(ctx context.Context) (*dbus.Conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil && b.conn.Connected() {
		return b.conn, nil
	}
	if b.conn != nil {
		b.conn.Close()
		b.conn = nil
	}
	done := make(chan connResult, 1)
	go func() {
		var c connResult
		switch {
		case b.Addr != "":
			c.conn, c.err = dbus.Connect(b.Addr)
		case b.System:
			c.conn, c.err = dbus.ConnectSystemBus()
		default:
			c.conn, c.err = dbus.ConnectSessionBus()
		}
		done <- c
	}()
	select {
	case c := <-done:
		if c.err != nil {
			return nil, fmt.Errorf("connect to the %s: %w", b.Name(), c.err)
		}
		b.conn = c.conn
		return c.conn, nil
	case <-ctx.Done():
		go func() {
			if c := <-done; c.conn != nil {
				c.conn.Close()
			}
		}()
		return nil, fmt.Errorf("connect to the %s: %w", b.Name(), ctx.Err())
	}
}

// Close closes the connection, if one was made.
func (b *Lazy) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return nil
	}
	err := b.conn.Close()
	b.conn = nil
	return err
}

// ErrorName returns the D-Bus error name carried by err, or "".
func ErrorName(err error) string {
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

// ServiceMissing reports whether err says that nobody owns the bus name
// called, as opposed to the service answering with an error.
func ServiceMissing(err error) bool {
	switch ErrorName(err) {
	case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
		return true
	}
	return false
}

// NotImplemented reports whether err says the service is there but the
// object, interface or method is not, as with an older API version.
func NotImplemented(err error) bool {
	switch ErrorName(err) {
	case "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownInterface",
		"org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownProperty",
		"org.freedesktop.DBus.Error.InvalidArgs":
		return true
	}
	return false
}

// GetProperty reads one property with ctx.
func GetProperty(ctx context.Context, obj dbus.BusObject, iface, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, iface, name).Store(&v)
	return v, err
}

// SetProperty writes one property with ctx.
func SetProperty(ctx context.Context, obj dbus.BusObject, iface, name string, value any) error {
	return obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Set", 0, iface, name, dbus.MakeVariant(value)).Err
}
