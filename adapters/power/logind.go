package power

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/noema-project/noema/internal/platform/dbusconn"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

const (
	logindName  = "org.freedesktop.login1"
	logindPath  = "/org/freedesktop/login1"
	logindIface = "org.freedesktop.login1.Manager"
)

var errNoLogind = errors.New("systemd-logind is not running on the system bus (org.freedesktop.login1)")

// kind is one of the machine-wide power transitions logind performs.
type kind int

const (
	suspend kind = iota
	reboot
	poweroff
)

// kindInfo is what differs between the transitions.
type kindInfo struct {
	action    string // catalog name
	arg       string // probe argument
	method    string // logind method, called with interactive=false
	can       string // logind method answering yes/no/challenge/na
	what      string // inhibitor lock type that holds it off
	preparing string // logind property true while it is under way
	verb      string // for messages: "suspend the machine"
	state     string // what the machine becomes
}

func (k kind) info() kindInfo {
	switch k {
	case reboot:
		return kindInfo{"power.reboot", "reboot", "Reboot", "CanReboot", "shutdown", "PreparingForShutdown", "reboot the machine", "restarting"}
	case poweroff:
		return kindInfo{"power.poweroff", "poweroff", "PowerOff", "CanPowerOff", "shutdown", "PreparingForShutdown", "power the machine off", "powered off"}
	default:
		return kindInfo{"power.suspend", "suspend", "Suspend", "CanSuspend", "sleep", "PreparingForSleep", "suspend the machine", "suspended"}
	}
}

func kindFromArg(s string) (kind, bool) {
	for _, k := range []kind{suspend, reboot, poweroff} {
		if k.info().arg == s {
			return k, true
		}
	}
	return 0, false
}

// inhibitor is one lock from logind's ListInhibitors.
type inhibitor struct {
	What string `json:"what"` // colon-separated lock types
	Who  string `json:"who"`
	Why  string `json:"why"`
	Mode string `json:"mode"` // block, block-weak or delay
	UID  uint32 `json:"uid"`
	PID  uint32 `json:"pid"`
}

// Covers reports whether the lock applies to lock type what.
func (in inhibitor) Covers(what string) bool {
	for _, w := range strings.Split(in.What, ":") {
		if strings.TrimSpace(w) == what {
			return true
		}
	}
	return false
}

// Blocks reports whether the lock forbids the transition outright rather
// than delaying it. Weak blocks are honoured too: logind lets privileged
// callers through them, but they still say someone asked for the machine
// to stay up.
func (in inhibitor) Blocks(what string) bool {
	return (in.Mode == "block" || in.Mode == "block-weak") && in.Covers(what)
}

func (in inhibitor) String() string {
	who := in.Who
	if who == "" {
		who = "an unnamed program"
	}
	s := fmt.Sprintf("%q (uid %d, pid %d)", who, in.UID, in.PID)
	if in.Why != "" {
		s += fmt.Sprintf(": %q", in.Why)
	}
	return s
}

// matching returns the locks of mode (block or delay) that cover what.
func matching(all []inhibitor, what string, block bool) []inhibitor {
	var out []inhibitor
	for _, in := range all {
		if block && in.Blocks(what) || !block && in.Mode == "delay" && in.Covers(what) {
			out = append(out, in)
		}
	}
	return out
}

// blockedError names every lock that forbids the transition.
func blockedError(k kind, locks []inhibitor) error {
	parts := make([]string, len(locks))
	for i, l := range locks {
		parts[i] = l.String()
	}
	return fmt.Errorf("refusing to %s: %d inhibitor lock(s) block %s: %s; close or finish what holds the lock and ask again",
		k.info().verb, len(locks), k.info().what, strings.Join(parts, "; "))
}

func (m *Module) logind(ctx context.Context) (dbus.BusObject, error) {
	conn, err := m.bus.Get(ctx)
	if err != nil {
		return nil, err
	}
	return conn.Object(logindName, logindPath), nil
}

func logindErr(op string, err error) error {
	if dbusconn.ServiceMissing(err) {
		return errNoLogind
	}
	return fmt.Errorf("logind %s: %w", op, err)
}

// inhibitors lists logind's current locks.
func (m *Module) inhibitors(ctx context.Context, obj dbus.BusObject) ([]inhibitor, error) {
	var raw []struct {
		What, Who, Why, Mode string
		UID, PID             uint32
	}
	if err := obj.CallWithContext(ctx, logindIface+".ListInhibitors", 0).Store(&raw); err != nil {
		return nil, logindErr("ListInhibitors", err)
	}
	out := make([]inhibitor, len(raw))
	for i, r := range raw {
		out[i] = inhibitor{What: r.What, Who: r.Who, Why: r.Why, Mode: r.Mode, UID: r.UID, PID: r.PID}
	}
	return out, nil
}

// can asks logind whether the transition is possible: yes, no,
// challenge (needs authentication) or na (not supported here).
func (m *Module) can(ctx context.Context, obj dbus.BusObject, k kind) (string, error) {
	var s string
	if err := obj.CallWithContext(ctx, logindIface+"."+k.info().can, 0).Store(&s); err != nil {
		return "", logindErr(k.info().can, err)
	}
	return s, nil
}

// preparing reads PreparingForSleep or PreparingForShutdown.
func (m *Module) preparing(ctx context.Context, obj dbus.BusObject, k kind) (bool, error) {
	v, err := dbusconn.GetProperty(ctx, obj, logindIface, k.info().preparing)
	if err != nil {
		return false, logindErr(k.info().preparing, err)
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("logind %s is %s, not a boolean", k.info().preparing, v.Signature())
	}
	return b, nil
}

// check refuses a transition that a lock blocks or that logind says is
// impossible, and returns the locks that will only delay it.
func (m *Module) check(ctx context.Context, obj dbus.BusObject, k kind) (delaying []inhibitor, err error) {
	locks, err := m.inhibitors(ctx, obj)
	if err != nil {
		return nil, err
	}
	if b := matching(locks, k.info().what, true); len(b) > 0 {
		return nil, blockedError(k, b)
	}
	can, err := m.can(ctx, obj, k)
	if err != nil {
		return nil, err
	}
	switch can {
	case "no":
		return nil, fmt.Errorf("logind says this user may not %s (%s=no)", k.info().verb, k.info().can)
	case "na":
		return nil, fmt.Errorf("logind says this machine cannot %s (%s=na: not supported or disabled)", k.info().verb, k.info().can)
	}
	return matching(locks, k.info().what, false), nil
}

// sleptNanos is how long the machine has been suspended since boot:
// CLOCK_BOOTTIME counts time asleep and CLOCK_MONOTONIC does not, so
// their difference grows only while the machine sleeps.
func sleptNanos() (int64, error) {
	var boot, mono unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err != nil {
		return 0, fmt.Errorf("read CLOCK_BOOTTIME: %w", err)
	}
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono); err != nil {
		return 0, fmt.Errorf("read CLOCK_MONOTONIC: %w", err)
	}
	return boot.Nano() - mono.Nano(), nil
}
