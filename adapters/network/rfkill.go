package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// rfkill reads the kernel's radio kill switches from sysfs and moves
// their soft blocks, through sysfs where it may write and the rfkill
// control device otherwise.
type rfkill struct {
	dir    string // /sys/class/rfkill
	device string // /dev/rfkill
}

// radioSwitch is one rfkill switch.
type radioSwitch struct {
	Name  string `json:"name"`            // sysfs entry, rfkill<N>
	Index uint32 `json:"index"`           // the kernel's switch index
	Type  string `json:"type"`            // wlan, bluetooth, wwan, gps, fm, nfc, uwb, wimax
	Label string `json:"label,omitempty"` // the driver's name for it, such as phy0 or hci0
	Soft  bool   `json:"soft"`            // blocked by software
	Hard  bool   `json:"hard,omitempty"`  // blocked by a hardware switch
}

func (s radioSwitch) String() string {
	return fmt.Sprintf("%s (%s %s)", s.Name, s.Type, s.Label)
}

// parseSwitch builds a switch from its sysfs attributes (file contents).
func parseSwitch(name string, attrs map[string]string) (radioSwitch, error) {
	sw := radioSwitch{Name: name, Type: strings.TrimSpace(attrs["type"]), Label: strings.TrimSpace(attrs["name"])}
	idx, err := strconv.ParseUint(strings.TrimSpace(attrs["index"]), 10, 32)
	if err != nil {
		return sw, fmt.Errorf("rfkill switch %s: index: %w", name, err)
	}
	sw.Index = uint32(idx)
	if sw.Soft, err = parseFlag(attrs["soft"]); err != nil {
		return sw, fmt.Errorf("rfkill switch %s: soft: %w", name, err)
	}
	if sw.Hard, err = parseFlag(attrs["hard"]); err != nil {
		return sw, fmt.Errorf("rfkill switch %s: hard: %w", name, err)
	}
	if sw.Type == "" {
		return sw, fmt.Errorf("rfkill switch %s has no type", name)
	}
	return sw, nil
}

func parseFlag(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("want 0 or 1, got %q", s)
}

func isSwitchName(name string) bool {
	n, ok := strings.CutPrefix(name, "rfkill")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.ParseUint(n, 10, 32)
	return err == nil
}

// list returns every switch in index order; none when the machine has no
// rfkill class directory.
func (r rfkill) list() ([]radioSwitch, error) {
	entries, err := os.ReadDir(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read rfkill switches: %w", err)
	}
	var out []radioSwitch
	for _, e := range entries {
		if !isSwitchName(e.Name()) {
			continue
		}
		sw, err := r.read(e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue // unplugged while listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sw)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// read reads one switch by its sysfs name.
func (r rfkill) read(name string) (radioSwitch, error) {
	if !isSwitchName(name) {
		return radioSwitch{}, fmt.Errorf("%q is not an rfkill switch name", name)
	}
	attrs := map[string]string{}
	for _, a := range []string{"index", "type", "name", "soft", "hard"} {
		b, err := os.ReadFile(filepath.Join(r.dir, name, a))
		if err != nil {
			if a == "name" && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return radioSwitch{}, fmt.Errorf("read rfkill switch %s: %w", name, err)
		}
		attrs[a] = string(b)
	}
	return parseSwitch(name, attrs)
}

// setSoft blocks or unblocks one switch in software.
func (r rfkill) setSoft(sw radioSwitch, blocked bool) error {
	v := "0\n"
	if blocked {
		v = "1\n"
	}
	f, err := os.OpenFile(filepath.Join(r.dir, sw.Name, "soft"), os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(v)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			return nil
		}
	}
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("set rfkill switch %s: %w", sw, err)
	}
	if derr := r.writeEvent(changeEvent(sw.Index, blocked)); derr != nil {
		return fmt.Errorf("set rfkill switch %s: sysfs: %v; %s: %w", sw, err, r.device, derr)
	}
	return nil
}

func (r rfkill) writeEvent(ev []byte) error {
	f, err := os.OpenFile(r.device, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(ev)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// The rfkill control device speaks struct rfkill_event (linux/rfkill.h):
// u32 idx, u8 type, u8 op, u8 soft, u8 hard, in host byte order. The
// kernel accepts this original 8-byte form from every writer.
const (
	rfkillEventSize = 8
	rfkillOpChange  = 2
	rfkillTypeAll   = 0
)

// changeEvent sets the soft block of switch idx. Type "all" matches a
// switch of any type, so the index alone selects it.
func changeEvent(idx uint32, blocked bool) []byte {
	ev := make([]byte, rfkillEventSize)
	binary.NativeEndian.PutUint32(ev[0:4], idx)
	ev[4] = rfkillTypeAll
	ev[5] = rfkillOpChange
	if blocked {
		ev[6] = 1
	}
	return ev
}
