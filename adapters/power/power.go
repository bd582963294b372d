// Package power owns the power.* actions: suspend, reboot and power off
// through systemd-logind, and the power profile through
// power-profiles-daemon, both on the system bus.
//
// Logind actions honour inhibitor locks: a "block" lock on sleep or
// shutdown is someone (a burner, an upgrade, the person) asking the
// machine not to go down now, so the action is refused with the lock's
// owner and reason instead of being forced through. Their proof is what
// logind and the kernel report once logind has taken the request on (see
// LogindArgs); there is nothing to undo.
package power

import (
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/platform/dbusconn"
	"github.com/noema-project/noema/verify"
)

// Options locate the services.
type Options struct {
	// SystemBus is the D-Bus address of the system bus; empty means the
	// standard one (DBUS_SYSTEM_BUS_ADDRESS or the well-known socket).
	SystemBus string
}

// Module is the power adapter.
type Module struct {
	bus dbusconn.Lazy
}

// New returns the power module. It connects to the bus on first use.
func New(opts Options) *Module {
	return &Module{bus: dbusconn.Lazy{Addr: opts.SystemBus, System: true}}
}

// Close releases the bus connection.
func (m *Module) Close() error { return m.bus.Close() }

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{
		&logindAction{m: m, kind: suspend},
		&logindAction{m: m, kind: reboot},
		&logindAction{m: m, kind: poweroff},
		&profileSet{m: m},
	}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{
		probeLogind:  verify.ProberFunc(m.probeLogind),
		probeProfile: verify.ProberFunc(m.probeProfile),
	}
}
