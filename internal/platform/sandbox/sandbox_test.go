//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a small program to run inside
// the sandbox, for behaviour no standard tool exhibits.
const helperEnv = "NOEMA_SANDBOX_TEST_HELPER"

func TestMain(m *testing.M) {
	MaybeRunChild()
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h))
	}
	os.Exit(m.Run())
}

func runHelper(h string) int {
	action, arg, _ := strings.Cut(h, ":")
	switch action {
	case "exit":
		n, _ := strconv.Atoi(arg)
		return n
	case "spawn-sleeper":
		// The grandchild inherits stdout, so Run can only finish
		// early if the grandchild is killed too.
		cmd := exec.Command("sleep", "30")
		cmd.Stdout = os.Stdout
		if err := cmd.Start(); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println(cmd.Process.Pid)
		time.Sleep(30 * time.Second)
		return 0
	case "syscalls":
		for _, p := range syscallProbes(arg) {
			fmt.Printf("%s=%s\n", p.name, errnoName(p.call()))
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper action", h)
	return 2
}

type probe struct {
	name string
	want string // result expected inside the sandbox
	call func() error
}

// syscallProbes returns calls that the seccomp filter must reject.
// Each is harmless when it is not rejected (bogus arguments, or an
// effect confined to dir), so the same probes can run unsandboxed as a
// control that shows the sandboxed result is the filter's doing.
func syscallProbes(dir string) []probe {
	raw := func(nr uintptr, args ...uintptr) func() error {
		return func() error {
			var a [6]uintptr
			copy(a[:], args)
			_, _, e := unix.RawSyscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
			if e != 0 {
				return e
			}
			return nil
		}
	}
	return []probe{
		{"mount", "EPERM", func() error {
			return unix.Mount("none", "/nonexistent-noema-sandbox", "tmpfs", 0, "")
		}},
		{"unshare", "EPERM", func() error { return unix.Unshare(unix.CLONE_NEWUSER) }},
		{"setns", "EPERM", raw(unix.SYS_SETNS, ^uintptr(0), 0)},
		{"ptrace", "EPERM", raw(unix.SYS_PTRACE, 0x7fff, 0, 0, 0)},
		{"bpf", "EPERM", raw(unix.SYS_BPF, 0xffff, 0, 0)},
		{"keyctl", "EPERM", raw(unix.SYS_KEYCTL, 0xffff, 0, 0, 0, 0)},
		{"perf_event_open", "EPERM", raw(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0)},
		{"setuid", "EPERM", raw(unix.SYS_SETUID, uintptr(os.Getuid()))},
		{"clone3", "ENOSYS", raw(unix.SYS_CLONE3, 0, 0)},
		{"clone-newuser", "EPERM", func() error {
			cmd := exec.Command("true")
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}
			return cmd.Run()
		}},
		{"mknod-chr", "EPERM", func() error {
			p := filepath.Join(dir, "null")
			defer os.Remove(p)
			return unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3)))
		}},
		// Not a denial: FIFOs must still work, so the mknod filter
		// does not catch too much.
		{"mkfifo", "OK", func() error {
			p := filepath.Join(dir, "fifo")
			defer os.Remove(p)
			return unix.Mkfifo(p, 0o600)
		}},
	}
}

func errnoName(err error) string {
	if err == nil {
		return "OK"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
	}
	return "error(" + err.Error() + ")"
}

// run is Run with the common test defaults: a writable temp dir as
// working directory and a generous timeout.
func run(t *testing.T, spec Spec) Result {
	t.Helper()
	res, err := runErr(t, spec)
	if err != nil {
		t.Fatalf("Run(%q): %v", spec.Argv, err)
	}
	return res
}

func runErr(t *testing.T, spec Spec) (Result, error) {
	t.Helper()
	if spec.Dir == "" {
		spec.Dir = t.TempDir()
		spec.Writable = append(spec.Writable, spec.Dir)
	}
	if spec.Timeout == 0 {
		spec.Timeout = 30 * time.Second
	}
	return Run(t.Context(), spec)
}

func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	return exe
}

// helperSpec runs the test binary itself as the sandboxed program.
func helperSpec(t *testing.T, action string) Spec {
	exe := testBinary(t)
	return Spec{
		Argv:     []string{exe},
		Env:      append(DefaultEnv(), helperEnv+"="+action),
		Readable: []string{exe},
	}
}

func requireLandlock(t *testing.T) int {
	t.Helper()
	abi, err := landlockABI()
	if err != nil || abi < 1 {
		t.Skipf("Landlock unavailable on this kernel (%v); cannot check enforcement", landlockUnavailable(err))
	}
	return abi
}

func TestEcho(t *testing.T) {
	t.Parallel()
	res := run(t, Spec{Argv: []string{"echo", "hello", "sandbox world"}})
	if got, want := string(res.Stdout), "hello sandbox world\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if res.ExitCode != 0 || res.Signal != "" || res.TimedOut {
		t.Errorf("exit = %d signal = %q timedOut = %v, want clean exit", res.ExitCode, res.Signal, res.TimedOut)
	}
	if len(res.Stderr) != 0 {
		t.Errorf("stderr = %q, want empty", res.Stderr)
	}
	if !res.Seccomp {
		t.Errorf("Seccomp = false, want true")
	}
	t.Logf("landlock: %s, seccomp: %v, duration: %v", res.Landlock, res.Seccomp, res.Duration)
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	if res := run(t, Spec{Argv: []string{"false"}}); res.ExitCode != 1 {
		t.Errorf("false: exit = %d, want 1", res.ExitCode)
	}
	if res := run(t, helperSpec(t, "exit:42")); res.ExitCode != 42 {
		t.Errorf("helper: exit = %d, want 42 (stderr %q)", res.ExitCode, res.Stderr)
	}
}

func TestStdinIsEmpty(t *testing.T) {
	t.Parallel()
	res := run(t, Spec{Argv: []string{"cat"}, Timeout: 5 * time.Second})
	if res.TimedOut || res.ExitCode != 0 || len(res.Stdout) != 0 {
		t.Errorf("cat with no input: exit = %d timedOut = %v stdout = %q; want immediate EOF", res.ExitCode, res.TimedOut, res.Stdout)
	}
}

func TestTimeoutKillsProgram(t *testing.T) {
	t.Parallel()
	res := run(t, Spec{Argv: []string{"sleep", "30"}, Timeout: 300 * time.Millisecond})
	if !res.TimedOut {
		t.Errorf("TimedOut = false, want true")
	}
	if res.Signal != "SIGKILL" || res.ExitCode != -1 {
		t.Errorf("signal = %q exit = %d, want SIGKILL and -1", res.Signal, res.ExitCode)
	}
	if res.Duration > 1500*time.Millisecond {
		t.Errorf("took %v after a 300ms timeout", res.Duration)
	}
}

func TestContextDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	dir := t.TempDir()
	res, err := Run(ctx, Spec{Argv: []string{"sleep", "30"}, Dir: dir})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.TimedOut {
		t.Errorf("TimedOut = false after context deadline")
	}
}

func TestCancelIsError(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	res, err := Run(ctx, Spec{Argv: []string{"sleep", "30"}, Dir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if res.TimedOut || res.Signal != "SIGKILL" {
		t.Errorf("TimedOut = %v signal = %q, want false and SIGKILL", res.TimedOut, res.Signal)
	}
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	spec := helperSpec(t, "spawn-sleeper")
	spec.Timeout = 2 * time.Second
	res := run(t, spec)
	if !res.TimedOut {
		t.Fatalf("TimedOut = false; stdout %q stderr %q", res.Stdout, res.Stderr)
	}
	if res.Duration > 3*time.Second {
		t.Errorf("took %v after a 2s timeout; the grandchild kept the pipe open?", res.Duration)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(res.Stdout)))
	if err != nil {
		t.Fatalf("helper did not print the grandchild pid: stdout %q stderr %q", res.Stdout, res.Stderr)
	}
	deadline := time.Now().Add(2 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still running after the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processAlive reports whether pid exists and is not a zombie (an
// orphan may wait a while for its new parent to reap it).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}

func TestOutputCap(t *testing.T) {
	t.Parallel()
	t.Run("yes", func(t *testing.T) {
		t.Parallel()
		// yes never stops on its own; the cap must hold while it is
		// drained, and the timeout ends it.
		res := run(t, Spec{Argv: []string{"yes"}, MaxOutput: 1000, Timeout: 2 * time.Second})
		if len(res.Stdout) != 1000 || !res.StdoutTruncated {
			t.Fatalf("stdout len = %d truncated = %v, want 1000 and true", len(res.Stdout), res.StdoutTruncated)
		}
		if want := strings.Repeat("y\n", 500); string(res.Stdout) != want {
			t.Errorf("stdout is not the first 1000 bytes of yes output")
		}
		if res.StderrTruncated {
			t.Errorf("stderr reported truncated")
		}
	})
	t.Run("finite", func(t *testing.T) {
		t.Parallel()
		// Output beyond the cap is drained, so a program that
		// writes a lot still finishes normally.
		res := run(t, Spec{Argv: []string{"head", "-c", "5000000", "/dev/zero"}, MaxOutput: 4096})
		if len(res.Stdout) != 4096 || !res.StdoutTruncated {
			t.Errorf("stdout len = %d truncated = %v, want 4096 and true", len(res.Stdout), res.StdoutTruncated)
		}
		if res.ExitCode != 0 || res.TimedOut {
			t.Errorf("exit = %d timedOut = %v, want 0 and false", res.ExitCode, res.TimedOut)
		}
	})
	t.Run("under cap", func(t *testing.T) {
		t.Parallel()
		res := run(t, Spec{Argv: []string{"echo", "short"}, MaxOutput: 6})
		if string(res.Stdout) != "short\n" || res.StdoutTruncated {
			t.Errorf("stdout = %q truncated = %v, want exact fit", res.Stdout, res.StdoutTruncated)
		}
	})
}

func TestWorkingDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := run(t, Spec{Argv: []string{"pwd", "-P"}, Dir: dir})
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != want {
		t.Errorf("pwd = %q, want %q", got, want)
	}

	// A relative argv[0] with a slash is relative to Dir.
	res = run(t, Spec{Argv: []string{"./echo", "rel"}, Dir: "/usr/bin"})
	if string(res.Stdout) != "rel\n" {
		t.Errorf("./echo in /usr/bin: stdout = %q, stderr %q", res.Stdout, res.Stderr)
	}
}

func TestDefaultEnvIsMinimal(t *testing.T) {
	t.Setenv("NOEMA_SANDBOX_LEAK_PROBE", "secret")
	res := run(t, Spec{Argv: []string{"env"}})
	out := string(res.Stdout)
	if strings.Contains(out, "NOEMA_SANDBOX_LEAK_PROBE") || strings.Contains(out, childEnvKey) {
		t.Errorf("parent environment leaked into the sandbox:\n%s", out)
	}
	for _, want := range []string{"PATH=", "LANG=", "TERM=dumb"} {
		if !strings.Contains(out, want) {
			t.Errorf("environment lacks %s:\n%s", want, out)
		}
	}
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n > 4 {
		t.Errorf("environment has %d entries, want at most 4:\n%s", n, out)
	}
}

func TestExplicitEnv(t *testing.T) {
	t.Parallel()
	res := run(t, Spec{Argv: []string{"/usr/bin/env"}, Env: []string{"A=1", "B=x", "A=2"}})
	if got, want := string(res.Stdout), "A=2\nB=x\n"; got != want {
		t.Errorf("env output = %q, want %q", got, want)
	}
	// argv[0] is resolved against the program's PATH, not the caller's.
	_, err := runErr(t, Spec{Argv: []string{"env"}, Env: []string{"PATH=/nonexistent"}})
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Run with PATH=/nonexistent: err = %v, want exec.ErrNotFound", err)
	}
}

func TestResourceLimits(t *testing.T) {
	t.Parallel()
	res := run(t, Spec{Argv: []string{"cat", "/proc/self/limits"}, MaxFileSize: 8192})
	out := string(res.Stdout)
	for _, want := range []string{
		`Max file size\s+8192\s+8192`,
		`Max core file size\s+0\s+0`,
	} {
		if !regexpMatch(want, out) {
			t.Errorf("limits lack %q:\n%s (stderr %q)", want, out, res.Stderr)
		}
	}

	dir := t.TempDir()
	res = run(t, Spec{
		Argv:        []string{"dd", "if=/dev/zero", "of=" + filepath.Join(dir, "big"), "bs=4096", "count=10"},
		Dir:         dir,
		Writable:    []string{dir},
		MaxFileSize: 8192,
	})
	if res.Signal != "SIGXFSZ" {
		t.Errorf("dd past RLIMIT_FSIZE: exit = %d signal = %q stderr %q, want SIGXFSZ", res.ExitCode, res.Signal, res.Stderr)
	}
}

func TestSeccompBlocksDangerousSyscalls(t *testing.T) {
	t.Parallel()
	t.Run("unshare tool", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("unshare(1) not installed")
		}
		res := run(t, Spec{Argv: []string{"unshare", "-U", "true"}})
		if res.ExitCode == 0 {
			t.Fatalf("unshare -U succeeded inside the sandbox")
		}
		if !bytes.Contains(res.Stderr, []byte("Operation not permitted")) {
			t.Errorf("unshare stderr = %q, want EPERM", res.Stderr)
		}
	})

	t.Run("probes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		spec := helperSpec(t, "syscalls:"+dir)
		spec.Dir, spec.Writable = dir, []string{dir}
		res := run(t, spec)
		got := parseProbeOutput(string(res.Stdout))

		// The same probes outside the sandbox must give a different
		// answer, or they prove nothing about the filter.
		ctl := exec.CommandContext(t.Context(), testBinary(t))
		ctl.Env = append(DefaultEnv(), helperEnv+"=syscalls:"+dir)
		ctlOut, err := ctl.Output()
		if err != nil {
			t.Fatalf("control run: %v", err)
		}
		control := parseProbeOutput(string(ctlOut))

		for _, p := range syscallProbes(dir) {
			if got[p.name] != p.want {
				t.Errorf("%s in sandbox = %q, want %s (control %q)", p.name, got[p.name], p.want, control[p.name])
				continue
			}
			if p.want != "OK" && control[p.name] == p.want {
				if os.Geteuid() == 0 {
					t.Errorf("%s outside the sandbox also gives %s; probe does not discriminate", p.name, p.want)
				} else {
					t.Logf("%s gives %s without the sandbox too (not root)", p.name, p.want)
				}
			}
			t.Logf("%-16s sandbox=%-7s control=%s", p.name, got[p.name], control[p.name])
		}
	})
}

func parseProbeOutput(s string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestLandlock(t *testing.T) {
	abi := requireLandlock(t)
	t.Parallel()
	work := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("reports ABI", func(t *testing.T) {
		res := run(t, Spec{Argv: []string{"true"}})
		if want := fmt.Sprintf("v%d", min(abi, maxLandlockABI)); res.Landlock != want {
			t.Errorf("Landlock = %q, want %q", res.Landlock, want)
		}
	})
	t.Run("write inside allowed", func(t *testing.T) {
		res := run(t, Spec{Argv: []string{"touch", "ok"}, Dir: work, Writable: []string{work}})
		if res.ExitCode != 0 {
			t.Fatalf("touch in writable dir: exit %d, stderr %q", res.ExitCode, res.Stderr)
		}
		if _, err := os.Stat(filepath.Join(work, "ok")); err != nil {
			t.Errorf("file not created: %v", err)
		}
	})
	t.Run("rename inside allowed", func(t *testing.T) {
		sub := filepath.Join(work, "sub")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "mv-src"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		res := run(t, Spec{Argv: []string{"mv", "mv-src", "sub/mv-dst"}, Dir: work, Writable: []string{work}})
		if res.ExitCode != 0 {
			t.Errorf("rename across directories in a writable tree: exit %d, stderr %q", res.ExitCode, res.Stderr)
		}
	})
	t.Run("write outside denied", func(t *testing.T) {
		target := filepath.Join(outside, "escaped")
		res := run(t, Spec{Argv: []string{"touch", target}, Dir: work, Writable: []string{work}})
		if res.ExitCode == 0 {
			t.Errorf("touch outside the writable list succeeded")
		}
		if !bytes.Contains(res.Stderr, []byte("Permission denied")) {
			t.Errorf("stderr = %q, want Permission denied", res.Stderr)
		}
		if _, err := os.Stat(target); err == nil {
			t.Errorf("%s was created", target)
		}
	})
	t.Run("write to readable denied", func(t *testing.T) {
		res := run(t, Spec{Argv: []string{"touch", filepath.Join(outside, "ro")}, Dir: work, Readable: []string{outside}})
		if res.ExitCode == 0 {
			t.Errorf("touch in a read-only path succeeded")
		}
	})
	t.Run("read outside denied", func(t *testing.T) {
		res := run(t, Spec{Argv: []string{"cat", secret}, Dir: work})
		if res.ExitCode == 0 || bytes.Contains(res.Stdout, []byte("s3cret")) {
			t.Errorf("read outside the sandbox: exit %d stdout %q", res.ExitCode, res.Stdout)
		}
		res = run(t, Spec{Argv: []string{"cat", secret}, Dir: work, Readable: []string{secret}})
		if string(res.Stdout) != "s3cret" {
			t.Errorf("read of a Readable file: exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
		}
	})
	t.Run("exec outside denied", func(t *testing.T) {
		spec := helperSpec(t, "exit:0")
		spec.Readable = nil
		_, err := runErr(t, spec)
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("exec of a binary outside the readable paths: err = %v, want permission error", err)
		}
	})
}

func TestValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		spec Spec
		want error
	}{
		{"empty argv", Spec{Dir: dir}, ErrInvalidSpec},
		{"empty argv0", Spec{Argv: []string{""}, Dir: dir}, ErrInvalidSpec},
		{"nul in arg", Spec{Argv: []string{"echo", "a\x00b"}, Dir: dir}, ErrInvalidSpec},
		{"missing dir", Spec{Argv: []string{"true"}}, ErrInvalidSpec},
		{"relative dir", Spec{Argv: []string{"true"}, Dir: "tmp"}, ErrInvalidSpec},
		{"dir is a file", Spec{Argv: []string{"true"}, Dir: file}, ErrInvalidSpec},
		{"nonexistent dir", Spec{Argv: []string{"true"}, Dir: filepath.Join(dir, "nope")}, ErrInvalidSpec},
		{"bad env", Spec{Argv: []string{"true"}, Dir: dir, Env: []string{"NOEQUALS"}}, ErrInvalidSpec},
		{"empty env key", Spec{Argv: []string{"true"}, Dir: dir, Env: []string{"=x"}}, ErrInvalidSpec},
		{"reserved env", Spec{Argv: []string{"true"}, Dir: dir, Env: []string{childEnvKey + "=1"}}, ErrInvalidSpec},
		{"negative timeout", Spec{Argv: []string{"true"}, Dir: dir, Timeout: -1}, ErrInvalidSpec},
		{"negative output", Spec{Argv: []string{"true"}, Dir: dir, MaxOutput: -1}, ErrInvalidSpec},
		{"negative fsize", Spec{Argv: []string{"true"}, Dir: dir, MaxFileSize: -1}, ErrInvalidSpec},
		{"relative writable", Spec{Argv: []string{"true"}, Dir: dir, Writable: []string{"x"}}, ErrInvalidSpec},
		{"missing readable", Spec{Argv: []string{"true"}, Dir: dir, Readable: []string{"/nonexistent/x"}}, ErrInvalidSpec},
		{"unknown program", Spec{Argv: []string{"noema-no-such-program"}, Dir: dir}, exec.ErrNotFound},
		{"missing program path", Spec{Argv: []string{"/nonexistent/prog"}, Dir: dir}, exec.ErrNotFound},
		{"not executable", Spec{Argv: []string{file}, Dir: dir}, fs.ErrPermission},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(t.Context(), tc.spec)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if res.Landlock != "" || res.Stdout != nil {
				t.Errorf("result %+v for an invalid spec, want zero", res)
			}
		})
	}
}

func TestRunInsideChildRefused(t *testing.T) {
	// Simulates a binary that forgot MaybeRunChild: its copy must
	// not start children of its own.
	t.Setenv(childEnvKey, childEnvValue)
	if _, err := Run(t.Context(), Spec{Argv: []string{"true"}, Dir: t.TempDir()}); err == nil ||
		!strings.Contains(err.Error(), "MaybeRunChild") {
		t.Errorf("Run in a child: err = %v, want refusal", err)
	}
}

func TestSeccompPolicyAssembles(t *testing.T) {
	t.Parallel()
	// Policy.Assemble targets the running architecture.
	info := nativeArch(t)
	pol := seccompPolicy(info)
	if _, err := pol.Assemble(); err != nil {
		t.Fatalf("assembling the seccomp policy: %v", err)
	}
	denied := map[string]bool{}
	for _, n := range pol.Syscalls[0].Names {
		denied[n] = true
	}
	for _, n := range []string{"mount", "umount2", "ptrace", "unshare", "setns", "bpf", "kexec_load", "init_module", "reboot", "keyctl", "setuid"} {
		if !denied[n] {
			t.Errorf("%s is not denied on %s", n, info.Name)
		}
	}
}

func nativeArch(t *testing.T) *arch.Info {
	t.Helper()
	info, err := arch.GetInfo("")
	if err != nil {
		t.Skipf("go-seccomp-bpf does not support this architecture: %v", err)
	}
	return info
}

func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}

// i386Probe makes i386 system calls through int 0x80 from a 64-bit
// process, which the kernel reports to seccomp with the i386 audit
// arch and i386 syscall numbers.
const i386Probe = `#include <stdio.h>
int main(void) {
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); /* getpid */
	printf("getpid=%ld\n", r);
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(310L), "b"(0x10000000L) : "memory"); /* unshare(CLONE_NEWUSER) */
	printf("unshare=%ld\n", r);
	return 0;
}
`

func TestSeccompForeignABIBlocked(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" {
		t.Skip("the i386 ABI probe is specific to x86-64")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler to build the int 0x80 probe")
	}
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "probe.c"), filepath.Join(dir, "probe")
	if err := os.WriteFile(src, []byte(i386Probe), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), cc, "-O0", "-o", bin, src).CombinedOutput(); err != nil {
		t.Skipf("building the int 0x80 probe: %v\n%s", err, out)
	}
	// Outside the sandbox; a kernel without IA32 emulation fails
	// these with ENOSYS anyway, and then there is nothing to test.
	out, err := exec.CommandContext(t.Context(), bin).Output()
	if err != nil || !bytes.Contains(out, []byte("unshare=0")) {
		t.Skipf("i386 syscalls unavailable here (err %v, output %q)", err, out)
	}

	res := run(t, Spec{Argv: []string{bin}, Readable: []string{bin}})
	enosys := fmt.Sprintf("=%d\n", -int(unix.ENOSYS))
	if got := string(res.Stdout); strings.Count(got, enosys) != 2 {
		t.Errorf("i386 syscalls inside the sandbox:\n%s\nwant both to fail with ENOSYS (stderr %q)", got, res.Stderr)
	}
}

func TestArgumentsAreBytes(t *testing.T) {
	t.Parallel()
	// Not valid UTF-8, as file names on Linux may be; it must reach
	// the program unchanged.
	arg := "caf\xe9 \xff\xfe"
	res := run(t, Spec{Argv: []string{"echo", arg}, Env: []string{"PATH=/usr/bin:/bin", "X=\xff"}})
	if got, want := string(res.Stdout), arg+"\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestNoInheritedDescriptors(t *testing.T) {
	// A descriptor without close-on-exec, as a caller may inherit
	// from its own parent. Not parallel: every child started while it
	// is open inherits it.
	fd, err := unix.Dup(int(os.Stderr.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	res := run(t, Spec{Argv: []string{"ls", "/proc/self/fd"}})
	// ls itself holds one descriptor for the directory it lists.
	if got := strings.Fields(string(res.Stdout)); !reflect.DeepEqual(got, []string{"0", "1", "2", "3"}) {
		t.Errorf("descriptors open in the program: %q, want only stdio and ls's own (leaked fd was %d); stderr %q", got, fd, res.Stderr)
	}
}

func TestNoNewPrivsAndSeccompActive(t *testing.T) {
	t.Parallel()
	res := run(t, Spec{Argv: []string{"cat", "/proc/self/status"}})
	out := string(res.Stdout)
	for _, want := range []string{`NoNewPrivs:\s+1`, `Seccomp:\s+2`, `Seccomp_filters:\s+2`} {
		if !regexpMatch(want, out) {
			t.Errorf("/proc/self/status lacks %s:\n%s", want, out)
		}
	}
}
