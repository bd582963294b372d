package system

import (
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// lazyBus is a D-Bus connection made on first use and made again when
// the bus went away (a restarted dbus-daemon, a closed socket).
type lazyBus struct {
	addr   string // empty: the standard bus of its kind
	system bool

	mu   sync.Mutex
	conn *dbus.Conn
}

// name says which bus this is, for error messages.
func (b *lazyBus) name() string {
	kind := "session bus"
	if b.system {
		kind = "system bus"
	}
	if b.addr != "" {
		return kind + " at " + b.addr
	}
	return kind
}

// get returns a live connection. Connections are not tied to a request's
// context: godbus closes a connection whose context ends, and this one is
// shared by requests.
func (b *lazyBus) get() (*dbus.Conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil && b.conn.Connected() {
		return b.conn, nil
	}
	var c *dbus.Conn
	var err error
	switch {
	case b.addr != "":
		c, err = dbus.Connect(b.addr)
	case b.system:
		c, err = dbus.ConnectSystemBus()
	default:
		c, err = dbus.ConnectSessionBus()
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the %s: %w", b.name(), err)
	}
	b.conn = c
	return c, nil
}

// Close closes the connection, if one was made.
func (b *lazyBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return nil
	}
	err := b.conn.Close()
	b.conn = nil
	return err
}
