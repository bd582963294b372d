package desktop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// pulseNorm is PA_VOLUME_NORM, the raw volume shown as 100 %.
const pulseNorm = 65536

// pulseMax bounds raw volumes (PA_VOLUME_MAX).
const pulseMax = math.MaxUint32 / 2

func percentToPulse(p int) uint32 {
	return uint32(math.Round(float64(p) * pulseNorm / 100))
}

func pulseToPercent(raw uint32) int {
	return int(math.Round(float64(raw) * 100 / pulseNorm))
}

// pactl drives PulseAudio, or PipeWire's PulseAudio server, with the
// pactl tool. It reads `pactl info` and `pactl list sinks`, which every
// pactl version prints, rather than the newer get-sink-* commands.
type pactl struct{ run runFunc }

func (p *pactl) name() string { return "pactl" }

func (p *pactl) defaultSink(ctx context.Context) (string, error) {
	out, err := p.run(ctx, "pactl", "info")
	if err != nil {
		return "", fmt.Errorf("PulseAudio is not answering: %w", err)
	}
	s, ok := parsePactlInfo(out)["Default Sink"]
	if !ok || s == "" || s == "@DEFAULT_SINK@" || s == "(null)" {
		return "", errors.New("the sound server has no default output (no sink)")
	}
	return s, nil
}

func (p *pactl) read(ctx context.Context, sink string) (sinkState, error) {
	out, err := p.run(ctx, "pactl", "list", "sinks")
	if err != nil {
		return sinkState{}, fmt.Errorf("PulseAudio is not answering: %w", err)
	}
	sinks, err := parsePactlSinks(out)
	if err != nil {
		return sinkState{}, err
	}
	for _, s := range sinks {
		if s.Name == sink {
			return sinkState{Backend: "pactl", Sink: s.Name, Channels: s.Channels, Muted: s.Muted}, nil
		}
	}
	return sinkState{}, fmt.Errorf("PulseAudio has no sink named %q", sink)
}

func (p *pactl) setPercent(ctx context.Context, sink string, percent int) error {
	_, err := p.run(ctx, "pactl", "set-sink-volume", sink, strconv.FormatUint(uint64(percentToPulse(percent)), 10))
	return err
}

func (p *pactl) restoreVolume(ctx context.Context, st sinkState) error {
	if len(st.Channels) == 0 {
		return errors.New("recorded volume has no channels")
	}
	argv := []string{"pactl", "set-sink-volume", st.Sink}
	for _, c := range st.Channels {
		if c > pulseMax {
			return fmt.Errorf("recorded volume %d is out of range", c)
		}
		argv = append(argv, strconv.FormatUint(uint64(c), 10))
	}
	_, err := p.run(ctx, argv...)
	return err
}

func (p *pactl) setMute(ctx context.Context, sink string, muted bool) error {
	v := "0"
	if muted {
		v = "1"
	}
	_, err := p.run(ctx, "pactl", "set-sink-mute", sink, v)
	return err
}

// parsePactlInfo reads the "Key: value" lines of `pactl info`.
func parsePactlInfo(out []byte) map[string]string {
	info := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := info[k]; !dup {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}

// pactlSink is one block of `pactl list sinks`.
type pactlSink struct {
	Index    int
	Name     string
	Muted    bool
	Channels []uint32
}

// parsePactlSinks reads `pactl list sinks` as printed with LC_ALL=C:
//
//	Sink #0
//		Name: noema_test
//		Mute: no
//		Volume: front-left: 65536 / 100% / 0.00 dB,   front-right: 65536 / 100% / 0.00 dB
//		        balance 0.00
//		Properties:
//			device.description = "Null Output"
//
// Only the sink's own fields (one tab deep) are read, so property values
// that look like fields cannot confuse it.
func parsePactlSinks(out []byte) ([]pactlSink, error) {
	var sinks []pactlSink
	var cur *pactlSink
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if rest, ok := strings.CutPrefix(text, "Sink #"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil {
				return nil, fmt.Errorf("pactl list sinks: line %d: bad sink header %q", line, truncate(text, 60))
			}
			sinks = append(sinks, pactlSink{Index: n})
			cur = &sinks[len(sinks)-1]
			continue
		}
		if cur == nil || !strings.HasPrefix(text, "\t") || strings.HasPrefix(text, "\t\t") {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(text), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Name":
			cur.Name = val
		case "Mute":
			switch val {
			case "yes":
				cur.Muted = true
			case "no":
				cur.Muted = false
			default:
				return nil, fmt.Errorf("pactl list sinks: line %d: mute is %q", line, truncate(val, 40))
			}
		case "Volume":
			ch, err := parsePulseVolume(val)
			if err != nil {
				return nil, fmt.Errorf("pactl list sinks: line %d: %w", line, err)
			}
			cur.Channels = ch
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pactl list sinks: %w", err)
	}
	for _, s := range sinks {
		if s.Name == "" || len(s.Channels) == 0 {
			return nil, fmt.Errorf("pactl list sinks: sink #%d lacks a name or volume", s.Index)
		}
	}
	return sinks, nil
}

// parsePulseVolume reads "front-left: 65536 / 100% / 0.00 dB,
// front-right: …" (the dB part is missing on sinks without decibel
// volume) into raw per-channel volumes.
func parsePulseVolume(s string) ([]uint32, error) {
	var out []uint32
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndex(part, ": ")
		if i < 0 {
			return nil, fmt.Errorf("bad channel volume %q", truncate(part, 60))
		}
		rawText, _, _ := strings.Cut(part[i+2:], "/")
		n, err := strconv.ParseUint(strings.TrimSpace(rawText), 10, 32)
		if err != nil || n > pulseMax {
			return nil, fmt.Errorf("bad channel volume %q", truncate(part, 60))
		}
		out = append(out, uint32(n))
	}
	if len(out) == 0 || len(out) > 32 {
		return nil, fmt.Errorf("volume has %d channels", len(out))
	}
	return out, nil
}
