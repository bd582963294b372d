package system

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type infoH struct{ m *Module }

func (h *infoH) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "system.info",
		Title:       "Show system information",
		Description: "Report the host name, kernel, operating system, uptime and load, memory, disk space of / and the home folder, the processor, and the battery when UPower knows one.",
		Schema:      adapter.Schema(nil, map[string]any{}),
		Verification: "reads /proc again and checks the boot id, the boot time (within a second), " +
			"the kernel release and the memory size match what was reported",
		Rollback: action.RollbackNone, RollbackNote: "a query changes nothing",
		ReadOnly: true,
		Utterances: []string{
			"(show|display|give me|print) [the] (system|machine|computer) (info|information|details|summary)",
			"(what|which) (kernel|os|operating system|distro|distribution) (am i running|is this|is installed)",
			"(what is|what's) my (kernel|os|operating system|distro) [version]",
			"how (long|much time) has [the] (system|machine|computer) been (up|running|on)",
			"how much (memory|ram|disk space|disk|storage) (do i have|is free|is left|is available)",
			"(what is|what's) [the] (load|uptime|battery level|battery) [of] [this] [machine|computer|system]",
			"(about|describe) [this] (system|machine|computer)",
			"[show] [the] (system|machine|computer) (status|overview|health|stats|summary|info)",
			"how is [the|my|this] (system|computer|machine) doing",
		},
		Examples: []action.Example{
			{Text: "show system info", Target: json.RawMessage(`{}`)},
			{Text: "how much memory is free", Target: json.RawMessage(`{}`)},
			{Text: "what kernel am i running", Target: json.RawMessage(`{}`)},
		},
		Aliases: []string{"system info", "uname", "uptime", "neofetch", "hardware info", "free memory", "disk usage", "battery status", "hostname"},
		Owner:   "system",
	}
}

// sysInfo is system.info's answer.
type sysInfo struct {
	Hostname      string    `json:"hostname"`
	Kernel        kernel    `json:"kernel"`
	OS            osInfo    `json:"os"`
	BootID        string    `json:"boot_id"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	BootTime      time.Time `json:"boot_time"`
	Load          loadAvg   `json:"load"`
	Memory        memory    `json:"memory"`
	Disks         []disk    `json:"disks"`
	CPU           cpuInfo   `json:"cpu"`
	Power         *power    `json:"power,omitempty"`
	Notes         []string  `json:"notes,omitempty"`
}

type kernel struct {
	Name    string `json:"name"`
	Release string `json:"release"`
	Version string `json:"version"`
	Machine string `json:"machine"`
}

type osInfo struct {
	Name       string `json:"name,omitempty"`
	PrettyName string `json:"pretty_name,omitempty"`
	ID         string `json:"id,omitempty"`
	VersionID  string `json:"version_id,omitempty"`
}

type memory struct {
	TotalBytes     uint64  `json:"total_bytes"`
	AvailableBytes uint64  `json:"available_bytes"`
	UsedPercent    float64 `json:"used_percent"`
	SwapTotalBytes uint64  `json:"swap_total_bytes"`
	SwapFreeBytes  uint64  `json:"swap_free_bytes"`
}

type disk struct {
	Path           string  `json:"path"`
	TotalBytes     uint64  `json:"total_bytes"`
	AvailableBytes uint64  `json:"available_bytes"`
	UsedPercent    float64 `json:"used_percent"`
}

func (h *infoH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	return []action.Change{{Subject: "system", Note: "read only: reads /proc, os-release, file system sizes and UPower"}}, nil
}

func (h *infoH) Verification(req *action.Request) (verify.Spec, error) {
	return verify.AllOf(
		verify.Probe("file.exists", verify.PathArgs{Path: h.m.proc("uptime"), Kind: "file"}),
		verify.Probe("file.exists", verify.PathArgs{Path: h.m.proc("meminfo"), Kind: "file"}),
	), nil
}

func (h *infoH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	info, err := h.m.readInfo(ctx)
	if err != nil {
		return adapter.Outcome{}, err
	}
	return adapter.Outcome{
		Result: info,
		Verification: verify.Probe("system.boot", BootArgs{
			BootID: info.BootID, BootUnix: float64(info.BootTime.UnixNano()) / 1e9,
			KernelRelease: info.Kernel.Release, MemTotalBytes: info.Memory.TotalBytes,
		}),
	}, nil
}

// readInfo gathers system.info. The procfs facts are required; os-release,
// disks and the battery are reported when they can be read.
func (m *Module) readInfo(ctx context.Context) (*sysInfo, error) {
	var info sysInfo
	var err error
	if info.Hostname, err = os.Hostname(); err != nil {
		return nil, fmt.Errorf("host name: %w", err)
	}
	if info.Kernel, err = uname(); err != nil {
		return nil, err
	}
	if info.BootID, err = m.bootID(); err != nil {
		return nil, err
	}
	now := time.Now()
	if info.UptimeSeconds, err = m.uptime(); err != nil {
		return nil, err
	}
	info.BootTime = bootTime(now, info.UptimeSeconds)
	b, err := os.ReadFile(m.proc("loadavg"))
	if err != nil {
		return nil, fmt.Errorf("load average: %w", err)
	}
	if info.Load, err = parseLoadAvg(b); err != nil {
		return nil, err
	}
	if info.Memory, err = m.memory(); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(m.proc("cpuinfo")); err == nil {
		info.CPU = parseCPUInfo(b)
	} else {
		info.Notes = append(info.Notes, "cpuinfo: "+err.Error())
	}
	if info.CPU.Logical == 0 {
		info.CPU.Logical = runtime.NumCPU()
	}
	if b, err := os.ReadFile(m.osReleasePath()); err == nil {
		r := parseOSRelease(b)
		info.OS = osInfo{Name: r["NAME"], PrettyName: r["PRETTY_NAME"], ID: r["ID"], VersionID: r["VERSION_ID"]}
	} else {
		info.Notes = append(info.Notes, "os-release: "+err.Error())
	}
	info.Disks = []disk{}
	seen := map[string]bool{}
	for _, p := range []string{"/", m.opts.Home} {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		d, err := diskUsage(p)
		if err != nil {
			info.Notes = append(info.Notes, err.Error())
			continue
		}
		info.Disks = append(info.Disks, d)
	}
	// No UPower (servers, containers) or no system bus is not an error:
	// the battery is left out and the note says why.
	if pw, err := m.readPower(ctx); err == nil {
		info.Power = pw
	} else {
		info.Notes = append(info.Notes, "battery: "+err.Error())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &info, nil
}

func (m *Module) uptime() (float64, error) {
	b, err := os.ReadFile(m.proc("uptime"))
	if err != nil {
		return 0, fmt.Errorf("uptime: %w", err)
	}
	return parseUptime(b)
}

func (m *Module) bootID() (string, error) {
	b, err := os.ReadFile(m.proc("sys", "kernel", "random", "boot_id"))
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	return parseBootID(b)
}

func (m *Module) memory() (memory, error) {
	b, err := os.ReadFile(m.proc("meminfo"))
	if err != nil {
		return memory{}, fmt.Errorf("memory: %w", err)
	}
	mi, err := parseMeminfo(b)
	if err != nil {
		return memory{}, err
	}
	mem := memory{TotalBytes: mi["MemTotal"], SwapTotalBytes: mi["SwapTotal"], SwapFreeBytes: mi["SwapFree"]}
	avail, ok := mi["MemAvailable"]
	if !ok { // kernels before 3.14
		avail = mi["MemFree"] + mi["Buffers"] + mi["Cached"]
	}
	mem.AvailableBytes = min(avail, mem.TotalBytes)
	mem.UsedPercent = percent(mem.TotalBytes-mem.AvailableBytes, mem.TotalBytes)
	return mem, nil
}

func bootTime(now time.Time, uptime float64) time.Time {
	return now.Add(-time.Duration(uptime * float64(time.Second))).UTC().Truncate(10 * time.Millisecond)
}

func percent(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)/float64(whole)*1000) / 10
}

func uname() (kernel, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return kernel{}, fmt.Errorf("uname: %w", err)
	}
	return kernel{
		Name: unix.ByteSliceToString(u.Sysname[:]), Release: unix.ByteSliceToString(u.Release[:]),
		Version: unix.ByteSliceToString(u.Version[:]), Machine: unix.ByteSliceToString(u.Machine[:]),
	}, nil
}

func diskUsage(path string) (disk, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return disk{}, fmt.Errorf("disk %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	d := disk{Path: path, TotalBytes: st.Blocks * bs, AvailableBytes: st.Bavail * bs}
	used := (st.Blocks - st.Bfree) * bs
	// As df does: used over what non-root users can reach.
	d.UsedPercent = percent(used, used+d.AvailableBytes)
	return d, nil
}

// BootArgs are what system.info reported about the running kernel; the
// probe reads procfs again and compares.
type BootArgs struct {
	BootID        string  `json:"boot_id"`
	BootUnix      float64 `json:"boot_unix"`
	KernelRelease string  `json:"kernel_release"`
	MemTotalBytes uint64  `json:"mem_total_bytes"`
}

// bootTolerance is how far the boot time computed from /proc/uptime may
// drift between two reads (rounding of uptime, a slewing clock).
const bootTolerance = time.Second

func (m *Module) probeBoot(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a BootArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, probeErr("system.boot", err)
	}
	id, err := m.bootID()
	if err != nil {
		return verify.Observation{}, err
	}
	up, err := m.uptime()
	if err != nil {
		return verify.Observation{}, err
	}
	boot := bootTime(time.Now(), up)
	k, err := uname()
	if err != nil {
		return verify.Observation{}, err
	}
	mem, err := m.memory()
	if err != nil {
		return verify.Observation{}, err
	}
	drift := math.Abs(float64(boot.UnixNano())/1e9 - a.BootUnix)
	obs := map[string]any{"boot_id": id, "boot_time": boot, "kernel_release": k.Release, "mem_total_bytes": mem.TotalBytes}
	var bad []string
	if id != a.BootID {
		bad = append(bad, fmt.Sprintf("boot id is %s, reported %s", id, a.BootID))
	}
	if drift > bootTolerance.Seconds() {
		bad = append(bad, fmt.Sprintf("boot time differs by %.2fs", drift))
	}
	if k.Release != a.KernelRelease {
		bad = append(bad, fmt.Sprintf("kernel is %s, reported %s", k.Release, a.KernelRelease))
	}
	if mem.TotalBytes != a.MemTotalBytes {
		bad = append(bad, fmt.Sprintf("memory is %d bytes, reported %d", mem.TotalBytes, a.MemTotalBytes))
	}
	if len(bad) > 0 {
		return verify.Observation{Pass: false, Observed: obs, Detail: fmt.Sprint(bad)}, nil
	}
	return verify.Observation{Pass: true, Observed: obs,
		Detail: fmt.Sprintf("same boot (%s), boot time within %.2fs, kernel %s, %d bytes of memory", id, drift, k.Release, mem.TotalBytes)}, nil
}
