// Package network owns the network.* radio actions: Wi-Fi through
// NetworkManager, Bluetooth through BlueZ, and airplane mode across the
// kernel's rfkill switches, NetworkManager and BlueZ together.
//
// Every action records the state of each radio it touches, so undo puts
// each one back as it was, and every effect is verified by reading the
// radios back from the service or the kernel. Turning a radio on makes
// the machine reachable from nearby networks and devices, so those
// requests carry the network-exposure risk flag; turning radios off does
// not.
package network

import (
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/platform/dbusconn"
	"github.com/noema-project/noema/verify"
)

// Options locate the services and kernel interfaces.
type Options struct {
	// SystemBus is the D-Bus address of the system bus; empty means the
	// standard one (DBUS_SYSTEM_BUS_ADDRESS or the well-known socket).
	SystemBus string
	// RfkillDir is the sysfs class directory of the kernel's radio
	// switches; empty means /sys/class/rfkill. A missing directory means
	// the machine has no rfkill switches.
	RfkillDir string
	// RfkillDevice is the rfkill control device; empty means /dev/rfkill.
	// It is used for a switch whose sysfs "soft" file is not writable:
	// those files are root's, while logind grants the active user access
	// to the device.
	RfkillDevice string
}

// Module is the network adapter.
type Module struct {
	bus    dbusconn.Lazy
	rfkill rfkill
}

// New returns the network module. It connects to the bus on first use.
func New(opts Options) *Module {
	rk := rfkill{dir: opts.RfkillDir, device: opts.RfkillDevice}
	if rk.dir == "" {
		rk.dir = "/sys/class/rfkill"
	}
	if rk.device == "" {
		rk.device = "/dev/rfkill"
	}
	return &Module{bus: dbusconn.Lazy{Addr: opts.SystemBus, System: true}, rfkill: rk}
}

// Close releases the bus connection.
func (m *Module) Close() error { return m.bus.Close() }

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{&wifiSet{m: m}, &bluetoothSet{m: m}, &airplaneSet{m: m}}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{
		probeRadio:    verify.ProberFunc(m.probeRadio),
		probeAirplane: verify.ProberFunc(m.probeAirplane),
	}
}

// exposure is the risk of a request that leaves a radio on.
func exposure(base action.Risk, radioOn bool) action.Risk {
	base.NetworkExposure = base.NetworkExposure || radioOn
	return base
}

// enabledTarget is the target of the radio actions.
type enabledTarget struct {
	Enabled bool `json:"enabled"`
}

func enabledSchema(desc string) map[string]any {
	return map[string]any{"enabled": map[string]any{"type": "boolean", "description": desc}}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
