package system

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	upowerName   = "org.freedesktop.UPower"
	upowerPath   = "/org/freedesktop/UPower"
	upowerDevice = "org.freedesktop.UPower.Device"

	upTypeBattery = 2
)

// battery is one battery as UPower reports it.
type battery struct {
	Device          string  `json:"device"`
	Model           string  `json:"model,omitempty"`
	Percent         float64 `json:"percent"`
	State           string  `json:"state"`
	TimeToEmptySecs int64   `json:"time_to_empty_seconds,omitempty"`
	TimeToFullSecs  int64   `json:"time_to_full_seconds,omitempty"`
}

// power is the machine's power source.
type power struct {
	OnBattery bool      `json:"on_battery"`
	Batteries []battery `json:"batteries"`
}

var upStates = map[uint32]string{
	0: "unknown", 1: "charging", 2: "discharging", 3: "empty",
	4: "fully-charged", 5: "pending-charge", 6: "pending-discharge",
}

// errNoUPower says UPower is not on the bus: the machine has no power
// daemon, which is normal for servers and containers.
var errNoUPower = errors.New("UPower is not running on the system bus")

// readPower asks UPower for the batteries it knows.
func (m *Module) readPower(ctx context.Context) (*power, error) {
	conn, err := m.system.get()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	obj := conn.Object(upowerName, upowerPath)
	var devices []dbus.ObjectPath
	if err := obj.CallWithContext(ctx, upowerName+".EnumerateDevices", 0).Store(&devices); err != nil {
		var de dbus.Error
		if errors.As(err, &de) && (de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" || de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
			return nil, errNoUPower
		}
		return nil, fmt.Errorf("UPower: enumerate devices: %w", err)
	}
	p := &power{Batteries: []battery{}}
	if v, err := obj.GetProperty(upowerName + ".OnBattery"); err == nil {
		p.OnBattery, _ = v.Value().(bool)
	}
	sort.Slice(devices, func(i, j int) bool { return devices[i] < devices[j] })
	for _, d := range devices {
		var props map[string]dbus.Variant
		err := conn.Object(upowerName, d).CallWithContext(ctx, "org.freedesktop.DBus.Properties.GetAll", 0, upowerDevice).Store(&props)
		if err != nil {
			return nil, fmt.Errorf("UPower: read %s: %w", d, err)
		}
		if b, ok := batteryFromProps(string(d), props); ok {
			p.Batteries = append(p.Batteries, b)
		}
	}
	return p, nil
}

// batteryFromProps picks a present battery out of a device's properties;
// types are checked, never assumed.
func batteryFromProps(path string, props map[string]dbus.Variant) (battery, bool) {
	typ, _ := variantUint(props["Type"])
	if typ != upTypeBattery {
		return battery{}, false
	}
	if present, ok := props["IsPresent"].Value().(bool); ok && !present {
		return battery{}, false
	}
	b := battery{Device: path}
	b.Model, _ = props["Model"].Value().(string)
	b.Percent, _ = props["Percentage"].Value().(float64)
	st, _ := variantUint(props["State"])
	b.State = upStates[uint32(st)]
	if b.State == "" {
		b.State = "unknown"
	}
	b.TimeToEmptySecs, _ = props["TimeToEmpty"].Value().(int64)
	b.TimeToFullSecs, _ = props["TimeToFull"].Value().(int64)
	return b, true
}

func variantUint(v dbus.Variant) (uint64, bool) {
	switch x := v.Value().(type) {
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int32:
		if x >= 0 {
			return uint64(x), true
		}
	case int64:
		if x >= 0 {
			return uint64(x), true
		}
	}
	return 0, false
}
