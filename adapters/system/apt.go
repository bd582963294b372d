package system

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// aptOptions make apt-get safe to run without a terminal: wait for a
// dpkg lock held by another apt instead of failing at once, and keep the
// local version of changed configuration files instead of asking.
var aptOptions = []string{
	"-y", "-q",
	"-o", "DPkg::Lock::Timeout=60",
	"-o", "Dpkg::Options::=--force-confdef",
	"-o", "Dpkg::Options::=--force-confold",
}

// aptEnv keeps debconf, apt-listchanges and needrestart from prompting.
var aptEnv = []string{
	"DEBIAN_FRONTEND=noninteractive", "APT_LISTCHANGES_FRONTEND=none", "NEEDRESTART_MODE=l",
}

// aptOutputCap is how much of apt-get's output is kept (its end, where
// errors are).
const aptOutputCap = 64 << 10

// runApt runs apt-get VERB NAMES... with argv, never through a shell. The
// names have been checked against Debian's package name rules, so none
// can be taken for an option.
func (m *Module) runApt(ctx context.Context, simulate bool, verb string, names ...string) ([]byte, error) {
	for _, n := range names {
		if err := checkPackageName(n); err != nil {
			return nil, err
		}
	}
	argv := slices.Clone(m.opts.AptGet)
	argv = append(argv, aptOptions...)
	if simulate {
		argv = append(argv, "-s")
	}
	argv = append(argv, verb)
	argv = append(argv, names...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), aptEnv...), m.opts.AptEnv...)
	cmd.Stdin = nil
	out := &tailBuffer{max: aptOutputCap}
	cmd.Stdout, cmd.Stderr = out, out
	// Interrupting dpkg half way leaves packages half installed: ask
	// apt-get to stop and give it time to finish the package in hand.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	err := cmd.Run()
	b := out.Bytes()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return b, fmt.Errorf("%s %s %s failed (exit %d): %s", argv[0], verb, strings.Join(names, " "), ee.ExitCode(), aptErrors(b))
		}
		return b, fmt.Errorf("%s %s %s: %w", argv[0], verb, strings.Join(names, " "), err)
	}
	return b, nil
}

// aptErrors picks apt's "E:" lines, or the last lines when there are
// none, for an error message.
func aptErrors(out []byte) string {
	var errs, all []string
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(make([]byte, 0, 4096), aptOutputCap)
	for s.Scan() {
		l := strings.TrimSpace(s.Text())
		if l == "" {
			continue
		}
		all = append(all, l)
		if strings.HasPrefix(l, "E:") {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 {
		errs = all[max(0, len(all)-3):]
	}
	if len(errs) == 0 {
		return "no output"
	}
	return strings.Join(errs, "; ")
}

// aptOp is one step of an apt-get simulation.
type aptOp struct {
	Op      string `json:"op"` // Inst, Remv, Purg
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// parseAptSimulation reads what "apt-get -s" would do: lines such as
// "Inst hello (2.10-3 Debian:12/stable [amd64])", "Inst libx [1.0] (1.1 ...)"
// for an upgrade, and "Remv hello [2.10-3]". "Conf" lines repeat Inst
// and are skipped.
func parseAptSimulation(out []byte) []aptOp {
	var ops []aptOp
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(make([]byte, 0, 4096), aptOutputCap)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 2 || (f[0] != "Inst" && f[0] != "Remv" && f[0] != "Purg") {
			continue
		}
		op := aptOp{Op: f[0], Name: f[1]}
		if checkPackageName(op.Name) != nil {
			continue
		}
		rest := f[2:]
		if len(rest) > 0 && strings.HasPrefix(rest[0], "[") && op.Op == "Inst" {
			rest = rest[1:] // the version being upgraded from
		}
		if len(rest) > 0 {
			v := strings.Trim(rest[0], "()[]")
			if v != "" {
				op.Version = v
			}
		}
		ops = append(ops, op)
	}
	return ops
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.dropped = true
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.buf)
}
