package desktop

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type volumeSet struct{ m *Module }

func (h *volumeSet) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "desktop.volume.set",
		Title: "Set the sound volume",
		Description: "Set the default output's volume to a percentage, or raise or lower it by some points, " +
			"through PipeWire (wpctl) or PulseAudio (pactl). Leaves mute as it is.",
		Schema:       levelSchema("volume"),
		Verification: "reads the output's volume back from the sound server",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"(set|change|put) [the] (volume|sound|audio) [level] to {percent} [percent|%]",
			"turn [the] (volume|sound) (up|down) [by {delta} [percent|points]|to {percent} [percent|%]]",
			"(turn|crank|push|pump) [the] (volume|sound) all the way up => percent=100",
			"(increase|raise|lower|reduce|decrease|drop|bump) [the] (volume|sound) [by {delta} [percent|points]|to {percent} [percent|%]]",
			"[make it] (louder|quieter|softer) [by {delta} [percent|points]]",
			"(volume|sound) [at|to] {percent} [percent|%]",
			"(speak up|[it is] too (quiet|soft)|i can not hear [it|anything]) => delta=10",
			"[it is|the (volume|sound) is] (not so|too) (loud|high) => delta=-10",
		},
		Examples: []action.Example{
			{Text: "set the volume to 35 percent", Target: json.RawMessage(`{"percent":35}`)},
			{Text: "turn the sound down a bit", Target: json.RawMessage(`{"delta":-10}`)},
			{Text: "raise the volume by 20", Target: json.RawMessage(`{"delta":20}`)},
		},
		Aliases: []string{"volume", "vol", "loudness", "sound level", "speaker volume", "audio level"},
		Owner:   "desktop",
	}
}

// plan reads the sink and computes the percentage the request asks for.
func (h *volumeSet) plan(ctx context.Context, req *action.Request) (audioBackend, sinkState, int, error) {
	t, err := decodeLevel(req)
	if err != nil {
		return nil, sinkState{}, 0, err
	}
	b, sink, err := h.m.audio.sink(ctx, "", "")
	if err != nil {
		return nil, sinkState{}, 0, err
	}
	cur, err := b.read(ctx, sink)
	if err != nil {
		return nil, sinkState{}, 0, err
	}
	if t.Percent != nil {
		return b, cur, *t.Percent, nil
	}
	now := cur.percent()
	next := now + *t.Delta
	switch {
	case next < 0:
		next = 0
	case next > 100:
		// Never louder than 100 % by a relative step, and never quieter
		// because the output was already boosted above it.
		next = max(100, min(now, next))
	}
	return b, cur, next, nil
}

func (h *volumeSet) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	if req.Undo != nil {
		var st sinkState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		b, err := h.m.audio.backend(ctx, st.Backend)
		if err != nil {
			return nil, err
		}
		cur, err := b.read(ctx, st.Sink)
		if err != nil {
			return nil, err
		}
		return []action.Change{{Subject: "volume of " + st.Sink, Old: fmt.Sprintf("%d%%", cur.percent()), New: fmt.Sprintf("%d%%", st.percent())}}, nil
	}
	_, cur, next, err := h.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: "volume of " + cur.Sink, Old: fmt.Sprintf("%d%%", cur.percent()), New: fmt.Sprintf("%d%%", next)}}, nil
}

// restoredVolume proves a sink is back at its recorded volume.
func restoredVolume(st sinkState) verify.Spec {
	a := VolumeArgs{Backend: st.Backend, Sink: st.Sink}
	if st.Backend == "pactl" {
		a.Channels = st.Channels
	} else {
		v := st.Volume
		a.Volume = &v
	}
	return verify.Probe("volume.equals", a)
}

func (h *volumeSet) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st sinkState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		return eventually(restoredVolume(st)), nil
	}
	t, err := decodeLevel(req)
	if err != nil {
		return verify.Spec{}, err
	}
	if t.Percent != nil {
		return eventually(verify.Probe("volume.equals", VolumeArgs{Percent: t.Percent})), nil
	}
	// Execute adds the exact level a relative change reached.
	return verify.Probe("audio.available", AudioArgs{}), nil
}

func (h *volumeSet) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var st sinkState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return adapter.Outcome{}, err
		}
		if err := validSinkName(st.Sink); err != nil {
			return adapter.Outcome{}, err
		}
		b, err := h.m.audio.backend(ctx, st.Backend)
		if err != nil {
			return adapter.Outcome{}, err
		}
		if err := b.restoreVolume(ctx, st); err != nil {
			return adapter.Outcome{}, fmt.Errorf("restore volume of %s: %w", st.Sink, err)
		}
		return adapter.Outcome{Result: map[string]any{"sink": st.Sink, "restored_percent": st.percent()}}, nil
	}
	b, cur, next, err := h.plan(ctx, req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if err := b.setPercent(ctx, cur.Sink, next); err != nil {
		return adapter.Outcome{}, fmt.Errorf("set volume of %s: %w", cur.Sink, err)
	}
	res := map[string]any{"backend": b.name(), "sink": cur.Sink, "old_percent": cur.percent(), "new_percent": next}
	if cur.Muted {
		res["note"] = "the output is muted; unmute it to hear the new volume"
	}
	return adapter.Outcome{
		Result:       res,
		PreState:     cur,
		Verification: eventually(verify.Probe("volume.equals", VolumeArgs{Backend: b.name(), Sink: cur.Sink, Percent: &next})),
	}, nil
}

type volumeMute struct{ m *Module }

type muteTarget struct {
	Muted bool `json:"muted"`
}

func (h *volumeMute) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "desktop.volume.mute",
		Title:       "Mute or unmute the sound",
		Description: "Mute or unmute the default output through PipeWire (wpctl) or PulseAudio (pactl); the volume level is kept.",
		Schema: adapter.Schema([]string{"muted"}, map[string]any{
			"muted": map[string]any{"type": "boolean", "description": "true to mute, false to unmute"},
		}),
		Verification: "reads the output's mute state back from the sound server",
		Rollback:     action.IdempotentReverse,
		Utterances: []string{
			"mute [the] [sound|audio|volume|speakers|computer|everything] => muted=true",
			"unmute [the] [sound|audio|volume|speakers|computer|everything] => muted=false",
			"(turn|switch) [the] (sound|audio|volume) [back] (on|off)",
			"(silence|quiet) [the] (computer|speakers|sound)",
			"(turn|switch) (off|on) [the] (sound|audio)",
			"(set|turn) mute [to] {muted}",
		},
		Examples: []action.Example{
			{Text: "mute the audio", Target: json.RawMessage(`{"muted":true}`)},
			{Text: "unmute the speakers", Target: json.RawMessage(`{"muted":false}`)},
			{Text: "turn the sound back on", Target: json.RawMessage(`{"muted":false}`)},
		},
		Aliases: []string{"mute", "unmute", "silence", "sound off", "sound on"},
		Owner:   "desktop",
	}
}

func (h *volumeMute) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	var t muteTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return nil, err
	}
	backend, sinkName := "", ""
	want := t.Muted
	if req.Undo != nil {
		var st sinkState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return nil, err
		}
		backend, sinkName, want = st.Backend, st.Sink, st.Muted
	}
	b, sink, err := h.m.audio.sink(ctx, backend, sinkName)
	if err != nil {
		return nil, err
	}
	cur, err := b.read(ctx, sink)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: "mute of " + sink, Old: fmt.Sprint(cur.Muted), New: fmt.Sprint(want)}}, nil
}

func (h *volumeMute) Verification(req *action.Request) (verify.Spec, error) {
	if req.Undo != nil {
		var st sinkState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return verify.Spec{}, err
		}
		m := st.Muted
		return eventually(verify.Probe("volume.equals", VolumeArgs{Backend: st.Backend, Sink: st.Sink, Muted: &m})), nil
	}
	var t muteTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	return eventually(verify.Probe("volume.equals", VolumeArgs{Muted: &t.Muted})), nil
}

func (h *volumeMute) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	if req.Undo != nil {
		var st sinkState
		if err := adapter.DecodePreState(req, &st); err != nil {
			return adapter.Outcome{}, err
		}
		b, sink, err := h.m.audio.sink(ctx, st.Backend, st.Sink)
		if err != nil {
			return adapter.Outcome{}, err
		}
		if err := b.setMute(ctx, sink, st.Muted); err != nil {
			return adapter.Outcome{}, fmt.Errorf("restore mute of %s: %w", sink, err)
		}
		return adapter.Outcome{Result: map[string]any{"sink": sink, "muted": st.Muted}}, nil
	}
	var t muteTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	b, sink, err := h.m.audio.sink(ctx, "", "")
	if err != nil {
		return adapter.Outcome{}, err
	}
	cur, err := b.read(ctx, sink)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if err := b.setMute(ctx, sink, t.Muted); err != nil {
		return adapter.Outcome{}, fmt.Errorf("set mute of %s: %w", sink, err)
	}
	return adapter.Outcome{
		Result:       map[string]any{"backend": b.name(), "sink": sink, "was_muted": cur.Muted, "muted": t.Muted},
		PreState:     sinkState{Backend: cur.Backend, Sink: cur.Sink, Muted: cur.Muted},
		Verification: eventually(verify.Probe("volume.equals", VolumeArgs{Backend: b.name(), Sink: sink, Muted: &t.Muted})),
	}, nil
}
