package desktop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/noema-project/noema/verify"
)

// AudioOptions configure the sound server client.
type AudioOptions struct {
	// Backend forces "wpctl" (PipeWire's WirePlumber) or "pactl"
	// (PulseAudio, or PipeWire's pulse server); empty uses wpctl when it
	// answers and pactl otherwise.
	Backend string
	// Env holds extra KEY=value settings for the tools, such as
	// PULSE_SERVER or XDG_RUNTIME_DIR.
	Env []string
	// Sink names the output to control; empty means the default sink.
	Sink string
}

// sinkState is one output's volume and mute state, as recorded for undo.
type sinkState struct {
	Backend string `json:"backend"`
	// Sink is the sink name (pactl) or node id (wpctl).
	Sink string `json:"sink"`
	// Channels are pactl's raw per-channel volumes (65536 = 100 %),
	// restored exactly so an unbalanced sink stays unbalanced.
	Channels []uint32 `json:"channels,omitempty"`
	// Volume is wpctl's volume (1.0 = 100 %).
	Volume float64 `json:"volume,omitempty"`
	Muted  bool    `json:"muted"`
}

// percent is the volume a mixer shows: the loudest channel.
func (s sinkState) percent() int {
	if s.Backend == "pactl" {
		var mx uint32
		for _, c := range s.Channels {
			mx = max(mx, c)
		}
		return pulseToPercent(mx)
	}
	return int(math.Round(s.Volume * 100))
}

// audioBackend is one sound server client.
type audioBackend interface {
	name() string
	// defaultSink names the output that plays by default.
	defaultSink(ctx context.Context) (string, error)
	read(ctx context.Context, sink string) (sinkState, error)
	setPercent(ctx context.Context, sink string, percent int) error
	// restoreVolume puts back a recorded volume exactly.
	restoreVolume(ctx context.Context, st sinkState) error
	setMute(ctx context.Context, sink string, muted bool) error
}

// audio picks a backend per call: the sound server can change while a
// daemon runs (PulseAudio replaced by PipeWire, a server restarted). The
// choice and the default sink are remembered for a few seconds, so one
// action (preview, change, read back) asks the tools once, not thrice.
type audio struct {
	opts AudioOptions

	mu       sync.Mutex
	last     audioBackend
	lastSink string
	at       time.Time
}

// remembered is how long a detected backend and sink are reused.
const remembered = 5 * time.Second

func newAudio(opts AudioOptions) *audio { return &audio{opts: opts} }

func (a *audio) backend(ctx context.Context, name string) (audioBackend, error) {
	if name == "" {
		name = a.opts.Backend
	}
	run := a.runner()
	switch name {
	case "pactl":
		return &pactl{run: run}, nil
	case "wpctl":
		return &wpctl{run: run}, nil
	case "":
	default:
		return nil, fmt.Errorf("unknown audio backend %q (want wpctl or pactl)", name)
	}
	_, wpErr := exec.LookPath("wpctl")
	_, paErr := exec.LookPath("pactl")
	if wpErr == nil {
		w := &wpctl{run: run}
		if _, err := w.defaultSink(ctx); err == nil || paErr != nil {
			return w, nil
		}
	}
	if paErr == nil {
		return &pactl{run: run}, nil
	}
	return nil, errors.New("no sound server client found: install wireplumber (wpctl) for PipeWire or pulseaudio-utils (pactl) for PulseAudio")
}

// sink returns the backend and the sink to act on.
func (a *audio) sink(ctx context.Context, backend, sink string) (audioBackend, string, error) {
	if sink == "" {
		sink = a.opts.Sink
	}
	if backend == "" && sink == "" && a.opts.Backend == "" {
		a.mu.Lock()
		b, s, fresh := a.last, a.lastSink, time.Since(a.at) < remembered
		a.mu.Unlock()
		if b != nil && fresh {
			return b, s, nil
		}
	}
	b, err := a.backend(ctx, backend)
	if err != nil {
		return nil, "", err
	}
	defaulted := sink == ""
	if sink == "" {
		if sink, err = b.defaultSink(ctx); err != nil {
			return nil, "", err
		}
	}
	if defaulted && backend == "" && a.opts.Backend == "" && validSinkName(sink) == nil {
		a.mu.Lock()
		a.last, a.lastSink, a.at = b, sink, time.Now()
		a.mu.Unlock()
	}
	if err := validSinkName(sink); err != nil {
		return nil, "", err
	}
	return b, sink, nil
}

// validSinkName keeps a sink name from being read as an option.
func validSinkName(s string) error {
	if s == "" || strings.HasPrefix(s, "-") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("invalid sink name %q", s)
	}
	return nil
}

// runFunc runs a tool with argv and returns its standard output.
type runFunc func(ctx context.Context, argv ...string) ([]byte, error)

// maxToolOutput bounds what a sound tool may print; sink lists are small.
const maxToolOutput = 4 << 20

func (a *audio) runner() runFunc {
	env := append(os.Environ(), a.opts.Env...)
	// The parsers read the untranslated output.
	env = append(env, "LC_ALL=C", "LANG=C")
	return func(ctx context.Context, argv ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = env
		var stdout, stderr limitedBuffer
		stdout.limit, stderr.limit = maxToolOutput, 4096
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			msg := oneLine(stderr.String())
			if msg == "" {
				msg = oneLine(truncate(stdout.String(), 300))
			}
			if errors.Is(err, exec.ErrNotFound) {
				return nil, fmt.Errorf("%s is not installed", argv[0])
			}
			if msg != "" {
				return nil, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, msg)
			}
			return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
		if stdout.over {
			return nil, fmt.Errorf("%s printed more than %d bytes", argv[0], maxToolOutput)
		}
		return stdout.Bytes(), nil
	}
}

// limitedBuffer keeps the first limit bytes and notes that more came.
type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.limit - b.Len()
	if room < len(p) {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// VolumeArgs expect a sink's volume or mute state. Empty Backend and Sink
// mean the backend and default sink chosen at probe time.
type VolumeArgs struct {
	Backend string `json:"backend,omitempty"`
	Sink    string `json:"sink,omitempty"`
	// Percent is the loudest channel's volume.
	Percent *int `json:"percent,omitempty"`
	// Channels are exact pactl raw volumes.
	Channels []uint32 `json:"channels,omitempty"`
	// Volume is an exact wpctl volume (to the two decimals wpctl shows).
	Volume *float64 `json:"volume,omitempty"`
	Muted  *bool    `json:"muted,omitempty"`
}

func (m *Module) probeVolume(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a VolumeArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, fmt.Errorf("volume.equals: %w", err)
	}
	b, sink, err := m.audio.sink(ctx, a.Backend, a.Sink)
	if err != nil {
		return verify.Observation{}, err
	}
	st, err := b.read(ctx, sink)
	if err != nil {
		return verify.Observation{}, err
	}
	pass := true
	var want []string
	if a.Percent != nil {
		pass = pass && st.percent() == *a.Percent
		want = append(want, fmt.Sprintf("%d%%", *a.Percent))
	}
	if a.Channels != nil {
		pass = pass && equalChannels(st.Channels, a.Channels)
		want = append(want, fmt.Sprintf("channels %v", a.Channels))
	}
	if a.Volume != nil {
		pass = pass && math.Abs(st.Volume-*a.Volume) < 0.006
		want = append(want, fmt.Sprintf("volume %.2f", *a.Volume))
	}
	if a.Muted != nil {
		pass = pass && st.Muted == *a.Muted
		want = append(want, fmt.Sprintf("muted=%v", *a.Muted))
	}
	if len(want) == 0 {
		return verify.Observation{}, errors.New("volume.equals needs percent, channels, volume or muted")
	}
	return verify.Observation{Pass: pass,
		Observed: map[string]any{"backend": st.Backend, "sink": st.Sink, "percent": st.percent(), "muted": st.Muted, "channels": st.Channels, "volume": st.Volume},
		Detail:   fmt.Sprintf("%s sink %s is at %d%% %v muted=%v, want %s", st.Backend, st.Sink, st.percent(), st.Channels, st.Muted, strings.Join(want, ", ")),
	}, nil
}

func equalChannels(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// AudioArgs is empty: the sound server must answer and have an output.
type AudioArgs struct {
	Backend string `json:"backend,omitempty"`
}

func (m *Module) probeAudio(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a AudioArgs
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a); err != nil {
			return verify.Observation{}, fmt.Errorf("audio.available: %w", err)
		}
	}
	b, sink, err := m.audio.sink(ctx, a.Backend, "")
	if err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	st, err := b.read(ctx, sink)
	if err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	return verify.Observation{Pass: true, Observed: map[string]any{"backend": st.Backend, "sink": st.Sink, "percent": st.percent()},
		Detail: fmt.Sprintf("%s answers; sink %s at %d%%", st.Backend, st.Sink, st.percent())}, nil
}

// oneLine joins a tool's message lines for an error string.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
