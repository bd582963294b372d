package network

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/noema-project/noema/internal/platform/dbusconn"

	"github.com/godbus/dbus/v5"
)

const (
	bluezName    = "org.bluez"
	adapterIface = "org.bluez.Adapter1"
)

var (
	errNoBlueZ     = errors.New("BlueZ (bluetoothd) is not running on the system bus (org.bluez)")
	errNoAdapter   = errors.New("BlueZ lists no Bluetooth adapter on this machine")
	errAdapterGone = errors.New("Bluetooth adapter is gone")
)

// btAdapter is one BlueZ adapter and whether it is powered.
type btAdapter struct {
	Path    dbus.ObjectPath `json:"path"`
	Name    string          `json:"name,omitempty"`
	Powered bool            `json:"powered"`
}

func (a btAdapter) label() string {
	if a.Name != "" {
		return fmt.Sprintf("%s (%s)", a.Name, a.Path)
	}
	return string(a.Path)
}

// managedObjects is the reply of ObjectManager.GetManagedObjects.
type managedObjects = map[dbus.ObjectPath]map[string]map[string]dbus.Variant

// parseAdapters picks the adapters out of BlueZ's object tree, in path
// order. An adapter whose Powered property is missing or not a boolean is
// reported as an error rather than guessed at.
func parseAdapters(objs managedObjects) ([]btAdapter, error) {
	var out []btAdapter
	for path, ifaces := range objs {
		props, ok := ifaces[adapterIface]
		if !ok {
			continue
		}
		p, ok := props["Powered"]
		if !ok {
			return nil, fmt.Errorf("Bluetooth adapter %s has no Powered property", path)
		}
		on, ok := p.Value().(bool)
		if !ok {
			return nil, fmt.Errorf("Bluetooth adapter %s Powered is %s, not a boolean", path, p.Signature())
		}
		a := btAdapter{Path: path, Powered: on}
		if v, ok := props["Alias"].Value().(string); ok {
			a.Name = v
		} else if v, ok := props["Name"].Value().(string); ok {
			a.Name = v
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func bluezErr(op string, err error) error {
	if dbusconn.ServiceMissing(err) {
		return errNoBlueZ
	}
	return fmt.Errorf("BlueZ %s: %w", op, err)
}

// btAdapters lists BlueZ's adapters; errNoBlueZ when it is not running.
func (m *Module) btAdapters(ctx context.Context) ([]btAdapter, error) {
	conn, err := m.bus.Get(ctx)
	if err != nil {
		return nil, err
	}
	var objs managedObjects
	err = conn.Object(bluezName, "/").CallWithContext(ctx, "org.freedesktop.DBus.ObjectManager.GetManagedObjects", 0).Store(&objs)
	if err != nil {
		return nil, bluezErr("GetManagedObjects", err)
	}
	return parseAdapters(objs)
}

// btPowered reads one adapter's Powered property.
func (m *Module) btPowered(ctx context.Context, path dbus.ObjectPath) (bool, error) {
	conn, err := m.bus.Get(ctx)
	if err != nil {
		return false, err
	}
	v, err := dbusconn.GetProperty(ctx, conn.Object(bluezName, path), adapterIface, "Powered")
	if err != nil {
		if dbusconn.NotImplemented(err) {
			return false, fmt.Errorf("%w: %s", errAdapterGone, path)
		}
		return false, bluezErr("Powered of "+string(path), err)
	}
	on, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("Bluetooth adapter %s Powered is %s, not a boolean", path, v.Signature())
	}
	return on, nil
}

// btSetPowered switches one adapter. Powering on fails while rfkill
// blocks the adapter; the error says so.
func (m *Module) btSetPowered(ctx context.Context, a btAdapter, on bool) error {
	conn, err := m.bus.Get(ctx)
	if err != nil {
		return err
	}
	err = dbusconn.SetProperty(ctx, conn.Object(bluezName, a.Path), adapterIface, "Powered", on)
	if err == nil {
		return nil
	}
	if dbusconn.ServiceMissing(err) {
		return errNoBlueZ
	}
	if dbusconn.NotImplemented(err) {
		return fmt.Errorf("%w: %s", errAdapterGone, a.label())
	}
	msg := fmt.Sprintf("BlueZ refused to turn Bluetooth adapter %s %s", a.label(), onOff(on))
	if on && (dbusconn.ErrorName(err) == "org.bluez.Error.Blocked" || strings.Contains(strings.ToLower(err.Error()), "rfkill")) {
		msg += " (it is blocked by rfkill: airplane mode or a hardware switch)"
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// btSetPoweredSettling is btSetPowered for just after an rfkill unblock,
// when bluetoothd may still be bringing the adapter back: it retries for
// a few seconds before giving up.
func (m *Module) btSetPoweredSettling(ctx context.Context, a btAdapter, on bool) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := m.btSetPowered(ctx, a, on)
		if err == nil || errors.Is(err, errNoBlueZ) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
