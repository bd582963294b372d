package network

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type wifiSet struct{ m *Module }

// wifiState is the pre-state: NetworkManager's Wi-Fi switch.
type wifiState struct {
	Enabled bool `json:"enabled"`
}

func (h *wifiSet) Manifest() action.Manifest {
	return action.Manifest{
		Name:         "network.wifi.set",
		Title:        "Turn Wi-Fi on or off",
		Description:  "Switch the Wi-Fi radio through NetworkManager (its WirelessEnabled switch). Turning it on lets the machine join known networks again.",
		Schema:       adapter.Schema([]string{"enabled"}, enabledSchema("true turns Wi-Fi on, false turns it off")),
		Verification: "reads NetworkManager's WirelessEnabled back",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"turn {enabled} [the] (wifi|wi-fi|wireless|wlan)",
			"turn [the] (wifi|wi-fi|wireless|wlan) {enabled}",
			"{enabled} [the] (wifi|wi-fi|wireless|wlan)",
			"switch [the] (wifi|wi-fi|wireless) {enabled}",
			"(set|put) [the] (wifi|wi-fi) {enabled}",
		},
		Examples: []action.Example{
			{Text: "turn off the wifi", Target: json.RawMessage(`{"enabled":false}`)},
			{Text: "switch wi-fi back on", Target: json.RawMessage(`{"enabled":true}`)},
			{Text: "disable wireless", Target: json.RawMessage(`{"enabled":false}`)},
			{Text: "enable the wlan", Target: json.RawMessage(`{"enabled":true}`)},
		},
		Aliases: []string{"wifi", "wi-fi", "wireless", "wlan", "wireless networking"},
		Owner:   "network",
	}
}

// Risk flags a request that leaves Wi-Fi on: the machine joins networks.
func (h *wifiSet) Risk(req *action.Request) action.Risk {
	on, err := h.goal(req)
	return exposure(h.Manifest().Risk, err == nil && on)
}

func (h *wifiSet) goal(req *action.Request) (bool, error) {
	if req.Undo != nil {
		var st wifiState
		err := adapter.DecodePreState(req, &st)
		return st.Enabled, err
	}
	var t enabledTarget
	err := adapter.DecodeTarget(req, &t)
	return t.Enabled, err
}

func (h *wifiSet) Verification(req *action.Request) (verify.Spec, error) {
	on, err := h.goal(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return radioSpec(radioWifi, "", on), nil
}

func (h *wifiSet) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	on, err := h.goal(req)
	if err != nil {
		return nil, err
	}
	cur, err := h.m.nmBool(ctx, nmWifi)
	if err != nil {
		return nil, err
	}
	ch := action.Change{Subject: "Wi-Fi", Old: onOff(cur), New: onOff(on)}
	if on {
		if hw, err := h.m.nmBool(ctx, nmWifiHW); err == nil && !hw {
			ch.Note = "will be refused: Wi-Fi is switched off in hardware"
		} else {
			ch.Note = "the machine may join known wireless networks"
		}
	} else {
		ch.Note = "wireless connections drop"
	}
	return []action.Change{ch}, nil
}

func (h *wifiSet) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	on, err := h.goal(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	cur, err := h.m.nmBool(ctx, nmWifi)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if on {
		hw, err := h.m.nmBool(ctx, nmWifiHW)
		if err != nil {
			return adapter.Outcome{}, err
		}
		if !hw {
			return adapter.Outcome{}, fmt.Errorf("Wi-Fi is switched off in hardware (a key or switch on the machine, or firmware); NetworkManager cannot turn it on until that switch is flipped")
		}
	}
	result := map[string]any{"wifi": onOff(on), "was": onOff(cur)}
	if cur == on {
		result["unchanged"] = true
		return adapter.Outcome{Result: result}, nil
	}
	if err := h.m.nmSet(ctx, nmWifi, on); err != nil {
		return adapter.Outcome{}, err
	}
	out := adapter.Outcome{Result: result}
	if req.Undo == nil {
		out.PreState = wifiState{Enabled: cur}
	}
	return out, nil
}
