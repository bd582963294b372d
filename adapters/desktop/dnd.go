package desktop

import (
	"encoding/json"

	"github.com/noema-project/noema/action"
)

// doNotDisturb switches GNOME's do-not-disturb: with it on, notifications
// go to the message list without banners (show-banners=false).
func doNotDisturb(m *Module) *toggle {
	return &toggle{
		m: m, schema: "org.gnome.desktop.notifications", key: "show-banners", invert: true,
		manifest: action.Manifest{
			Name:  "desktop.dnd.set",
			Title: "Turn do not disturb on or off",
			Description: "Turn do-not-disturb on (notification banners hidden; they still reach the message list) or off " +
				"(GSettings org.gnome.desktop.notifications show-banners, inverted).",
			Schema:       enabledSchema("do not disturb"),
			Verification: "reads show-banners back from the user's dconf database",
			Rollback:     action.IdempotentReverse,
			Utterances: []string{
				"(turn|switch) (on|off) do not disturb",
				"(enable|disable|activate|deactivate) (do not disturb|dnd|focus mode)",
				"(silence|mute|hide|pause|stop|block) [all] [the|my] (notifications|banners|popups|alerts) [for now|for a while] => enabled=true",
				"(show|allow|resume|unmute) [the|my] (notifications|banners|popups|alerts) [again] => enabled=false",
				"(set|switch) do not disturb [to] {enabled}",
				"(stop|don't let) [the] (notifications|popups) (bother|interrupt|disturb) me",
				"(don't|do not) (disturb|bother|interrupt) me => enabled=true",
			},
			Examples: []action.Example{
				{Text: "switch on do not disturb", Target: json.RawMessage(`{"enabled":true}`)},
				{Text: "hide all notification popups", Target: json.RawMessage(`{"enabled":true}`)},
				{Text: "show notifications again", Target: json.RawMessage(`{"enabled":false}`)},
			},
			Aliases: []string{"do not disturb", "dnd", "focus mode", "quiet mode", "notification banners"},
			Owner:   "desktop",
		},
	}
}
