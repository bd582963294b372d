package system

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type processListH struct{ m *Module }

type listTarget struct {
	Name  string `json:"name,omitempty"`
	User  string `json:"user,omitempty"`
	Sort  string `json:"sort,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// listedProc is one row of process.list.
type listedProc struct {
	PID        int     `json:"pid"`
	PPID       int     `json:"ppid"`
	Name       string  `json:"name"`
	User       string  `json:"user"`
	State      string  `json:"state"`
	CPUPercent float64 `json:"cpu_percent"`
	RSSBytes   int64   `json:"rss_bytes"`
	MemPercent float64 `json:"mem_percent"`
	Cmdline    string  `json:"cmdline"`
	StartTicks uint64  `json:"start_ticks"`
}

const (
	defaultListLimit = 20
	cmdlineMax       = 160
)

func (h *processListH) Manifest() action.Manifest {
	return action.Manifest{
		Name:        "process.list",
		Title:       "List processes",
		Description: "List running processes from /proc with their user, CPU use (measured over a short interval), resident memory and command line; optionally filtered by name or user and sorted by CPU, memory, pid or name.",
		Schema: adapter.Schema(nil, map[string]any{
			"name":  map[string]any{"type": "string", "minLength": 1, "maxLength": 64, "description": "only processes whose name or command line contains this (case-insensitive)"},
			"user":  map[string]any{"type": "string", "minLength": 1, "maxLength": 64, "description": "only processes of this user"},
			"sort":  map[string]any{"type": "string", "enum": []string{"cpu", "memory", "pid", "name"}, "default": "cpu"},
			"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": 1000, "default": defaultListLimit},
		}),
		Verification: "reads /proc again: same boot, and every listed process still running has the same start time and name",
		Rollback:     action.RollbackNone, RollbackNote: "a query changes nothing",
		ReadOnly: true,
		Utterances: []string{
			"(what's|what is|who is|what process is) (eating|using|hogging|burning) [all] [of] my {sort}",
			"(list|show) [all] [the] [running] processes",
			"(which|what) (processes|programs) are running",
			"(which|what) (processes|programs|apps) (use|take|consume) the most {sort}",
			"(top|biggest) [{limit}] processes by {sort}",
			"(show|list|find) [the] {name} processes",
			"(show|list) processes (of|owned by|for) [user] {user}",
			"is (anything|something) (eating|using) [the] {sort}",
		},
		Examples: []action.Example{
			{Text: "what's eating my cpu", Target: json.RawMessage(`{"sort":"cpu","limit":10}`)},
			{Text: "which processes use the most memory", Target: json.RawMessage(`{"sort":"memory","limit":10}`)},
			{Text: "show the firefox processes", Target: json.RawMessage(`{"name":"firefox"}`)},
			{Text: "list running processes", Target: json.RawMessage(`{}`)},
		},
		Aliases: []string{"ps", "top", "htop", "task manager", "running programs", "process list"},
		Owner:   "system",
	}
}

func (h *processListH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	return []action.Change{{Subject: "processes", Note: "read only: reads " + h.m.opts.ProcRoot}}, nil
}

func (h *processListH) Verification(req *action.Request) (verify.Spec, error) {
	var t listTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("file.exists", verify.PathArgs{Path: h.m.proc("1", "stat"), Kind: "file"}), nil
}

func (h *processListH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	var t listTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return adapter.Outcome{}, err
	}
	if t.Limit <= 0 {
		t.Limit = defaultListLimit
	}
	if t.Sort == "" {
		t.Sort = "cpu"
	}
	boot, err := h.m.bootID()
	if err != nil {
		return adapter.Outcome{}, err
	}
	rows, total, err := h.m.listProcesses(ctx, t)
	if err != nil {
		return adapter.Outcome{}, err
	}
	matched := len(rows)
	if len(rows) > t.Limit {
		rows = rows[:t.Limit]
	}
	check := ListingArgs{BootID: boot}
	for _, r := range rows[:min(len(rows), 10)] {
		check.Entries = append(check.Entries, ListedArgs{PID: r.PID, StartTicks: r.StartTicks, Name: r.Name})
	}
	return adapter.Outcome{
		Result: map[string]any{
			"processes": rows, "total": total, "matched": matched, "sorted_by": t.Sort,
			"cpu_sample_ms": h.m.opts.SampleInterval.Milliseconds(),
		},
		Verification: verify.Probe("process.listing", check),
	}, nil
}

// listProcesses samples every process twice, SampleInterval apart, so
// that CPU use is what each used just now rather than its lifetime
// average; then filters and sorts.
func (m *Module) listProcesses(ctx context.Context, t listTarget) ([]listedProc, int, error) {
	first, err := m.allProcs()
	if err != nil {
		return nil, 0, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case <-time.After(m.opts.SampleInterval):
	}
	second, err := m.allProcs()
	if err != nil {
		return nil, 0, err
	}
	elapsed := time.Since(t0).Seconds()
	memTotal := uint64(0)
	if mem, err := m.memory(); err == nil {
		memTotal = mem.TotalBytes
	}
	type key struct {
		pid   int
		start uint64
	}
	before := make(map[key]uint64, len(first))
	for _, p := range first {
		before[key{p.PID, p.StartTicks}] = p.UTime + p.STime
	}
	page := int64(os.Getpagesize())
	names := userNames{}
	needle := strings.ToLower(t.Name)
	var rows []listedProc
	for _, p := range second {
		if p.Dead() {
			continue
		}
		user := names.name(p.UID)
		if t.User != "" && user != t.User {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(p.Comm), needle) && !strings.Contains(strings.ToLower(strings.Join(p.Cmdline, " ")), needle) {
			continue
		}
		r := listedProc{
			PID: p.PID, PPID: p.PPID, Name: p.displayName(), User: user, State: string(p.State),
			RSSBytes: max(p.RSSPages, 0) * page, Cmdline: p.commandLine(cmdlineMax), StartTicks: p.StartTicks,
		}
		if prev, ok := before[key{p.PID, p.StartTicks}]; ok && elapsed > 0 && p.UTime+p.STime >= prev {
			r.CPUPercent = round1(float64(p.UTime+p.STime-prev) / userHZ / elapsed * 100)
		}
		if memTotal > 0 {
			r.MemPercent = round1(float64(r.RSSBytes) / float64(memTotal) * 100)
		}
		rows = append(rows, r)
	}
	sortRows(rows, t.Sort)
	return rows, len(second), nil
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func sortRows(rows []listedProc, by string) {
	less := map[string]func(a, b listedProc) bool{
		"cpu":    func(a, b listedProc) bool { return a.CPUPercent > b.CPUPercent },
		"memory": func(a, b listedProc) bool { return a.RSSBytes > b.RSSBytes },
		"name":   func(a, b listedProc) bool { return a.Name < b.Name },
		"pid":    func(a, b listedProc) bool { return a.PID < b.PID },
	}[by]
	if less == nil {
		less = func(a, b listedProc) bool { return a.PID < b.PID }
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if less(rows[i], rows[j]) {
			return true
		}
		if less(rows[j], rows[i]) {
			return false
		}
		return rows[i].PID < rows[j].PID
	})
}

// ListingArgs are what process.list reported: the boot it read and some
// of the processes it listed.
type ListingArgs struct {
	BootID  string       `json:"boot_id"`
	Entries []ListedArgs `json:"entries"`
}

// ListedArgs name one listed process instance.
type ListedArgs struct {
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	Name       string `json:"name"`
}

func (m *Module) probeListing(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a ListingArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, probeErr("process.listing", err)
	}
	boot, err := m.bootID()
	if err != nil {
		return verify.Observation{}, err
	}
	if boot != a.BootID {
		return verify.Observation{Pass: false, Observed: boot, Detail: fmt.Sprintf("boot id is %s, the listing was of %s", boot, a.BootID)}, nil
	}
	alive, exited := 0, 0
	for _, e := range a.Entries {
		st, ok := m.alive(e.PID, e.StartTicks)
		if !ok {
			exited++
			continue
		}
		alive++
		if st.Kernel() {
			// A kernel worker names itself after the work it is doing
			// ("[kworker/u8:0-writeback]"); pid and start time are who
			// it is.
			continue
		}
		if name := st.Comm; name != e.Name {
			return verify.Observation{Pass: false, Observed: map[string]any{"pid": e.PID, "name": name},
				Detail: fmt.Sprintf("pid %d (started at tick %d) is %q, listed as %q", e.PID, e.StartTicks, name, e.Name)}, nil
		}
	}
	return verify.Observation{Pass: true, Observed: map[string]int{"alive": alive, "exited": exited},
		Detail: fmt.Sprintf("same boot; %d listed processes still running as listed, %d exited since", alive, exited)}, nil
}
