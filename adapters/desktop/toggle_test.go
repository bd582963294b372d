package desktop_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dconf"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

const (
	colorSchema  = "org.gnome.settings-daemon.plugins.color"
	notifySchema = "org.gnome.desktop.notifications"
)

// requireSchema skips unless a GSettings schema is installed where the
// bus's clients look.
func requireSchema(t *testing.T, bus *dconftest.Bus, schema, pkg string) {
	t.Helper()
	for _, d := range bus.DataDirs() {
		if _, err := os.Stat(filepath.Join(d, "glib-2.0", "schemas", schema+".gschema.xml")); err == nil {
			return
		}
	}
	t.Skipf("GSettings schema %s is not installed (Debian package %s); skipping", schema, pkg)
}

// userValue reads the user's own value of a key straight from dconf
// ("" when unset).
func userValue(t *testing.T, bus *dconftest.Bus, path string) string {
	t.Helper()
	return bus.Run(t, "dconf", "read", path)
}

func TestNightLightSetAndUndo(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	requireSchema(t, bus, colorSchema, "gnome-settings-daemon-common")
	m := newModule(t, desktop.Options{DConf: settingsOptions(bus)})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	const key = "/org/gnome/settings-daemon/plugins/color/night-light-enabled"

	// From "unset" (the schema default): undo must unset again, not
	// write the default.
	env := p.Do(t, "desktop.nightlight.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	requirePreview(t, env, "false", "true")
	if got := bus.Run(t, "gsettings", "get", colorSchema, "night-light-enabled"); got != "true" {
		t.Fatalf("gsettings says %s", got)
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := userValue(t, bus, key); got != "" {
		t.Fatalf("after undo the user value is %q, want unset", got)
	}
	requirePreview(t, u, "true", "false (default)")

	// From a value of the user's own.
	bus.Run(t, "gsettings", "set", colorSchema, "night-light-enabled", "true")
	env = p.Do(t, "desktop.nightlight.set", `{"enabled":false}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := bus.Run(t, "gsettings", "get", colorSchema, "night-light-enabled"); got != "false" {
		t.Fatalf("gsettings says %s", got)
	}
	u = p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := userValue(t, bus, key); got != "true" {
		t.Fatalf("after undo the user value is %q, want true", got)
	}
	p.Verify(t)
}

func TestDoNotDisturbSetAndUndo(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	requireSchema(t, bus, notifySchema, "gsettings-desktop-schemas")
	m := newModule(t, desktop.Options{DConf: settingsOptions(bus)})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "desktop.dnd.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if got := bus.Run(t, "gsettings", "get", notifySchema, "show-banners"); got != "false" {
		t.Fatalf("show-banners is %s, want false with do-not-disturb on", got)
	}
	off := p.Do(t, "desktop.dnd.set", `{"enabled":false}`)
	pipelinetest.RequireState(t, off, action.Succeeded)
	if got := bus.Run(t, "gsettings", "get", notifySchema, "show-banners"); got != "true" {
		t.Fatalf("show-banners is %s", got)
	}
	// Undoing the second action restores what the first one set.
	u := p.Undo(t, off.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := bus.Run(t, "gsettings", "get", notifySchema, "show-banners"); got != "false" {
		t.Fatalf("after undo show-banners is %s, want false", got)
	}
	u = p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := userValue(t, bus, "/org/gnome/desktop/notifications/show-banners"); got != "" {
		t.Fatalf("after undo the user value is %q, want unset", got)
	}
	p.Verify(t)
}

func TestTogglesWithoutSettingsServiceFail(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	requireSchema(t, bus, colorSchema, "gnome-settings-daemon-common")
	opts := settingsOptions(bus)
	opts.BusAddress = "unix:path=/nonexistent/noema-bus"
	m := newModule(t, desktop.Options{DConf: opts})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	requireFailed(t, p.Do(t, "desktop.nightlight.set", `{"enabled":true}`), "session D-Bus")
	requireFailed(t, p.Do(t, "desktop.dnd.set", `{"enabled":true}`), "session D-Bus")
	p.Verify(t)
}

func TestToggleMissingSchemaFails(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	// Only an empty data directory: no schemas at all.
	m := newModule(t, desktop.Options{DConf: dconf.Options{ConfigHome: bus.ConfigHome, DataDirs: []string{t.TempDir()}, BusAddress: bus.Address}})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.nightlight.set", `{"enabled":true}`)
	requireFailed(t, env, "org.gnome.settings-daemon.plugins.color")
}
