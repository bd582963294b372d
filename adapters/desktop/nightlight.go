package desktop

import (
	"encoding/json"

	"github.com/noema-project/noema/action"
)

// nightLight switches GNOME's night light, which gnome-settings-daemon's
// color plugin applies (warmer colours after sunset or on a schedule).
func nightLight(m *Module) *toggle {
	return &toggle{
		m: m, schema: "org.gnome.settings-daemon.plugins.color", key: "night-light-enabled",
		manifest: action.Manifest{
			Name:  "desktop.nightlight.set",
			Title: "Turn night light on or off",
			Description: "Turn the night light (warmer screen colours to ease the eyes in the evening) on or off " +
				"(GSettings org.gnome.settings-daemon.plugins.color night-light-enabled).",
			Schema:       enabledSchema("night light"),
			Verification: "reads night-light-enabled back from the user's dconf database",
			Rollback:     action.IdempotentReverse,
			Utterances: []string{
				"(turn|switch) (on|off) [the] night (light|mode|shift)",
				"(enable|disable|activate|deactivate) [the] night (light|mode|shift)",
				"(enable|disable) [the] (blue light filter|warm screen colours|warm screen colors)",
				"make the (screen|display) (warmer|less blue) => enabled=true",
				"(set|switch) night light [to] {enabled}",
				"[the] night (light|shift) [{enabled}]",
			},
			Examples: []action.Example{
				{Text: "switch on the night light", Target: json.RawMessage(`{"enabled":true}`)},
				{Text: "disable the blue light filter", Target: json.RawMessage(`{"enabled":false}`)},
				{Text: "make the display warmer", Target: json.RawMessage(`{"enabled":true}`)},
			},
			Aliases: []string{"night light", "night shift", "blue light filter", "redshift", "warm colours", "eye comfort"},
			Owner:   "desktop",
		},
	}
}
