package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/server/client"
)

// procDaemon is `noema serve` run as a real process.
type procDaemon struct {
	cmd   *exec.Cmd
	http  string
	took  time.Duration // exec to the readiness line
	lines chan string   // stderr after readiness
	done  chan error
}

var readyLine = regexp.MustCompile(`^noema: ready in \S+: .*(http://\S+?),? .*\(pid (\d+)\)$`)

func startProc(t *testing.T, e *testEnv, extraEnv ...string) *procDaemon {
	t.Helper()
	bin := noemaBinary(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(e.environ(), extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &procDaemon{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			if !seen && strings.HasPrefix(line, "noema: ready in") {
				seen = true
				ready <- line
				continue
			}
			select {
			case p.lines <- line:
			default:
			}
		}
		close(p.lines)
		if !seen {
			close(ready)
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case line, ok := <-ready:
		if !ok {
			t.Fatalf("noema serve exited before it was ready: %v", <-p.done)
		}
		p.took = time.Since(start)
		m := readyLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("readiness line: %q", line)
		}
		p.http = m[1]
		if pid, _ := strconv.Atoi(m[2]); pid != cmd.Process.Pid {
			t.Fatalf("readiness names pid %d, the process is %d", pid, cmd.Process.Pid)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("noema serve not ready after 30s")
	}
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *procDaemon) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.done:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(60 * time.Second):
		t.Fatal("noema serve did not exit")
	}
	return -1
}

func rssKB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// waitState polls an action until it reaches st.
func waitState(t *testing.T, c *client.Client, id string, st action.State) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		env, err := c.Get(context.Background(), id)
		if err == nil && env.Execution.State == st {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never reached %s", id, st)
}

// submitPending submits a program run (which needs approval) and returns
// its envelope.
func submitPending(t *testing.T, c *client.Client, argv ...string) *action.Envelope {
	t.Helper()
	target, _ := json.Marshal(map[string]any{"argv": argv})
	env, err := c.Submit(context.Background(), action.Draft{Action: "shell.run", Target: target}, true)
	if err != nil || env.Execution.State != action.ApprovalPending {
		t.Fatalf("submit %v: %v %+v", argv, err, env)
	}
	return env
}

// `noema serve` as a real process: it is ready quickly and says so on
// stderr and to systemd (sd_notify), stays small when idle, and on SIGTERM
// finishes the action in flight, answers its request, records its stop,
// tells systemd it is stopping, removes its socket and exits 0.
func TestServeProcessReadyIdleAndDrain(t *testing.T) {
	e := newTestEnv(t)
	notifyPath := filepath.Join(e.dir, "notify.sock")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	notes := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				close(notes)
				return
			}
			notes <- string(buf[:n])
		}
	}()
	// Baseline: the bare start of the same binary.
	bin := noemaBinary(t)
	t0 := time.Now()
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
		t.Fatalf("noema version: %v %s", err, out)
	}
	bare := time.Since(t0)
	p := startProc(t, e, "NOTIFY_SOCKET="+notifyPath)
	t.Logf("noema serve ready %v after exec (first start: makes keys and databases); noema version %v; ratio %.1f", p.took, bare, float64(p.took)/float64(bare))
	if p.took > 2*time.Second {
		t.Errorf("ready after %v; the bar is 300 ms", p.took)
	}
	select {
	case n := <-notes:
		if !strings.Contains(n, "READY=1") {
			t.Fatalf("sd_notify: %q", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no READY=1 on NOTIFY_SOCKET")
	}

	ctx := context.Background()
	sock := client.Unix(e.socket(), "")
	defer sock.Close()
	hc := client.HTTP(p.http, e.token(t), nil)
	submitWrite(t, &testDaemon{sock: sock}, filepath.Join(e.work(), "idle.txt"))
	if _, err := hc.Log(ctx, client.LogQuery{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	rss := rssKB(t, p.cmd.Process.Pid)
	t.Logf("idle RSS %d KiB", rss)
	if rss > 50<<10 {
		t.Errorf("idle RSS %d KiB, over 50 MiB", rss)
	}

	// An action in flight when SIGTERM comes runs to its end.
	env := submitPending(t, sock, "sleep", "1")
	type result struct {
		env *action.Envelope
		err error
	}
	res := make(chan result, 1)
	go func() {
		done, err := hc.Approve(ctx, env.Identity.ActionID, env.RequestHash, true)
		res <- result{done, err}
	}()
	waitState(t, sock, env.Identity.ActionID, action.Executing)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || r.env.Execution.State != action.Succeeded {
		t.Fatalf("request in flight at SIGTERM: %v %+v", r.err, r.env)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	var rest []string
	for l := range p.lines {
		rest = append(rest, l)
	}
	if !strings.Contains(strings.Join(rest, "\n"), "noema: stopped") {
		t.Errorf("stderr after readiness: %q", rest)
	}
	stopping := false
	for n := range drain(notes) {
		stopping = stopping || strings.Contains(n, "STOPPING=1")
	}
	if !stopping {
		t.Error("no STOPPING=1 on NOTIFY_SOCKET")
	}
	if _, err := os.Stat(e.socket()); err == nil {
		t.Error("socket left behind")
	}
	cmd := exec.Command(noemaBinary(t), "log", "list", "--json", "--type", "server.*")
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "server.stopped") {
		t.Fatalf("log list: %v %s", err, out)
	}
	verify := exec.Command(noemaBinary(t), "log", "verify")
	verify.Env = e.environ()
	if out, err := verify.CombinedOutput(); err != nil {
		t.Fatalf("log verify: %v %s", err, out)
	}
}

func drain(ch chan string) chan string {
	out := make(chan string, 16)
	go func() {
		defer close(out)
		for {
			select {
			case n, ok := <-ch:
				if !ok {
					return
				}
				out <- n
			case <-time.After(200 * time.Millisecond):
				return
			}
		}
	}()
	return out
}

// A daemon killed in the middle of an action: the next start marks the
// action FAILED with crash_recovered (its effect is unproven), records
// that, and the evidence chain still verifies.
func TestServeProcessCrashRecovery(t *testing.T) {
	e := newTestEnv(t)
	p := startProc(t, e)
	sock := client.Unix(e.socket(), "")
	env := submitPending(t, sock, "sleep", "3")
	go sock.Approve(context.Background(), env.Identity.ActionID, env.RequestHash, true)
	waitState(t, sock, env.Identity.ActionID, action.Executing)
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t)
	sock.Close()

	again := startProc(t, e)
	t.Logf("restart after the crash ready %v after exec", again.took)
	sock = client.Unix(e.socket(), "")
	defer sock.Close()
	got, err := sock.Get(context.Background(), env.Identity.ActionID)
	if err != nil {
		t.Fatal(err)
	}
	x := got.Execution
	if x.State != action.Failed || !x.CrashRecovered || x.Error == nil || x.Error.Code != "crash_recovered" {
		t.Fatalf("after the crash: %s crash_recovered=%v %+v", x.State, x.CrashRecovered, x.Error)
	}
	recs, err := sock.Log(context.Background(), client.LogQuery{ActionID: env.Identity.ActionID, Type: "action.crash_recovered"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("crash_recovered records: %v %v", recs, err)
	}
	rep, err := sock.Verify(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("verify after the crash: %v %+v", err, rep)
	}
}
