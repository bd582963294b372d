package network

import (
	"context"
	"errors"
	"fmt"

	"github.com/noema-project/noema/internal/platform/dbusconn"

	"github.com/godbus/dbus/v5"
)

const (
	nmName  = "org.freedesktop.NetworkManager"
	nmPath  = "/org/freedesktop/NetworkManager"
	nmIface = "org.freedesktop.NetworkManager"
)

var errNoNM = errors.New("NetworkManager is not running on the system bus (org.freedesktop.NetworkManager)")

// NetworkManager's radio switches. The *Enabled properties are the
// software switches NetworkManager keeps (and mirrors into rfkill); the
// *HardwareEnabled ones are the hardware switches, which no program can
// move.
const (
	nmWifi   = "WirelessEnabled"
	nmWifiHW = "WirelessHardwareEnabled"
	nmWwan   = "WwanEnabled"
)

// Radio names used in probe arguments.
const (
	radioWifi   = "wifi"
	radioWwan   = "wwan"
	radioBT     = "bluetooth"
	radioRfkill = "rfkill"
)

// nmProperty maps a radio name to its NetworkManager software switch, or
// "" for radios NetworkManager does not switch.
func nmProperty(radio string) string {
	switch radio {
	case radioWifi:
		return nmWifi
	case radioWwan:
		return nmWwan
	}
	return ""
}

func (m *Module) nm(ctx context.Context) (dbus.BusObject, error) {
	conn, err := m.bus.Get(ctx)
	if err != nil {
		return nil, err
	}
	return conn.Object(nmName, nmPath), nil
}

// nmBool reads one of NetworkManager's boolean properties.
func (m *Module) nmBool(ctx context.Context, prop string) (bool, error) {
	obj, err := m.nm(ctx)
	if err != nil {
		return false, err
	}
	v, err := dbusconn.GetProperty(ctx, obj, nmIface, prop)
	if dbusconn.ServiceMissing(err) {
		return false, errNoNM
	}
	if err != nil {
		return false, fmt.Errorf("NetworkManager %s: %w", prop, err)
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("NetworkManager %s is %s, not a boolean", prop, v.Signature())
	}
	return b, nil
}

// nmSet moves one of NetworkManager's software radio switches.
func (m *Module) nmSet(ctx context.Context, prop string, on bool) error {
	obj, err := m.nm(ctx)
	if err != nil {
		return err
	}
	err = dbusconn.SetProperty(ctx, obj, nmIface, prop, on)
	if dbusconn.ServiceMissing(err) {
		return errNoNM
	}
	if err != nil {
		return fmt.Errorf("NetworkManager refused to turn %s %s: %w", prop, onOff(on), err)
	}
	return nil
}

// nmRadios is the state of NetworkManager's software switches.
type nmRadios struct {
	Wifi bool `json:"wifi"`
	Wwan bool `json:"wwan"`
}

// nmState reads both switches; ok is false when NetworkManager is not
// running.
func (m *Module) nmState(ctx context.Context) (st nmRadios, ok bool, err error) {
	if st.Wifi, err = m.nmBool(ctx, nmWifi); errors.Is(err, errNoNM) {
		return st, false, nil
	} else if err != nil {
		return st, false, err
	}
	if st.Wwan, err = m.nmBool(ctx, nmWwan); err != nil {
		return st, false, err
	}
	return st, true, nil
}
