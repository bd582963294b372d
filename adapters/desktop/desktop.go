// Package desktop owns the desktop.* actions. Settings go through
// GSettings' storage, dconf: writes over D-Bus to dconf-service, reads
// straight from the user database as GSettings clients do, so verification
// reads back exactly what applications will see.
package desktop

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/platform/dconf"
	"github.com/noema-project/noema/verify"
)

// Options locate the user's settings; empty fields come from the
// environment.
type Options struct {
	DConf dconf.Options
}

// Module is the desktop adapter.
type Module struct {
	opts Options

	mu     sync.Mutex
	reader *dconf.Client // read-only, no bus needed
	writer *dconf.Client // connected on first write
}

// New returns the desktop module.
func New(opts Options) *Module {
	return &Module{opts: opts, reader: dconf.NewClient(nil, opts.DConf)}
}

// Close releases the bus connection.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.writer != nil {
		return m.writer.Close()
	}
	return nil
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{&themeSet{m: m}}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{"setting.equals": verify.ProberFunc(m.probeSetting)}
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
