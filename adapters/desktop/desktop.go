// Package desktop owns the desktop.* actions. Each talks to the interface
// a desktop itself uses, and each is verified by reading that interface
// back:
//
//   - settings (theme, night light, do not disturb) go through GSettings'
//     storage, dconf: writes over D-Bus to dconf-service, reads straight
//     from the user database as GSettings clients do;
//   - brightness is written through logind's Session.SetBrightness and read
//     back from /sys/class/backlight;
//   - volume and mute go through PipeWire's wpctl or PulseAudio's pactl,
//     run with an argv, never a shell;
//   - notifications go to org.freedesktop.Notifications on the session bus;
//   - applications are found by their Desktop Entry files and started
//     detached from the Exec line split into an argv.
package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/platform/dconf"
	"github.com/noema-project/noema/verify"
)

// Options locate the user's settings, devices and services; empty fields
// come from the environment or the standard locations.
type Options struct {
	DConf dconf.Options

	// SysfsRoot replaces /sys for reading backlights.
	SysfsRoot string
	// Backlight names the backlight device (a directory under
	// /sys/class/backlight); empty picks one the way desktops do:
	// firmware, then platform, then raw.
	Backlight string
	// SystemBus is the system bus address; empty uses
	// $DBUS_SYSTEM_BUS_ADDRESS or the standard socket.
	SystemBus string
	// LoginSession is the logind session object used for SetBrightness;
	// empty means /org/freedesktop/login1/session/auto, the caller's own
	// session.
	LoginSession string
	// SessionBus is the session bus address for notifications; empty uses
	// DConf.BusAddress, then $DBUS_SESSION_BUS_ADDRESS.
	SessionBus string

	// Audio selects and configures the sound server client.
	Audio AudioOptions
	// Apps locates desktop entries and sets up launched applications.
	Apps AppOptions
}

// Module is the desktop adapter.
type Module struct {
	opts  Options
	audio *audio
	exits exitLog // how launched applications ended

	mu      sync.Mutex
	reader  *dconf.Client // read-only, no bus needed
	writer  *dconf.Client // connected on first write
	system  *dbus.Conn    // logind; connected on first use
	session *dbus.Conn    // notifications; connected on first use
}

// New returns the desktop module.
func New(opts Options) *Module {
	return &Module{opts: opts, reader: dconf.NewClient(nil, opts.DConf), audio: newAudio(opts.Audio)}
}

// Close releases the bus connections.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	if m.writer != nil {
		errs = append(errs, m.writer.Close())
		m.writer = nil
	}
	for _, c := range []**dbus.Conn{&m.system, &m.session} {
		if *c != nil {
			errs = append(errs, (*c).Close())
			*c = nil
		}
	}
	return errors.Join(errs...)
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{
		&themeSet{m: m},
		&brightnessSet{m: m},
		&volumeSet{m: m},
		&volumeMute{m: m},
		nightLight(m),
		doNotDisturb(m),
		&notify{m: m},
		&appLaunch{m: m},
	}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{
		"setting.equals":       verify.ProberFunc(m.probeSetting),
		"brightness.equals":    verify.ProberFunc(m.probeBrightness),
		"backlight.present":    verify.ProberFunc(m.probeBacklight),
		"volume.equals":        verify.ProberFunc(m.probeVolume),
		"audio.available":      verify.ProberFunc(m.probeAudio),
		"notifications.server": verify.ProberFunc(m.probeNotificationServer),
		"app.available":        verify.ProberFunc(m.probeAppAvailable),
		"app.launched":         verify.ProberFunc(m.probeLaunched),
		"app.process.gone":     verify.ProberFunc(probeGone),
	}
}

func (m *Module) writeClient(ctx context.Context) (*dconf.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.writer != nil {
		return m.writer, nil
	}
	c, err := dconf.ConnectSession(ctx, m.opts.DConf)
	if err != nil {
		return nil, fmt.Errorf("desktop settings need the session D-Bus: %w", err)
	}
	m.writer = c
	return c, nil
}

// SettingArgs expect a GSettings key's effective value (GVariant text) or,
// with Unset, that the user has no value of their own for it.
type SettingArgs struct {
	Schema string `json:"schema"`
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Unset  bool   `json:"unset,omitempty"`
}

func (m *Module) probeSetting(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a SettingArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("setting.equals: %w", err)
	}
	v, set, err := m.reader.Effective(ctx, a.Schema, a.Key)
	if err != nil {
		return verify.Observation{}, err
	}
	shown := v.String()
	if a.Unset {
		return verify.Observation{Pass: !set, Observed: map[string]any{"value": shown, "user_set": set},
			Detail: fmt.Sprintf("%s %s user value set=%v (effective %s)", a.Schema, a.Key, set, shown)}, nil
	}
	want, err := dconf.ParseAs(v.Type(), a.Value)
	if err != nil {
		return verify.Observation{}, fmt.Errorf("setting.equals: expected value %q: %w", a.Value, err)
	}
	return verify.Observation{Pass: v.Equal(want), Observed: shown,
		Detail: fmt.Sprintf("%s %s is %s, want %s", a.Schema, a.Key, shown, want.String())}, nil
}

// settingState is a key's pre-state: the user's own value, or none.
type settingState struct {
	Set   bool   `json:"set"`
	Value string `json:"value,omitempty"` // GVariant text
}

func (m *Module) readState(ctx context.Context, schema, key string) (settingState, dconf.Value, error) {
	k, err := m.reader.Key(ctx, schema, key)
	if err != nil {
		return settingState{}, dconf.Value{}, err
	}
	v, set, err := m.reader.Read(ctx, k.Path)
	if err != nil {
		return settingState{}, dconf.Value{}, err
	}
	eff, _, err := m.reader.Effective(ctx, schema, key)
	if err != nil {
		return settingState{}, dconf.Value{}, err
	}
	st := settingState{Set: set}
	if set {
		st.Value = v.String()
	}
	return st, eff, nil
}

// writeSetting sets schema/key to text (GVariant) after checking it
// against the schema.
func (m *Module) writeSetting(ctx context.Context, schema, key, text string) error {
	w, err := m.writeClient(ctx)
	if err != nil {
		return err
	}
	k, err := w.Key(ctx, schema, key)
	if err != nil {
		return err
	}
	v, err := dconf.ParseAs(k.Type, text)
	if err != nil {
		return fmt.Errorf("%s %s: %w", schema, key, err)
	}
	return w.Set(ctx, schema, key, v)
}

// restoreSetting puts back a recorded pre-state.
func (m *Module) restoreSetting(ctx context.Context, schema, key string, st settingState) error {
	if st.Set {
		return m.writeSetting(ctx, schema, key, st.Value)
	}
	w, err := m.writeClient(ctx)
	if err != nil {
		return err
	}
	k, err := w.Key(ctx, schema, key)
	if err != nil {
		return err
	}
	return w.Reset(ctx, k.Path)
}

func settingProbe(schema, key, value string) verify.Spec {
	return verify.Probe("setting.equals", SettingArgs{Schema: schema, Key: key, Value: value})
}

func restoredProbe(schema, key string, st settingState) verify.Spec {
	if st.Set {
		return settingProbe(schema, key, st.Value)
	}
	return verify.Probe("setting.equals", SettingArgs{Schema: schema, Key: key, Unset: true})
}
