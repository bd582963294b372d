package system

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
)

// child is a real process started for a test and reaped when it exits.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// spawn starts argv; the process is ended and reaped when the test ends.
func spawn(t *testing.T, argv ...string) *child {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
	})
	waitRunning(t, cmd.Process.Pid)
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// waitRunning waits until the child has exec'd (its stat shows a name
// other than the test binary's).
func waitRunning(t *testing.T, pid int) {
	t.Helper()
	self, _ := os.ReadFile("/proc/self/comm")
	for i := 0; i < 200; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && string(b) != string(self) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exited reports whether the child has been reaped.
func (c *child) exited(within time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(within):
		return false
	}
}

// namedProgram copies sleep to a file with a name no other process has,
// so that kill-by-name tests cannot touch anything else.
func namedProgram(t *testing.T, name string) string {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("sleep is not installed (coreutils)")
	}
	dst := filepath.Join(t.TempDir(), name)
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, os.Getpid()%100000)
}

type listResult struct {
	Processes []listedProc `json:"processes"`
	Total     int          `json:"total"`
	Matched   int          `json:"matched"`
}

func TestProcessList(t *testing.T) {
	name := uniqueName("nmlist")
	prog := namedProgram(t, name)
	c := spawn(t, prog, "600")
	busy := spawn(t, "sh", "-c", "while :; do :; done")
	m := New(Options{SampleInterval: 400 * time.Millisecond})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "process.list", `{"name":"`+name+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if env.Execution.ApprovalID != "" || env.Request.Risk.Any() {
		t.Errorf("process.list needed approval or has risk %+v", env.Request.Risk)
	}
	var r listResult
	if err := json.Unmarshal(env.Execution.Result, &r); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range r.Processes {
		if row.PID == c.pid() {
			found = true
			if row.Name != name || row.User == "" || row.RSSBytes <= 0 || !strings.Contains(row.Cmdline, name+" 600") || row.StartTicks == 0 {
				t.Errorf("row %+v", row)
			}
		}
	}
	if !found || r.Total < r.Matched || r.Matched < 1 {
		t.Errorf("listing %+v does not show pid %d", r, c.pid())
	}

	// The busy shell loop is what eats the CPU.
	env = p.Do(t, "process.list", `{"sort":"cpu","limit":5}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	r = listResult{}
	json.Unmarshal(env.Execution.Result, &r)
	if len(r.Processes) == 0 || len(r.Processes) > 5 {
		t.Fatalf("listing %+v", r)
	}
	for _, row := range r.Processes {
		if row.PID == busy.pid() {
			if row.CPUPercent < 20 {
				t.Errorf("busy loop at %.1f%% CPU", row.CPUPercent)
			}
			p.Verify(t)
			return
		}
	}
	t.Errorf("busy loop (pid %d) not among the top 5 by CPU: %+v", busy.pid(), r.Processes)
}

func TestProcessListingProbeCanFail(t *testing.T) {
	m := New(Options{})
	boot, err := m.bootID()
	if err != nil {
		t.Fatal(err)
	}
	self, err := m.readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args ListingArgs
		pass bool
	}{
		{ListingArgs{BootID: boot, Entries: []ListedArgs{{PID: self.PID, StartTicks: self.StartTicks, Name: self.Comm}}}, true},
		{ListingArgs{BootID: boot, Entries: []ListedArgs{{PID: self.PID, StartTicks: self.StartTicks, Name: "other"}}}, false},
		{ListingArgs{BootID: "00000000-0000-0000-0000-000000000000"}, false},
	} {
		raw, _ := json.Marshal(c.args)
		obs, err := m.probeListing(context.Background(), raw)
		if err != nil || obs.Pass != c.pass {
			t.Errorf("%+v: pass=%v err=%v (%s)", c.args, obs.Pass, err, obs.Detail)
		}
	}
}

func TestProcessKillByPID(t *testing.T) {
	c := spawn(t, "sleep", "600")
	p := pipelinetest.New(t, pipelinetest.Options{}, New(Options{}))
	env := p.Do(t, "process.kill", fmt.Sprintf(`{"pid":%d}`, c.pid()))
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !env.Request.Risk.Destructive || env.Execution.ApprovalID == "" {
		t.Errorf("risk %+v approval %q", env.Request.Risk, env.Execution.ApprovalID)
	}
	if !c.exited(5 * time.Second) {
		t.Fatal("sleep is still running")
	}
	if ws := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("sleep ended with %v, want SIGTERM", c.cmd.ProcessState)
	}
	_, err := p.Runtime.Undo(context.Background(), env.Identity.ActionID, p.Human)
	if err == nil || !strings.Contains(err.Error(), "cannot be brought back") {
		t.Errorf("undo of a kill: %v, want an honest refusal", err)
	}
	p.Verify(t)
}

func TestProcessKillByName(t *testing.T) {
	name := uniqueName("nmkill")
	prog := namedProgram(t, name)
	a, b := spawn(t, prog, "600"), spawn(t, prog, "601")
	bystander := spawn(t, "sleep", "600")
	p := pipelinetest.New(t, pipelinetest.Options{}, New(Options{}))
	env := p.Do(t, "process.kill", `{"name":"`+name+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !a.exited(5*time.Second) || !b.exited(5*time.Second) {
		t.Fatal("a process of that name survived")
	}
	if bystander.exited(100 * time.Millisecond) {
		t.Fatal("a process of another name was ended")
	}
	env = p.Do(t, "process.kill", `{"name":"`+name+`"}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "no process named") {
		t.Errorf("error = %q", msg)
	}
	p.Verify(t)
}

// A process that ignores SIGTERM is only killed when the target says
// force; without it the action fails and says how to proceed.
func TestProcessKillForce(t *testing.T) {
	name := uniqueName("nmstub")
	prog := namedProgram(t, name)
	// An ignored signal stays ignored across exec.
	c := spawn(t, "sh", "-c", `trap "" TERM; exec `+prog+` 600`)
	p := pipelinetest.New(t, pipelinetest.Options{}, New(Options{KillTimeout: 500 * time.Millisecond}))

	env := p.Do(t, "process.kill", fmt.Sprintf(`{"pid":%d}`, c.pid()))
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "force") {
		t.Errorf("error = %q", msg)
	}
	if c.exited(50 * time.Millisecond) {
		t.Fatal("the process ended without force")
	}

	env = p.Do(t, "process.kill", fmt.Sprintf(`{"pid":%d,"force":true}`, c.pid()))
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !c.exited(5 * time.Second) {
		t.Fatal("still running after force")
	}
	if ws := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGKILL {
		t.Errorf("ended with %v, want SIGKILL", c.cmd.ProcessState)
	}
	p.Verify(t)
}

func TestProcessKillRefuses(t *testing.T) {
	m := New(Options{})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	cases := map[string]string{
		`{"pid":1}`:                             "init",
		fmt.Sprintf(`{"pid":%d}`, os.Getpid()):  "Noema itself",
		fmt.Sprintf(`{"pid":%d}`, os.Getppid()): "started Noema",
		`{"pid":4194303}`:                       "no process with pid",
	}
	if kt := kernelThread(m); kt > 0 {
		cases[fmt.Sprintf(`{"pid":%d}`, kt)] = "kernel thread"
		t.Logf("kernel thread case: pid %d", kt)
	} else {
		t.Log("no kernel thread visible in this pid namespace; that case is not exercised")
	}
	for target, want := range cases {
		env := p.Do(t, "process.kill", target)
		pipelinetest.RequireState(t, env, action.Failed)
		if msg := errorOf(env); !strings.Contains(msg, want) {
			t.Errorf("%s: error %q, want it to mention %q", target, msg, want)
		}
	}
	e, _ := p.Registry.Catalog().Lookup("process.kill")
	for _, bad := range []string{`{}`, `{"pid":1,"name":"x"}`, `{"name":"a/b"}`, `{"pid":0}`, `{"pid":-3}`, `{"name":""}`} {
		if err := e.ValidateTarget(json.RawMessage(bad)); err == nil {
			t.Errorf("target %s accepted", bad)
		}
	}
	p.Verify(t)
}

func kernelThread(m *Module) int {
	procs, _ := m.allProcs()
	for _, p := range procs {
		if p.Kernel() {
			return p.PID
		}
	}
	return 0
}

// Another user's process makes the kill privileged.
func TestProcessKillOtherUserIsPrivileged(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to start a process as another user")
	}
	cmd := exec.Command("sleep", "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a process as nobody: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	waitRunning(t, cmd.Process.Pid)
	p := pipelinetest.New(t, pipelinetest.Options{}, New(Options{}))
	env := p.Do(t, "process.kill", fmt.Sprintf(`{"pid":%d}`, cmd.Process.Pid))
	pipelinetest.RequireState(t, env, action.Succeeded)
	if !env.Request.Risk.Privileged {
		t.Errorf("risk %+v, want privileged", env.Request.Risk)
	}
}
