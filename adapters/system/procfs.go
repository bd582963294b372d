package system

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Parsers for the procfs and /etc files system.info and process.* read.
// Each takes the file's bytes so that it can be fuzzed without a system.

// parseUptime reads /proc/uptime: seconds since boot, then idle seconds.
func parseUptime(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0, errors.New("uptime: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 || v != v || v > 1e12 {
		return 0, fmt.Errorf("uptime: bad value %q", f[0])
	}
	return v, nil
}

// loadAvg is /proc/loadavg.
type loadAvg struct {
	Load1     float64 `json:"load1"`
	Load5     float64 `json:"load5"`
	Load15    float64 `json:"load15"`
	Running   int     `json:"running"`
	Processes int     `json:"processes"`
}

// parseLoadAvg reads "0.10 0.20 0.30 1/234 5678".
func parseLoadAvg(b []byte) (loadAvg, error) {
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return loadAvg{}, fmt.Errorf("loadavg: %d fields, want at least 4", len(f))
	}
	var l loadAvg
	for i, dst := range []*float64{&l.Load1, &l.Load5, &l.Load15} {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil || v < 0 || v != v {
			return loadAvg{}, fmt.Errorf("loadavg: bad load %q", f[i])
		}
		*dst = v
	}
	run, total, ok := strings.Cut(f[3], "/")
	if !ok {
		return loadAvg{}, fmt.Errorf("loadavg: bad task count %q", f[3])
	}
	var err1, err2 error
	l.Running, err1 = strconv.Atoi(run)
	l.Processes, err2 = strconv.Atoi(total)
	if err1 != nil || err2 != nil || l.Running < 0 || l.Processes < 0 {
		return loadAvg{}, fmt.Errorf("loadavg: bad task count %q", f[3])
	}
	return l, nil
}

// parseMeminfo reads /proc/meminfo into bytes per key ("MemTotal").
// Values given in kB are converted; unitless values (HugePages_Total) are
// kept as they are.
func parseMeminfo(b []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		key, rest, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			if v > (1<<64-1)/1024 {
				continue
			}
			v *= 1024
		}
		out[strings.TrimSpace(key)] = v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("meminfo: %w", err)
	}
	if _, ok := out["MemTotal"]; !ok {
		return nil, errors.New("meminfo: no MemTotal")
	}
	return out, nil
}

// cpuInfo is what /proc/cpuinfo says about the processors.
type cpuInfo struct {
	Model   string `json:"model,omitempty"`
	Logical int    `json:"logical"`
}

// parseCPUInfo counts "processor" entries and finds the model name, which
// x86 calls "model name", ARM "Model" or "Hardware", others "cpu model"
// or "cpu".
func parseCPUInfo(b []byte) cpuInfo {
	var c cpuInfo
	models := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		key, val, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if key == "processor" {
			if _, err := strconv.Atoi(val); err == nil {
				c.Logical++
			}
			continue
		}
		if _, seen := models[key]; !seen && val != "" {
			models[key] = val
		}
	}
	for _, k := range []string{"model name", "Model", "Hardware", "cpu model", "cpu"} {
		if v := models[k]; v != "" {
			c.Model = v
			break
		}
	}
	return c
}

// parseOSRelease reads an os-release file: KEY=value lines whose values
// may be quoted as in a shell, with \" \\ \$ \` escapes in double quotes.
func parseOSRelease(b []byte) map[string]string {
	out := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || !validEnvName(key) {
			continue
		}
		v, ok := unquoteShell(val)
		if !ok {
			continue
		}
		out[key] = v
	}
	return out
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

// unquoteShell undoes the quoting os-release allows.
func unquoteShell(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	switch q := v[0]; q {
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return "", false
		}
		inner := v[1 : len(v)-1]
		if strings.ContainsRune(inner, '\'') {
			return "", false
		}
		return inner, true
	case '"':
		if len(v) < 2 || v[len(v)-1] != '"' {
			return "", false
		}
		inner := v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			if c == '\\' && i+1 < len(inner) && strings.IndexByte("\"\\$`", inner[i+1]) >= 0 {
				b.WriteByte(inner[i+1])
				i++
				continue
			}
			if c == '"' {
				return "", false
			}
			b.WriteByte(c)
		}
		return b.String(), true
	default:
		if strings.ContainsAny(v, " \t\"'`$\\") {
			return "", false
		}
		return v, true
	}
}

// procStat is what process.* needs from /proc/PID/stat.
type procStat struct {
	PID   int
	Comm  string
	State byte
	PPID  int
	Flags uint64
	// UTime and STime are clock ticks spent in user and kernel mode.
	UTime, STime uint64
	// StartTicks is the start time in clock ticks after boot: with the
	// pid it names one process instance, even when pids are reused.
	StartTicks uint64
	// RSSPages is the resident set size in pages.
	RSSPages int64
}

// pfKthread is the kernel's PF_KTHREAD flag in /proc/PID/stat.
const pfKthread = 0x00200000

// parseStat reads /proc/PID/stat. The command name is in parentheses and
// may itself contain spaces and parentheses, so fields are counted from
// the last ')'.
func parseStat(b []byte) (procStat, error) {
	s := string(b)
	open := strings.IndexByte(s, '(')
	end := strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("stat: no command name")
	}
	var p procStat
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil || pid <= 0 {
		return procStat{}, fmt.Errorf("stat: bad pid %q", strings.TrimSpace(s[:open]))
	}
	p.PID = pid
	p.Comm = s[open+1 : end]
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("stat: %d fields after the name, want at least 22", len(f))
	}
	if len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("stat: bad state %q", f[0])
	}
	p.State = f[0][0]
	u := func(n int) (uint64, error) { return strconv.ParseUint(f[n-3], 10, 64) }
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("stat: bad ppid %q", f[1])
	}
	p.PPID = ppid
	var errs [5]error
	p.Flags, errs[0] = u(9)
	p.UTime, errs[1] = u(14)
	p.STime, errs[2] = u(15)
	p.StartTicks, errs[3] = u(22)
	p.RSSPages, errs[4] = strconv.ParseInt(f[24-3], 10, 64)
	if err := errors.Join(errs[:]...); err != nil {
		return procStat{}, fmt.Errorf("stat: %w", err)
	}
	return p, nil
}

// Kernel reports a kernel thread.
func (p procStat) Kernel() bool { return p.Flags&pfKthread != 0 }

// Dead reports a process that has terminated (a zombie waiting for its
// parent, or one being torn down).
func (p procStat) Dead() bool { return p.State == 'Z' || p.State == 'X' || p.State == 'x' }

// parseStatusUID finds the real uid in /proc/PID/status ("Uid:\t1000\t...").
func parseStatusUID(b []byte) (int, error) {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), "Uid:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		uid, err := strconv.Atoi(f[0])
		if err != nil || uid < 0 {
			return 0, fmt.Errorf("status: bad uid %q", f[0])
		}
		return uid, nil
	}
	return 0, errors.New("status: no Uid line")
}

// parseCmdline turns /proc/PID/cmdline (NUL-separated) into arguments.
func parseCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = strings.ToValidUTF8(string(p), "\uFFFD")
	}
	return out
}

// parseBootID reads /proc/sys/kernel/random/boot_id.
func parseBootID(b []byte) (string, error) {
	id := strings.TrimSpace(string(b))
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		return "", fmt.Errorf("boot_id: unexpected %q", id)
	}
	return id, nil
}
