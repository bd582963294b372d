package system

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the tick counts in /proc/PID/stat. The kernel
// fixes it at 100 for user space on every architecture Linux supports.
const userHZ = 100

// proc is one process as process.* sees it.
type proc struct {
	procStat
	UID     int
	Cmdline []string
}

// readProc reads one process. A process that has gone away is reported
// with an error satisfying errors.Is(err, fs.ErrNotExist).
func (m *Module) readProc(pid int) (proc, error) {
	b, err := os.ReadFile(m.proc(strconv.Itoa(pid), "stat"))
	if err != nil {
		return proc{}, err
	}
	st, err := parseStat(b)
	if err != nil {
		return proc{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	p := proc{procStat: st, UID: -1}
	if b, err := os.ReadFile(m.proc(strconv.Itoa(pid), "status")); err == nil {
		if uid, err := parseStatusUID(b); err == nil {
			p.UID = uid
		}
	}
	if b, err := os.ReadFile(m.proc(strconv.Itoa(pid), "cmdline")); err == nil {
		p.Cmdline = parseCmdline(b)
	}
	return p, nil
}

// readStat reads only /proc/PID/stat, for the cheap checks of waiting.
func (m *Module) readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(m.proc(strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// pids lists the numeric entries of procfs.
func (m *Module) pids() ([]int, error) {
	ents, err := os.ReadDir(m.opts.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			out = append(out, pid)
		}
	}
	return out, nil
}

// allProcs reads every process; those that exit while being read are
// skipped.
func (m *Module) allProcs() ([]proc, error) {
	pids, err := m.pids()
	if err != nil {
		return nil, err
	}
	out := make([]proc, 0, len(pids))
	for _, pid := range pids {
		p, err := m.readProc(pid)
		if err != nil {
			// Gone since the directory was read, or in a state that
			// cannot be read: not the listing's failure.
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// matchesName says whether a process is called name: its command name
// (which the kernel cuts to 15 bytes) or the base name of its program.
func (p proc) matchesName(name string) bool {
	if p.Comm == name || (len(name) > 15 && p.Comm == name[:15]) {
		return true
	}
	return len(p.Cmdline) > 0 && filepath.Base(p.Cmdline[0]) == name
}

// displayName is the program's name as people know it.
func (p proc) displayName() string {
	if p.Kernel() {
		return "[" + p.Comm + "]"
	}
	return p.Comm
}

// commandLine joins the arguments, cut to limit bytes.
func (p proc) commandLine(limit int) string {
	if len(p.Cmdline) == 0 {
		return p.displayName()
	}
	s := strings.Join(p.Cmdline, " ")
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return s
}

// userNames resolves uids to names, remembering answers for one call.
type userNames map[int]string

func (u userNames) name(uid int) string {
	if uid < 0 {
		return "?"
	}
	if n, ok := u[uid]; ok {
		return n
	}
	n := strconv.Itoa(uid)
	if usr, err := user.LookupId(n); err == nil {
		n = usr.Username
	}
	u[uid] = n
	return n
}

// alive reports whether pid still names the process instance that
// started at start ticks after boot and has not terminated.
func (m *Module) alive(pid int, start uint64) (procStat, bool) {
	st, err := m.readStat(pid)
	if err != nil || st.Dead() || (start != 0 && st.StartTicks != start) {
		return st, false
	}
	return st, true
}

// waitForExit polls until none of targets is alive or ctx ends; it
// returns those still alive.
func (m *Module) waitForExit(ctx context.Context, targets []proc) []proc {
	for {
		var left []proc
		for _, t := range targets {
			if _, ok := m.alive(t.PID, t.StartTicks); ok {
				left = append(left, t)
			}
		}
		if len(left) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return left
		case <-time.After(50 * time.Millisecond):
		}
		targets = left
	}
}
