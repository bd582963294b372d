package system

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	systemdName    = "org.freedesktop.systemd1"
	systemdPath    = "/org/freedesktop/systemd1"
	systemdManager = "org.freedesktop.systemd1.Manager"
	systemdUnit    = "org.freedesktop.systemd1.Unit"
)

// unitSuffixes are the unit types systemd knows; a name without one is
// taken to be a service, as systemctl does.
var unitSuffixes = []string{
	".service", ".socket", ".target", ".device", ".mount", ".automount",
	".swap", ".timer", ".path", ".slice", ".scope",
}

// normalizeUnit checks a unit name and appends ".service" when it has no
// unit suffix. Names are D-Bus arguments, never parsed by a shell, but a
// path separator or a control character has no business in one.
func normalizeUnit(name string) (string, error) {
	if name == "" {
		return "", errors.New("unit name is empty")
	}
	if len(name) > 255 {
		return "", errors.New("unit name is longer than 255 bytes")
	}
	if name[0] == '.' || name[0] == '-' {
		return "", fmt.Errorf("unit name %q starts with %q", name, name[0])
	}
	for _, r := range name {
		ok := r == ':' || r == '_' || r == '.' || r == '\\' || r == '@' || r == '-' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return "", fmt.Errorf("unit name %q contains %q, which systemd does not allow", name, r)
		}
	}
	for _, s := range unitSuffixes {
		if strings.HasSuffix(name, s) && len(name) > len(s) {
			return name, nil
		}
	}
	if len(name)+len(".service") > 255 {
		return "", errors.New("unit name is longer than 255 bytes")
	}
	return name + ".service", nil
}

// unitState is what systemd says about a unit.
type unitState struct {
	Unit        string `json:"unit"`
	LoadState   string `json:"load_state"`
	ActiveState string `json:"active_state"`
	SubState    string `json:"sub_state,omitempty"`
	Description string `json:"description,omitempty"`
}

// Found reports whether systemd has a unit file for the unit.
func (u unitState) Found() bool { return u.LoadState != "not-found" }

// running reports the active states that start leaves a unit in and
// stop takes it out of.
func running(activeState string) bool {
	switch activeState {
	case "active", "activating", "reloading", "refreshing":
		return true
	}
	return false
}

// isDBusError reports a D-Bus error reply with one of the names.
func isDBusError(err error, names ...string) bool {
	var de dbus.Error
	if !errors.As(err, &de) {
		var dp *dbus.Error
		if !errors.As(err, &dp) {
			return false
		}
		de = *dp
	}
	for _, n := range names {
		if de.Name == n {
			return true
		}
	}
	return false
}

// systemdErr turns a failed call into a message that says what is wrong.
func systemdErr(bus *lazyBus, what string, err error) error {
	if isDBusError(err, "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner") {
		return fmt.Errorf("%s: systemd is not running on the %s", what, bus.name())
	}
	var de dbus.Error
	if errors.As(err, &de) && strings.HasPrefix(de.Name, "org.freedesktop.DBus.Error.Spawn.") {
		return fmt.Errorf("%s: systemd is not running on the %s (activation failed: %w)", what, bus.name(), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// noStart keeps the bus from trying to activate systemd: the manager is
// never bus-activated (its activation files run /bin/false to fail fast),
// so a missing manager should be reported as such at once.
const noStart = dbus.FlagNoAutoStart

// readUnit loads a unit's state. A unit systemd has no file for is
// reported with LoadState "not-found", not as an error.
func readUnit(ctx context.Context, bus *lazyBus, unit string) (unitState, error) {
	conn, err := bus.get()
	if err != nil {
		return unitState{}, fmt.Errorf("systemd: %w", err)
	}
	var path dbus.ObjectPath
	err = conn.Object(systemdName, systemdPath).CallWithContext(ctx, systemdManager+".LoadUnit", noStart, unit).Store(&path)
	if isDBusError(err, "org.freedesktop.systemd1.NoSuchUnit") {
		return unitState{Unit: unit, LoadState: "not-found", ActiveState: "inactive"}, nil
	}
	if err != nil {
		return unitState{}, systemdErr(bus, "systemd: load "+unit, err)
	}
	var props map[string]dbus.Variant
	err = conn.Object(systemdName, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.GetAll", noStart, systemdUnit).Store(&props)
	if err != nil {
		return unitState{}, systemdErr(bus, "systemd: read "+unit, err)
	}
	st := unitStateFromProps(unit, props)
	if st.ActiveState == "" {
		return unitState{}, fmt.Errorf("systemd: %s has no ActiveState", unit)
	}
	return st, nil
}

func unitStateFromProps(unit string, props map[string]dbus.Variant) unitState {
	s := func(k string) string { v, _ := props[k].Value().(string); return v }
	st := unitState{Unit: unit, LoadState: s("LoadState"), ActiveState: s("ActiveState"), SubState: s("SubState"), Description: s("Description")}
	if st.LoadState == "" {
		st.LoadState = "loaded"
	}
	return st
}

// runJob calls a Manager method that queues a job (StartUnit, StopUnit,
// RestartUnit) and waits for systemd to report the job's result, the way
// systemctl does: by the JobRemoved signal for the returned job path.
func runJob(ctx context.Context, bus *lazyBus, method, unit string, timeout time.Duration) (job string, result string, err error) {
	conn, err := bus.get()
	if err != nil {
		return "", "", fmt.Errorf("systemd: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	match := []dbus.MatchOption{
		dbus.WithMatchSender(systemdName), dbus.WithMatchObjectPath(systemdPath),
		dbus.WithMatchInterface(systemdManager), dbus.WithMatchMember("JobRemoved"),
	}
	if err := conn.AddMatchSignalContext(ctx, match...); err != nil {
		return "", "", fmt.Errorf("systemd: watch jobs: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.RemoveMatchSignalContext(rctx, match...)
	}()
	ch := make(chan *dbus.Signal, 64)
	conn.Signal(ch)
	defer conn.RemoveSignal(ch)

	mgr := conn.Object(systemdName, systemdPath)
	// systemd sends job signals to subscribed clients; older versions
	// need this, newer ones also tell the job's requester. A manager
	// without the method (or one that refuses) still answers the job.
	mgr.CallWithContext(ctx, systemdManager+".Subscribe", noStart)

	var path dbus.ObjectPath
	if err := mgr.CallWithContext(ctx, systemdManager+"."+method, noStart, unit, "replace").Store(&path); err != nil {
		if isDBusError(err, "org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.LoadFailed") {
			return "", "", fmt.Errorf("systemd: unit %s not found", unit)
		}
		return "", "", systemdErr(bus, fmt.Sprintf("systemd: %s %s", method, unit), err)
	}
	for {
		select {
		case sig, ok := <-ch:
			if !ok {
				return string(path), "", fmt.Errorf("systemd: the %s closed while waiting for job %s", bus.name(), path)
			}
			if id, res, ok := jobRemoved(sig); ok && id == path {
				return string(path), res, nil
			}
		case <-ctx.Done():
			return string(path), "", fmt.Errorf("systemd: job %s (%s %s) did not finish: %w", path, method, unit, ctx.Err())
		}
	}
}

// jobRemoved reads JobRemoved(u id, o job, s unit, s result).
func jobRemoved(sig *dbus.Signal) (dbus.ObjectPath, string, bool) {
	if sig == nil || sig.Name != systemdManager+".JobRemoved" || len(sig.Body) < 4 {
		return "", "", false
	}
	path, ok1 := sig.Body[1].(dbus.ObjectPath)
	res, ok2 := sig.Body[3].(string)
	return path, res, ok1 && ok2
}
