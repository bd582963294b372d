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

// wpctl drives PipeWire through WirePlumber's wpctl. Sinks are node ids;
// volumes are wpctl's cubic scale, where 1.0 is what mixers show as 100 %.
type wpctl struct{ run runFunc }

func (w *wpctl) name() string { return "wpctl" }

func (w *wpctl) defaultSink(ctx context.Context) (string, error) {
	out, err := w.run(ctx, "wpctl", "inspect", "@DEFAULT_AUDIO_SINK@")
	if err != nil {
		return "", fmt.Errorf("PipeWire (WirePlumber) has no default output or is not running: %w", err)
	}
	id, typ, err := parseWpctlInspect(out)
	if err != nil {
		return "", err
	}
	if !strings.Contains(typ, "Node") {
		return "", fmt.Errorf("wpctl: default sink %d is a %s, not a node", id, typ)
	}
	return strconv.FormatUint(uint64(id), 10), nil
}

func (w *wpctl) read(ctx context.Context, sink string) (sinkState, error) {
	out, err := w.run(ctx, "wpctl", "get-volume", sink)
	if err != nil {
		return sinkState{}, fmt.Errorf("PipeWire is not answering for sink %s: %w", sink, err)
	}
	vol, muted, err := parseWpctlVolume(out)
	if err != nil {
		return sinkState{}, err
	}
	return sinkState{Backend: "wpctl", Sink: sink, Volume: vol, Muted: muted}, nil
}

func (w *wpctl) setPercent(ctx context.Context, sink string, percent int) error {
	_, err := w.run(ctx, "wpctl", "set-volume", sink, formatWpctlVolume(float64(percent)/100))
	return err
}

func (w *wpctl) restoreVolume(ctx context.Context, st sinkState) error {
	if st.Volume < 0 || st.Volume > 10 || math.IsNaN(st.Volume) {
		return fmt.Errorf("recorded volume %v is out of range", st.Volume)
	}
	_, err := w.run(ctx, "wpctl", "set-volume", st.Sink, formatWpctlVolume(st.Volume))
	return err
}

func (w *wpctl) setMute(ctx context.Context, sink string, muted bool) error {
	v := "0"
	if muted {
		v = "1"
	}
	_, err := w.run(ctx, "wpctl", "set-mute", sink, v)
	return err
}

func formatWpctlVolume(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

// parseWpctlVolume reads `wpctl get-volume`: "Volume: 0.40" with an
// optional " [MUTED]".
func parseWpctlVolume(out []byte) (vol float64, muted bool, err error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Volume:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		vol, err = strconv.ParseFloat(fields[0], 64)
		if err != nil || vol < 0 || vol > 10 || math.IsNaN(vol) {
			return 0, false, fmt.Errorf("wpctl get-volume: bad volume %q", truncate(fields[0], 40))
		}
		for _, f := range fields[1:] {
			if f == "[MUTED]" {
				muted = true
			}
		}
		return vol, muted, nil
	}
	return 0, false, errors.New("wpctl get-volume printed no volume")
}

// parseWpctlInspect reads the header of `wpctl inspect`: "id 46, type
// PipeWire:Interface:Node".
func parseWpctlInspect(out []byte) (id uint32, typ string, err error) {
	line, _, _ := strings.Cut(strings.TrimLeft(string(out), " \t\r\n"), "\n")
	idPart, typPart, ok := strings.Cut(strings.TrimSpace(line), ",")
	if !ok {
		return 0, "", fmt.Errorf("wpctl inspect: unexpected header %q", truncate(line, 60))
	}
	idText, ok := strings.CutPrefix(strings.TrimSpace(idPart), "id ")
	if !ok {
		return 0, "", fmt.Errorf("wpctl inspect: unexpected header %q", truncate(line, 60))
	}
	n, err := strconv.ParseUint(strings.TrimSpace(idText), 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("wpctl inspect: bad id in %q", truncate(line, 60))
	}
	typ, _ = strings.CutPrefix(strings.TrimSpace(typPart), "type ")
	return uint32(n), strings.TrimSpace(typ), nil
}
