package power

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/noema-project/noema/internal/platform/dbusconn"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

const probeProfile = "power.profile.active"

// ppdEndpoint is one name under which power-profiles-daemon publishes its
// API. Version 0.20 moved it under UPower's name; older releases, still
// common in distributions, only answer on the original one.
type ppdEndpoint struct{ name, path, iface string }

func ppdEndpoints() []ppdEndpoint {
	return []ppdEndpoint{
		{"org.freedesktop.UPower.PowerProfiles", "/org/freedesktop/UPower/PowerProfiles", "org.freedesktop.UPower.PowerProfiles"},
		{"net.hadess.PowerProfiles", "/net/hadess/PowerProfiles", "net.hadess.PowerProfiles"},
	}
}

var errNoPPD = errors.New("power-profiles-daemon is not running on the system bus (neither org.freedesktop.UPower.PowerProfiles nor net.hadess.PowerProfiles answers)")

// ppd is a located power-profiles-daemon.
type ppd struct {
	obj   dbus.BusObject
	iface string
}

// locatePPD finds the daemon under whichever name it answers and returns
// its active profile.
func (m *Module) locatePPD(ctx context.Context) (ppd, string, error) {
	conn, err := m.bus.Get(ctx)
	if err != nil {
		return ppd{}, "", err
	}
	for _, ep := range ppdEndpoints() {
		p := ppd{obj: conn.Object(ep.name, dbus.ObjectPath(ep.path)), iface: ep.iface}
		v, err := dbusconn.GetProperty(ctx, p.obj, p.iface, "ActiveProfile")
		if dbusconn.ServiceMissing(err) || dbusconn.NotImplemented(err) {
			continue
		}
		if err != nil {
			return ppd{}, "", fmt.Errorf("power-profiles-daemon ActiveProfile: %w", err)
		}
		s, ok := v.Value().(string)
		if !ok {
			return ppd{}, "", fmt.Errorf("power-profiles-daemon ActiveProfile is %s, not a string", v.Signature())
		}
		return p, s, nil
	}
	return ppd{}, "", errNoPPD
}

// profileInfo is what power-profiles-daemon says about the profiles.
type profileInfo struct {
	Available []string // profiles this machine offers
	Degraded  string   // why performance is held back, if it is
	Holds     []hold   // applications holding a profile
}

// hold is an application's request for a profile.
type hold struct {
	Profile, Reason, ApplicationID string
}

func (p ppd) info(ctx context.Context) (profileInfo, error) {
	var in profileInfo
	v, err := dbusconn.GetProperty(ctx, p.obj, p.iface, "Profiles")
	if err != nil {
		return in, fmt.Errorf("power-profiles-daemon Profiles: %w", err)
	}
	if in.Available, err = parseProfiles(v.Value()); err != nil {
		return in, fmt.Errorf("power-profiles-daemon Profiles: %w", err)
	}
	// The rest only improves messages; older daemons lack it.
	if v, err := dbusconn.GetProperty(ctx, p.obj, p.iface, "PerformanceDegraded"); err == nil {
		in.Degraded, _ = v.Value().(string)
	}
	if v, err := dbusconn.GetProperty(ctx, p.obj, p.iface, "ActiveProfileHolds"); err == nil {
		in.Holds = parseHolds(v.Value())
	}
	return in, nil
}

// parseProfiles reads the Profiles property (aa{sv}, each with a
// "Profile" string) into profile names.
func parseProfiles(v any) ([]string, error) {
	list, ok := v.([]map[string]dbus.Variant)
	if !ok {
		return nil, fmt.Errorf("unexpected type %T", v)
	}
	var out []string
	for _, entry := range list {
		name, ok := entry["Profile"].Value().(string)
		if !ok || name == "" || slices.Contains(out, name) {
			continue
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, errors.New("no profiles listed")
	}
	return out, nil
}

// parseHolds reads ActiveProfileHolds (aa{sv}); malformed entries are
// skipped, as the holds only inform the preview.
func parseHolds(v any) []hold {
	list, _ := v.([]map[string]dbus.Variant)
	var out []hold
	for _, entry := range list {
		var h hold
		h.Profile, _ = entry["Profile"].Value().(string)
		h.Reason, _ = entry["Reason"].Value().(string)
		h.ApplicationID, _ = entry["ApplicationId"].Value().(string)
		if h.Profile != "" || h.ApplicationID != "" {
			out = append(out, h)
		}
	}
	return out
}

func (h hold) String() string {
	s := h.ApplicationID
	if s == "" {
		s = "an application"
	}
	s += " holds " + h.Profile
	if h.Reason != "" {
		s += fmt.Sprintf(" (%q)", h.Reason)
	}
	return s
}

// ProfileArgs are the arguments of the power.profile.active probe.
type ProfileArgs struct {
	Profile string `json:"profile"`
}

func (m *Module) probeProfile(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a ProfileArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("%s: %w", probeProfile, err)
	}
	_, cur, err := m.locatePPD(ctx)
	if err != nil {
		return verify.Observation{}, err
	}
	return verify.Observation{Pass: cur == a.Profile, Observed: cur,
		Detail: fmt.Sprintf("active power profile is %s, want %s", cur, a.Profile)}, nil
}

type profileSet struct{ m *Module }

type profileTarget struct {
	Profile string `json:"profile"`
}

// profileState is the pre-state: the profile that was active.
type profileState struct {
	Profile string `json:"profile"`
}

func (h *profileSet) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "power.profile.set",
		Title:       "Set the power profile",
		Description: "Switch power-profiles-daemon between power-saver, balanced and performance (the ActiveProfile property).",
		Schema: adapter.Schema([]string{"profile"}, map[string]any{
			"profile": map[string]any{"type": "string", "enum": []string{"power-saver", "balanced", "performance"},
				"description": "power-saver trades speed for battery life, performance the reverse"},
		}),
		Verification: "reads ActiveProfile back from power-profiles-daemon",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"(switch|change|go) [back] to [the] {profile} [power] [mode|profile]",
			"(set|change) [the] power (mode|profile) to {profile}",
			"use [the] {profile} [power] (mode|profile)",
			"(enable|turn on) {profile} [power] mode",
			"put [the] (computer|laptop|machine) in {profile} mode",
		},
		Examples: []action.Example{
			{Text: "switch to performance mode", Target: json.RawMessage(`{"profile":"performance"}`)},
			{Text: "set the power profile to power-saver", Target: json.RawMessage(`{"profile":"power-saver"}`)},
			{Text: "go back to the balanced power mode", Target: json.RawMessage(`{"profile":"balanced"}`)},
			{Text: "save battery", Target: json.RawMessage(`{"profile":"power-saver"}`)},
		},
		Aliases: []string{"power mode", "power profile", "battery saver", "power saving", "performance mode", "low power mode"},
		ValueWords: map[string][]string{
			"profile=power-saver": {"power saving", "battery saver", "battery saving"},
			"profile=performance": {"max performance", "maximum performance"},
		},
		Owner: "power",
	}
}

// goal is the profile a request leaves active.
func (h *profileSet) goal(req *action.Request) (string, error) {
	if req.Undo != nil {
		var st profileState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return "", err
		}
		if st.Profile == "" {
			return "", fmt.Errorf("%s: recorded pre-state names no profile", req.Action)
		}
		return st.Profile, nil
	}
	var t profileTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return "", err
	}
	return t.Profile, nil
}

func (h *profileSet) Verification(req *action.Request) (verify.Spec, error) {
	want, err := h.goal(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe(probeProfile, ProfileArgs{Profile: want}), nil
}

func (h *profileSet) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	want, err := h.goal(req)
	if err != nil {
		return nil, err
	}
	p, cur, err := h.m.locatePPD(ctx)
	if err != nil {
		return nil, err
	}
	in, err := p.info(ctx)
	if err != nil {
		return nil, err
	}
	ch := action.Change{Subject: "power profile", Old: cur, New: want}
	var notes []string
	if !slices.Contains(in.Available, want) {
		notes = append(notes, fmt.Sprintf("will be refused: this machine offers only %s", strings.Join(in.Available, ", ")))
	}
	if want == "performance" && in.Degraded != "" {
		notes = append(notes, "performance is currently held back: "+in.Degraded)
	}
	if len(in.Holds) > 0 && want != cur {
		notes = append(notes, fmt.Sprintf("releases %d application hold(s), e.g. %s", len(in.Holds), in.Holds[0]))
	}
	ch.Note = strings.Join(notes, "; ")
	return []action.Change{ch}, nil
}

func (h *profileSet) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	want, err := h.goal(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	p, cur, err := h.m.locatePPD(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	in, err := p.info(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if !slices.Contains(in.Available, want) {
		return adapter.Outcome{}, fmt.Errorf("this machine has no %s power profile (power-profiles-daemon offers %s)", want, strings.Join(in.Available, ", "))
	}
	result := map[string]any{"old": cur, "new": want}
	if want == "performance" && in.Degraded != "" {
		result["performance_degraded"] = in.Degraded
	}
	if cur == want {
		result["unchanged"] = true
		return adapter.Outcome{Result: result}, nil
	}
	if err := dbusconn.SetProperty(ctx, p.obj, p.iface, "ActiveProfile", want); err != nil {
		return adapter.Outcome{}, fmt.Errorf("power-profiles-daemon refused profile %s: %w", want, err)
	}
	out := adapter.Outcome{Result: result}
	if req.Undo == nil {
		out.PreState = profileState{Profile: cur}
	}
	return out, nil
}
