package system

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

func infoOf(t *testing.T, env *action.Envelope) sysInfo {
	t.Helper()
	var info sysInfo
	if err := json.Unmarshal(env.Execution.Result, &info); err != nil {
		t.Fatalf("result %s: %v", env.Execution.Result, err)
	}
	return info
}

// checkInfo compares system.info's answer with what the test reads itself.
func checkInfo(t *testing.T, info sysInfo) {
	t.Helper()
	host, _ := os.Hostname()
	var u unix.Utsname
	unix.Uname(&u)
	if info.Hostname != host {
		t.Errorf("hostname %q, want %q", info.Hostname, host)
	}
	if info.Kernel.Release != unix.ByteSliceToString(u.Release[:]) || info.Kernel.Name != "Linux" {
		t.Errorf("kernel %+v", info.Kernel)
	}
	if info.Memory.TotalBytes == 0 || info.Memory.AvailableBytes > info.Memory.TotalBytes {
		t.Errorf("memory %+v", info.Memory)
	}
	if info.CPU.Logical < 1 {
		t.Errorf("cpu %+v", info.CPU)
	}
	if len(info.Disks) == 0 || info.Disks[0].Path != "/" || info.Disks[0].TotalBytes == 0 {
		t.Errorf("disks %+v", info.Disks)
	}
	if time.Since(info.BootTime) <= 0 || info.UptimeSeconds <= 0 {
		t.Errorf("boot time %v, uptime %v", info.BootTime, info.UptimeSeconds)
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil && strings.Contains(string(b), "PRETTY_NAME") && info.OS.PrettyName == "" {
		t.Errorf("os %+v", info.OS)
	}
}

// Without UPower on the bus the battery is left out, with a note; that is
// not a failure.
func TestSystemInfoWithoutUPower(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	m := New(Options{SystemBus: bus.Address})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "system.info", `{}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if env.Execution.ApprovalID != "" || env.Request.Risk.Any() {
		t.Errorf("system.info needed approval or has risk %+v", env.Request.Risk)
	}
	info := infoOf(t, env)
	checkInfo(t, info)
	if info.Power != nil {
		t.Errorf("power %+v without UPower", info.Power)
	}
	if !strings.Contains(strings.Join(info.Notes, ";"), "UPower is not running") {
		t.Errorf("notes %v", info.Notes)
	}
	// The outcome's own check re-read /proc.
	if !strings.Contains(string(mustJSON(t, env.Execution.Verification)), "system.boot") {
		t.Errorf("verification %s did not include system.boot", mustJSON(t, env.Execution.Verification))
	}
	p.Verify(t)
}

func TestSystemInfoNoSystemBus(t *testing.T) {
	m := New(Options{SystemBus: "unix:path=" + t.TempDir() + "/none"})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "system.info", `{}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	checkInfo(t, infoOf(t, env))
}

func TestSystemInfoBattery(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	mock := startMock(t, bus, "upower", upowerName, `{"OnBattery": true}`)
	mock.call(t, upowerPath, "org.freedesktop.DBus.Mock.AddDischargingBattery", "mock_BAT", "Test Cell", 42.0, int64(5400))
	mock.call(t, upowerPath, "org.freedesktop.DBus.Mock.AddAC", "mock_AC", "Mains")
	m := New(Options{SystemBus: bus.Address})
	t.Cleanup(func() { m.Close() })
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "system.info", `{}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	info := infoOf(t, env)
	checkInfo(t, info)
	if info.Power == nil || !info.Power.OnBattery || len(info.Power.Batteries) != 1 {
		t.Fatalf("power %+v", info.Power)
	}
	b := info.Power.Batteries[0]
	if b.Percent != 42 || b.State != "discharging" || b.TimeToEmptySecs != 5400 || b.Model != "Test Cell" {
		t.Errorf("battery %+v", b)
	}
}

// A procfs that cannot be read fails the action; nothing is made up.
func TestSystemInfoFailsWithoutProc(t *testing.T) {
	m := New(Options{ProcRoot: t.TempDir(), SystemBus: "unix:path=/nonexistent"})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "system.info", `{}`)
	pipelinetest.RequireState(t, env, action.Failed)
}

// The boot probe reads the system again and can fail.
func TestBootProbe(t *testing.T) {
	m := New(Options{})
	info, err := m.readInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	good := BootArgs{BootID: info.BootID, BootUnix: float64(info.BootTime.UnixNano()) / 1e9, KernelRelease: info.Kernel.Release, MemTotalBytes: info.Memory.TotalBytes}
	cases := []struct {
		name string
		mod  func(*BootArgs)
		pass bool
	}{
		{"same", func(*BootArgs) {}, true},
		{"other boot", func(a *BootArgs) { a.BootID = "00000000-0000-0000-0000-000000000000" }, false},
		{"boot time off", func(a *BootArgs) { a.BootUnix -= 3 }, false},
		{"kernel", func(a *BootArgs) { a.KernelRelease += "-x" }, false},
		{"memory", func(a *BootArgs) { a.MemTotalBytes++ }, false},
	}
	for _, c := range cases {
		a := good
		c.mod(&a)
		raw, _ := json.Marshal(a)
		obs, err := m.probeBoot(context.Background(), raw)
		if err != nil || obs.Pass != c.pass {
			t.Errorf("%s: pass=%v err=%v (%s), want pass=%v", c.name, obs.Pass, err, obs.Detail, c.pass)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
