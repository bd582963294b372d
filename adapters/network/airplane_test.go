package network_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/network"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/verify"
)

// rfkillTree lays out a directory shaped like /sys/class/rfkill. The real
// one cannot be used: there is none in a container, and on a workstation
// the test would switch the host's radios off.
type rfkillTree struct {
	t   *testing.T
	dir string
}

type fakeSwitch struct {
	index      int
	typ, label string
	soft, hard bool
}

func newRfkillTree(t *testing.T, switches ...fakeSwitch) rfkillTree {
	t.Helper()
	tree := rfkillTree{t: t, dir: t.TempDir()}
	for _, s := range switches {
		d := filepath.Join(tree.dir, "rfkill"+strconv.Itoa(s.index))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{
			"index": strconv.Itoa(s.index), "type": s.typ, "name": s.label,
			"soft": flag(s.soft), "hard": flag(s.hard), "persistent": "0",
		} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Entries that are not switches are ignored, as in sysfs.
	if err := os.WriteFile(filepath.Join(tree.dir, "uevent"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return tree
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (tr rfkillTree) soft(index int) bool {
	tr.t.Helper()
	b, err := os.ReadFile(filepath.Join(tr.dir, "rfkill"+strconv.Itoa(index), "soft"))
	if err != nil {
		tr.t.Fatal(err)
	}
	return strings.TrimSpace(string(b)) == "1"
}

// radioMachine is a laptop: Wi-Fi, Bluetooth and a modem that is already
// soft-blocked, a GPS blocked by a hardware switch, NetworkManager with
// Wi-Fi on and mobile broadband off, and one powered BlueZ adapter.
func radioMachine(t *testing.T) (*dbus.Conn, string, rfkillTree, dbus.ObjectPath) {
	t.Helper()
	bus, conn := systemBus(t)
	startMock(t, bus, conn, "networkmanager", nmName, nil)
	startMock(t, bus, conn, "bluez5", bluez, nil)
	hci0 := addAdapter(t, conn, "hci0", "laptop", true)
	tree := newRfkillTree(t,
		fakeSwitch{0, "wlan", "phy0", false, false},
		fakeSwitch{1, "bluetooth", "hci0", false, false},
		fakeSwitch{2, "wwan", "cdc-wdm0", true, false},
		fakeSwitch{3, "gps", "gps0", false, true},
	)
	return conn, bus.Address, tree, hci0
}

func wwanOn(t *testing.T, conn *dbus.Conn) bool {
	return boolProp(t, conn, nmName, nmPath, nmName, "WwanEnabled")
}

func TestAirplaneOnAndUndo(t *testing.T) {
	conn, addr, tree, hci0 := radioMachine(t)
	p, _ := newPipeline(t, network.Options{SystemBus: addr, RfkillDir: tree.dir})

	env := p.Do(t, "network.airplane.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if env.Request.Risk.Any() {
		t.Errorf("airplane mode on flagged %v", env.Request.Risk.Names())
	}
	for i := range 4 {
		if !tree.soft(i) {
			t.Errorf("rfkill%d not soft-blocked", i)
		}
	}
	if wifiOn(t, conn) || wwanOn(t, conn) || powered(t, conn, hci0) {
		t.Fatalf("a radio is still on: wifi %v wwan %v bt %v", wifiOn(t, conn), wwanOn(t, conn), powered(t, conn, hci0))
	}
	if n := countProbes(env.Execution.Verification, "network.radio.state"); n != 7 {
		t.Errorf("verification checks %d radios one by one, want 7 (4 rfkill, Wi-Fi, mobile broadband, 1 adapter)", n)
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if !u.Request.Risk.NetworkExposure {
		t.Error("undo that turns radios back on is not flagged")
	}
	for i, want := range []bool{false, false, true, false} {
		if got := tree.soft(i); got != want {
			t.Errorf("rfkill%d soft = %v after undo, want %v", i, got, want)
		}
	}
	if !wifiOn(t, conn) || wwanOn(t, conn) || !powered(t, conn, hci0) {
		t.Fatalf("undo did not restore: wifi %v (want on) wwan %v (want off) bt %v (want on)", wifiOn(t, conn), wwanOn(t, conn), powered(t, conn, hci0))
	}
	p.Verify(t)
}

func TestAirplaneOff(t *testing.T) {
	conn, addr, tree, hci0 := radioMachine(t)
	p, _ := newPipeline(t, network.Options{SystemBus: addr, RfkillDir: tree.dir})

	on := p.Do(t, "network.airplane.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, on, action.Succeeded)

	off := p.Do(t, "network.airplane.set", `{"enabled":false}`)
	pipelinetest.RequireState(t, off, action.Succeeded)
	if !off.Request.Risk.NetworkExposure || off.Execution.ApprovalID == "" {
		t.Errorf("airplane mode off: risk %v approval %q", off.Request.Risk.Names(), off.Execution.ApprovalID)
	}
	for i := range 4 {
		if tree.soft(i) {
			t.Errorf("rfkill%d still soft-blocked", i)
		}
	}
	if !wifiOn(t, conn) || !wwanOn(t, conn) || !powered(t, conn, hci0) {
		t.Fatal("airplane mode off left a radio off")
	}

	// Undoing "off" returns to the state airplane mode left.
	u := p.Undo(t, off.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if wifiOn(t, conn) || wwanOn(t, conn) || powered(t, conn, hci0) || !tree.soft(0) {
		t.Fatal("undo of airplane off did not switch the radios off again")
	}
}

// TestAirplaneOnlyRfkill covers a machine without NetworkManager or BlueZ
// (a minimal install): the kernel switches are the whole story.
func TestAirplaneOnlyRfkill(t *testing.T) {
	bus, _ := systemBus(t)
	tree := newRfkillTree(t, fakeSwitch{0, "wlan", "phy0", false, false})
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address, RfkillDir: tree.dir})
	env := p.Do(t, "network.airplane.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !tree.soft(0) {
		t.Fatal("rfkill0 not blocked")
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if tree.soft(0) {
		t.Fatal("rfkill0 still blocked after undo")
	}
}

// readOnlyAttr finds a sysfs attribute that reads "0" and refuses writes
// even from root, as the rfkill "soft" files refuse them from users: the
// kernel answers EACCES for a write to an attribute without a store
// method, whoever asks.
func readOnlyAttr(t *testing.T) string {
	t.Helper()
	for _, attr := range []string{
		"/sys/kernel/kexec_loaded", "/sys/kernel/kexec_crash_loaded", "/sys/kernel/hardlockup_count",
		"/sys/kernel/softlockup_count", "/sys/kernel/rcu_stall_count", "/sys/kernel/oops_count",
	} {
		b, err := os.ReadFile(attr)
		if err != nil || strings.TrimSpace(string(b)) != "0" {
			continue
		}
		if f, err := os.OpenFile(attr, os.O_WRONLY, 0); err == nil {
			f.Close()
			continue
		}
		return attr
	}
	t.Skip("no read-only sysfs attribute reading 0 is available to stand in for an rfkill soft file that refuses writes")
	return ""
}

// TestAirplaneRollsBack makes the last step fail: the Wi-Fi switch's soft
// file cannot be written and there is no rfkill device. The radios
// already switched off (NetworkManager, BlueZ) must be put back and the
// action must end ROLLED_BACK, not SUCCEEDED.
func TestAirplaneRollsBack(t *testing.T) {
	attr := readOnlyAttr(t)
	conn, addr, tree, hci0 := radioMachine(t)
	soft := filepath.Join(tree.dir, "rfkill0", "soft")
	if err := os.Remove(soft); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(attr, soft); err != nil {
		t.Fatal(err)
	}
	p, _ := newPipeline(t, network.Options{SystemBus: addr, RfkillDir: tree.dir})

	env := p.Do(t, "network.airplane.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.RolledBack)
	if msg := errorOf(env); !strings.Contains(msg, "rfkill0") || !strings.Contains(msg, "permission denied") {
		t.Errorf("error %q does not explain", msg)
	}
	if !wifiOn(t, conn) || !powered(t, conn, hci0) {
		t.Fatal("rollback did not turn Wi-Fi and Bluetooth back on")
	}
	p.Verify(t)
}

// TestRfkillDeviceFallback checks what is written to the rfkill control
// device when sysfs refuses the write. A regular file stands in for
// /dev/rfkill (writing the real one would switch the host's radios), so
// the switch's state does not change and verification must fail: the
// action is rolled back rather than reported done.
func TestRfkillDeviceFallback(t *testing.T) {
	attr := readOnlyAttr(t)
	bus, _ := systemBus(t)
	tree := newRfkillTree(t, fakeSwitch{7, "wlan", "phy0", false, false})
	soft := filepath.Join(tree.dir, "rfkill7", "soft")
	if err := os.Remove(soft); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(attr, soft); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(t.TempDir(), "rfkill")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, _ := newPipeline(t, network.Options{SystemBus: bus.Address, RfkillDir: tree.dir, RfkillDevice: dev})

	env := p.Do(t, "network.airplane.set", `{"enabled":true}`)
	pipelinetest.RequireState(t, env, action.RolledBack)
	if msg := errorOf(env); !strings.Contains(msg, "rfkill7") {
		t.Errorf("verification error %q does not name the switch", msg)
	}
	ev, err := os.ReadFile(dev)
	if err != nil {
		t.Fatal(err)
	}
	// struct rfkill_event: u32 idx, u8 type (0 = all), u8 op (2 = change),
	// u8 soft, u8 hard.
	if len(ev) != 8 || binary.NativeEndian.Uint32(ev[0:4]) != 7 || ev[4] != 0 || ev[5] != 2 || ev[6] != 1 || ev[7] != 0 {
		t.Fatalf("rfkill event = %v", ev)
	}
}

func countProbes(r *verify.Result, probe string) int {
	if r == nil {
		return 0
	}
	n := 0
	if r.Probe == probe && r.Passed() {
		n++
	}
	for i := range r.Children {
		n += countProbes(&r.Children[i], probe)
	}
	return n
}
