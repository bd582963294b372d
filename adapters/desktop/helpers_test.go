package desktop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dbusmocktest"
	"github.com/noema-project/noema/internal/platform/dconf"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// System services in these tests are python-dbusmock templates (the way
// GNOME projects test their D-Bus clients) on private dbus-daemons; the
// sound server is a real PulseAudio with a null sink; settings go through
// a real dconf-service on a private session bus.

// startMock runs a dbusmock template on bus (as both its system and
// session bus) and waits until it owns name.
func startMock(t *testing.T, bus *dconftest.Bus, name, template string, params map[string]any) {
	t.Helper()
	dbusmocktest.Start(t, bus, bus.Conn(t), template, name, params)
}

type mockCall = dbusmocktest.Call

func mockCalls(t *testing.T, conn *dbus.Conn, name string, path dbus.ObjectPath) []mockCall {
	t.Helper()
	return dbusmocktest.Calls(t, conn, name, path)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newModule returns a desktop module closed when the test ends.
func newModule(t *testing.T, opts desktop.Options) *desktop.Module {
	t.Helper()
	m := desktop.New(opts)
	t.Cleanup(func() { m.Close() })
	return m
}

// settingsOptions point the module's settings at bus.
func settingsOptions(bus *dconftest.Bus) dconf.Options {
	return dconf.Options{ConfigHome: bus.ConfigHome, DataDirs: bus.DataDirs(), BusAddress: bus.Address}
}

// requireFailed checks that env FAILED with an error mentioning want.
func requireFailed(t *testing.T, env *action.Envelope, want string) {
	t.Helper()
	pipelinetest.RequireState(t, env, action.Failed)
	if env.Execution.Error == nil {
		t.Fatalf("FAILED without an error")
	}
	t.Logf("error: %s", env.Execution.Error.Message)
	if !strings.Contains(env.Execution.Error.Message, want) {
		t.Fatalf("error %q does not mention %q", env.Execution.Error.Message, want)
	}
}

// result decodes an envelope's result.
func result(t *testing.T, env *action.Envelope) map[string]any {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(env.Execution.Result, &r); err != nil {
		t.Fatalf("result %s: %v", env.Execution.Result, err)
	}
	return r
}

// pulse is a private PulseAudio daemon with one null sink.
type pulse struct {
	Server string // PULSE_SERVER value
	Env    []string
	Sink   string
}

// startPulse runs a real PulseAudio daemon, as the user running the tests
// (root in CI), with its own runtime and config directories and a null
// sink, reachable only through its own socket.
func startPulse(t *testing.T) *pulse {
	t.Helper()
	daemon, err := exec.LookPath("pulseaudio")
	if err != nil {
		t.Skip("pulseaudio is not installed (Debian package pulseaudio); skipping test that needs a sound server")
	}
	if _, err := exec.LookPath("pactl"); err != nil {
		t.Skip("pactl is not installed (Debian package pulseaudio-utils); skipping")
	}
	// A short path keeps the socket name under the Unix limit.
	dir, err := os.MkdirTemp("", "noema-pa-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"run", "config", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "run", "native")
	env := []string{
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"PULSE_RUNTIME_PATH=" + filepath.Join(dir, "run", "pulse"),
		"PULSE_STATE_PATH=" + filepath.Join(dir, "state"),
		"PULSE_SERVER=unix:" + sock,
	}
	p := &pulse{Server: "unix:" + sock, Env: env, Sink: "noema_test"}
	cmd := exec.Command(daemon,
		"--daemonize=no", "--system=false", "--exit-idle-time=-1", "--use-pid-file=no",
		"--disable-shm=yes", "-n", "--log-target=stderr",
		"--load=module-null-sink sink_name="+p.Sink+" channels=2",
		"--load=module-native-protocol-unix auth-anonymous=1 socket="+sock,
	)
	cmd.Env = append(withoutBus(os.Environ()), env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.pactl("info"); err == nil {
			return p
		}
		select {
		case <-exited:
			t.Fatalf("pulseaudio exited:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio did not answer within 20s:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// withoutBus drops the session bus, so the daemon does not register on
// the developer's desktop.
func withoutBus(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			out = append(out, kv)
		}
	}
	return out
}

func (p *pulse) pactl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pactl", args...)
	cmd.Env = append(os.Environ(), append(p.Env, "LC_ALL=C")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New(err.Error() + ": " + stderr.String())
	}
	return string(out), nil
}

func (p *pulse) mustPactl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.pactl(args...)
	if err != nil {
		t.Fatalf("pactl %v: %v", args, err)
	}
	return out
}

// validate checks a target against the action's schema in the catalog.
func validate(t *testing.T, p *pipelinetest.Pipeline, name, target string) error {
	t.Helper()
	e, ok := p.Registry.Catalog().Lookup(name)
	if !ok {
		t.Fatalf("%s is not in the catalog", name)
	}
	return e.ValidateTarget(json.RawMessage(target))
}

// requirePreview checks the change shown before approval.
func requirePreview(t *testing.T, env *action.Envelope, old, new string) {
	t.Helper()
	for _, c := range env.Execution.Conditions {
		if strings.HasPrefix(c, "preview_unavailable") {
			t.Fatalf("%s: %s", env.Request.Action, c)
		}
	}
	// The adapter's own change; the runtime adds an "undo" line to actions
	// that cannot be undone, checked where that matters.
	var own []action.Change
	for _, c := range env.Execution.Preview {
		if c.Subject != "undo" {
			own = append(own, c)
		}
	}
	if len(own) != 1 {
		t.Fatalf("%s: preview %+v", env.Request.Action, env.Execution.Preview)
	}
	if c := own[0]; c.Old != old || !strings.Contains(c.New, new) {
		t.Fatalf("%s: preview %q → %q, want %q → …%q…", env.Request.Action, c.Old, c.New, old, new)
	}
}
