package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/noema-project/noema/verify"
)

// backlight is one device under /sys/class/backlight.
type backlight struct {
	Name string
	Dir  string
}

// backlightState is the device's current level.
type backlightState struct {
	Raw uint32
	Max uint32
}

func (s backlightState) percent() int { return rawToPercent(s.Raw, s.Max) }

func (m *Module) backlightClass() string {
	root := m.opts.SysfsRoot
	if root == "" {
		root = "/sys"
	}
	return filepath.Join(root, "class", "backlight")
}

// validDeviceName rejects names that could leave the backlight class
// directory.
func validDeviceName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("invalid backlight device name %q", name)
	}
	return nil
}

// findBacklight returns the named device, or the preferred one when name
// is empty: firmware interfaces first, then platform, then raw, as
// gnome-settings-daemon and systemd-backlight choose.
func (m *Module) findBacklight(name string) (backlight, error) {
	class := m.backlightClass()
	if name == "" {
		name = m.opts.Backlight
	}
	if name != "" {
		if err := validDeviceName(name); err != nil {
			return backlight{}, err
		}
		dir := filepath.Join(class, name)
		if _, err := os.Stat(filepath.Join(dir, "max_brightness")); err != nil {
			return backlight{}, fmt.Errorf("backlight %s: %w", name, err)
		}
		return backlight{Name: name, Dir: dir}, nil
	}
	entries, err := os.ReadDir(class)
	if errors.Is(err, fs.ErrNotExist) {
		return backlight{}, fmt.Errorf("this machine has no backlight (%s is missing); an external monitor's brightness is set on the monitor", class)
	}
	if err != nil {
		return backlight{}, fmt.Errorf("list backlights: %w", err)
	}
	rank := map[string]int{"firmware": 0, "platform": 1, "raw": 2}
	type cand struct {
		b    backlight
		rank int
	}
	var cands []cand
	for _, e := range entries {
		dir := filepath.Join(class, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "max_brightness")); err != nil {
			continue
		}
		typ, _ := os.ReadFile(filepath.Join(dir, "type"))
		r, ok := rank[strings.TrimSpace(string(typ))]
		if !ok {
			r = 3
		}
		cands = append(cands, cand{backlight{Name: e.Name(), Dir: dir}, r})
	}
	if len(cands) == 0 {
		return backlight{}, fmt.Errorf("this machine has no backlight device under %s", class)
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].rank != cands[j].rank {
			return cands[i].rank < cands[j].rank
		}
		return cands[i].b.Name < cands[j].b.Name
	})
	return cands[0].b, nil
}

// read reads the device's level from sysfs.
func (b backlight) read() (backlightState, error) {
	cur, err := readSysfsUint(filepath.Join(b.Dir, "brightness"))
	if err != nil {
		return backlightState{}, fmt.Errorf("backlight %s: %w", b.Name, err)
	}
	mx, err := readSysfsUint(filepath.Join(b.Dir, "max_brightness"))
	if err != nil {
		return backlightState{}, fmt.Errorf("backlight %s: %w", b.Name, err)
	}
	if mx == 0 {
		return backlightState{}, fmt.Errorf("backlight %s reports max_brightness 0", b.Name)
	}
	return backlightState{Raw: cur, Max: mx}, nil
}

// readSysfsUint reads a sysfs attribute holding one unsigned integer.
func readSysfsUint(path string) (uint32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parseSysfsUint(data)
}

// parseSysfsUint parses an attribute's text: digits and a trailing
// newline.
func parseSysfsUint(data []byte) (uint32, error) {
	s := strings.TrimSpace(string(data))
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("not a sysfs number: %q", truncate(s, 40))
	}
	return uint32(n), nil
}

// minRaw is the lowest level Noema sets: 1 % of the range and never 0,
// because a black screen leaves no way to see how to undo it.
func minRaw(max uint32) uint32 {
	return uint32(max64(1, int64(math.Ceil(float64(max)/100))))
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func clampRaw(v int64, max uint32) uint32 {
	lo := int64(minRaw(max))
	if v < lo {
		return uint32(lo)
	}
	if v > int64(max) {
		return max
	}
	return uint32(v)
}

// percentToRaw maps a percentage to the device's range, clamped to
// [1 %, 100 %].
func percentToRaw(percent int, max uint32) uint32 {
	return clampRaw(int64(math.Round(float64(percent)*float64(max)/100)), max)
}

func rawToPercent(raw, max uint32) int {
	if max == 0 {
		return 0
	}
	return int(math.Round(float64(raw) * 100 / float64(max)))
}

// deltaToRaw moves the level by delta percentage points. A non-zero step
// always moves at least one raw unit, so "a bit brighter" does something
// on coarse devices with only a few levels.
func deltaToRaw(cur backlightState, delta int) uint32 {
	step := int64(math.Round(float64(delta) * float64(cur.Max) / 100))
	if step == 0 && delta > 0 {
		step = 1
	}
	if step == 0 && delta < 0 {
		step = -1
	}
	return clampRaw(int64(cur.Raw)+step, cur.Max)
}

// BrightnessArgs expect a backlight's raw level, or the level that
// Percent maps to on the device (computed the same way as when setting).
type BrightnessArgs struct {
	Device  string `json:"device,omitempty"`
	Raw     *int64 `json:"raw,omitempty"`
	Percent *int   `json:"percent,omitempty"`
}

func (m *Module) probeBrightness(_ context.Context, raw json.RawMessage) (obsv verify.Observation, err error) {
	var a BrightnessArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return obsv, fmt.Errorf("brightness.equals: %w", err)
	}
	b, err := m.findBacklight(a.Device)
	if err != nil {
		return obsv, err
	}
	st, err := b.read()
	if err != nil {
		return obsv, err
	}
	var want int64
	switch {
	case a.Raw != nil:
		want = *a.Raw
	case a.Percent != nil:
		want = int64(percentToRaw(*a.Percent, st.Max))
	default:
		return obsv, errors.New("brightness.equals needs raw or percent")
	}
	obsv.Pass = int64(st.Raw) == want
	obsv.Observed = map[string]any{"device": b.Name, "raw": st.Raw, "max": st.Max, "percent": st.percent()}
	obsv.Detail = fmt.Sprintf("backlight %s is at %d/%d (%d%%), want %d", b.Name, st.Raw, st.Max, st.percent(), want)
	return obsv, nil
}

// BacklightArgs name a device that must exist and be readable.
type BacklightArgs struct {
	Device string `json:"device,omitempty"`
}

func (m *Module) probeBacklight(_ context.Context, raw json.RawMessage) (obsv verify.Observation, err error) {
	var a BacklightArgs
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a); err != nil {
			return obsv, fmt.Errorf("backlight.present: %w", err)
		}
	}
	b, err := m.findBacklight(a.Device)
	if err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	st, err := b.read()
	if err != nil {
		return verify.Observation{Pass: false, Detail: err.Error()}, nil
	}
	return verify.Observation{Pass: true, Observed: map[string]any{"device": b.Name, "raw": st.Raw, "max": st.Max},
		Detail: fmt.Sprintf("backlight %s reads %d/%d", b.Name, st.Raw, st.Max)}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
