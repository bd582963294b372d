package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/verify"
)

const (
	probeRadio    = "network.radio.state"
	probeAirplane = "network.airplane.state"
)

// RadioArgs are the arguments of the network.radio.state probe: one
// radio, read back from the service or kernel that owns it.
type RadioArgs struct {
	// Radio is wifi or wwan (NetworkManager's switches), bluetooth (a
	// BlueZ adapter's Powered) or rfkill (a kernel switch's soft block).
	Radio string `json:"radio"`
	// Device names one Bluetooth adapter (object path) or rfkill switch
	// (sysfs name, rfkill<N>); empty means every one, and at least one.
	Device  string `json:"device,omitempty"`
	Enabled bool   `json:"enabled"`
}

func radioSpec(radio, device string, enabled bool) verify.Spec {
	return verify.Probe(probeRadio, RadioArgs{Radio: radio, Device: device, Enabled: enabled})
}

func (m *Module) probeRadio(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a RadioArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("%s: %w", probeRadio, err)
	}
	want := onOff(a.Enabled)
	switch a.Radio {
	case radioWifi, radioWwan:
		prop := nmProperty(a.Radio)
		on, err := m.nmBool(ctx, prop)
		if err != nil {
			return verify.Observation{}, err
		}
		return verify.Observation{Pass: on == a.Enabled, Observed: map[string]bool{prop: on},
			Detail: fmt.Sprintf("NetworkManager %s is %v, want %s", prop, on, want)}, nil
	case radioBT:
		var adapters []btAdapter
		if a.Device != "" {
			on, err := m.btPowered(ctx, dbus.ObjectPath(a.Device))
			if err != nil {
				return verify.Observation{}, err
			}
			adapters = []btAdapter{{Path: dbus.ObjectPath(a.Device), Powered: on}}
		} else {
			var err error
			if adapters, err = m.btAdapters(ctx); err != nil {
				return verify.Observation{}, err
			}
		}
		return judge(adapters, func(b btAdapter) (string, bool) { return b.label(), b.Powered }, a.Enabled, "Bluetooth adapter"), nil
	case radioRfkill:
		var switches []radioSwitch
		if a.Device != "" {
			sw, err := m.rfkill.read(a.Device)
			if err != nil {
				return verify.Observation{}, err
			}
			switches = []radioSwitch{sw}
		} else {
			var err error
			if switches, err = m.rfkill.list(); err != nil {
				return verify.Observation{}, err
			}
		}
		return judge(switches, func(s radioSwitch) (string, bool) { return s.String(), !s.Soft }, a.Enabled, "rfkill switch"), nil
	}
	return verify.Observation{}, fmt.Errorf("%s: unknown radio %q", probeRadio, a.Radio)
}

// judge passes when there is at least one item and every item is on (or
// off) as wanted, and names the ones that are not.
func judge[T any](items []T, state func(T) (string, bool), want bool, what string) verify.Observation {
	if len(items) == 0 {
		return verify.Observation{Pass: false, Observed: []string{}, Detail: "no " + what + " found"}
	}
	observed := map[string]string{}
	var wrong []string
	for _, it := range items {
		name, on := state(it)
		observed[name] = onOff(on)
		if on != want {
			wrong = append(wrong, name)
		}
	}
	if len(wrong) > 0 {
		return verify.Observation{Pass: false, Observed: observed,
			Detail: fmt.Sprintf("%s not %s: %s", what, onOff(want), strings.Join(wrong, ", "))}
	}
	return verify.Observation{Pass: true, Observed: observed,
		Detail: fmt.Sprintf("%d %s(s) %s", len(items), what, onOff(want))}
}

// radios is every radio the machine shows: its rfkill switches,
// NetworkManager's switches (nil when it is not running) and BlueZ's
// adapters. It is the pre-state of airplane mode.
type radios struct {
	Rfkill    []radioSwitch `json:"rfkill,omitempty"`
	NM        *nmRadios     `json:"networkmanager,omitempty"`
	Bluetooth []btAdapter   `json:"bluetooth,omitempty"`
}

var errNoRadios = errors.New("no radios found: no rfkill switches, and neither NetworkManager nor BlueZ is running")

func (r radios) empty() bool { return len(r.Rfkill) == 0 && r.NM == nil && len(r.Bluetooth) == 0 }

// snapshot reads every radio. A service that is not running contributes
// nothing; one that fails is an error.
func (m *Module) snapshot(ctx context.Context) (radios, error) {
	var r radios
	var err error
	if r.Rfkill, err = m.rfkill.list(); err != nil {
		return r, err
	}
	st, ok, err := m.nmState(ctx)
	if err != nil {
		return r, err
	}
	if ok {
		r.NM = &st
	}
	if r.Bluetooth, err = m.btAdapters(ctx); err != nil && !errors.Is(err, errNoBlueZ) {
		return r, err
	}
	return r, nil
}

// specs proves each radio in r is in the state r records.
func (r radios) specs() verify.Spec {
	var all []verify.Spec
	for _, sw := range r.Rfkill {
		all = append(all, radioSpec(radioRfkill, sw.Name, !sw.Soft))
	}
	if r.NM != nil {
		all = append(all, radioSpec(radioWifi, "", r.NM.Wifi), radioSpec(radioWwan, "", r.NM.Wwan))
	}
	for _, a := range r.Bluetooth {
		all = append(all, radioSpec(radioBT, string(a.Path), a.Powered))
	}
	return verify.AllOf(all...)
}

// anyOn reports whether a radio in r is on.
func (r radios) anyOn() bool {
	for _, sw := range r.Rfkill {
		if !sw.Soft && !sw.Hard {
			return true
		}
	}
	if r.NM != nil && (r.NM.Wifi || r.NM.Wwan) {
		return true
	}
	for _, a := range r.Bluetooth {
		if a.Powered {
			return true
		}
	}
	return false
}

// AirplaneArgs are the arguments of the network.airplane.state probe.
type AirplaneArgs struct {
	// On wants every radio off: every rfkill switch soft-blocked,
	// NetworkManager's Wi-Fi and mobile broadband off, every Bluetooth
	// adapter unpowered. Off wants all of them on.
	On bool `json:"on"`
}

func (m *Module) probeAirplane(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a AirplaneArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("%s: %w", probeAirplane, err)
	}
	r, err := m.snapshot(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	if r.empty() {
		return verify.Observation{Pass: false, Observed: r, Detail: errNoRadios.Error()}, nil
	}
	radioOn := !a.On
	var wrong []string
	for _, sw := range r.Rfkill {
		if !sw.Soft != radioOn {
			wrong = append(wrong, "rfkill "+sw.String())
		}
	}
	if r.NM != nil {
		if r.NM.Wifi != radioOn {
			wrong = append(wrong, "NetworkManager Wi-Fi")
		}
		if r.NM.Wwan != radioOn {
			wrong = append(wrong, "NetworkManager mobile broadband")
		}
	}
	for _, b := range r.Bluetooth {
		if b.Powered != radioOn {
			wrong = append(wrong, "Bluetooth "+b.label())
		}
	}
	if len(wrong) > 0 {
		return verify.Observation{Pass: false, Observed: r,
			Detail: fmt.Sprintf("airplane mode %s wants these %s: %s", onOff(a.On), onOff(radioOn), strings.Join(wrong, ", "))}, nil
	}
	return verify.Observation{Pass: true, Observed: r,
		Detail: fmt.Sprintf("every radio is %s (%d rfkill switch(es), NetworkManager %v, %d Bluetooth adapter(s))",
			onOff(radioOn), len(r.Rfkill), r.NM != nil, len(r.Bluetooth))}, nil
}
