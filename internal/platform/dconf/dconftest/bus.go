// Package dconftest runs a private D-Bus session bus for tests, so that
// dconf-service, started on demand by bus activation, writes into a
// temporary directory instead of the real user's settings.
//
// Typical use from any package's tests:
//
//	bus := dconftest.StartSessionBus(t)
//	client := dconf.NewClient(bus.Conn(t), dconf.Options{
//		ConfigHome: bus.ConfigHome,
//		DataDirs:   bus.DataDirs(),
//	})
//	...
//	out := bus.Run(t, "gsettings", "get", "org.gnome.desktop.interface", "color-scheme")
//
// Everything is torn down by t.Cleanup.
package dconftest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Bus is a running private session bus and the directories its activated
// services see as the user's home, configuration and runtime directories.
type Bus struct {
	// Address is the bus address, for DBUS_SESSION_BUS_ADDRESS.
	Address string
	// Dir holds everything below; it is removed when the test ends.
	Dir string
	// Home, ConfigHome, DataHome, CacheHome and RuntimeDir are HOME,
	// XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_CACHE_HOME and XDG_RUNTIME_DIR
	// for the bus and everything it starts.
	Home, ConfigHome, DataHome, CacheHome, RuntimeDir string

	cmd      *exec.Cmd
	env      []string
	stderr   *syncBuffer
	stopOnce sync.Once
	exited   chan struct{}
}

// Config adjusts a bus started with Start.
type Config struct {
	// ServiceDirs are extra directories of D-Bus .service files for
	// activation, searched before the standard ones.
	ServiceDirs []string
	// Env holds extra KEY=value settings for the bus, the services it
	// activates and commands run with Command or Run.
	Env []string
}

// StartSessionBus starts a private session bus with the standard service
// directories, so that dconf-service and other installed session services
// can be activated. The test is skipped if dbus-daemon is not installed.
func StartSessionBus(t testing.TB) *Bus {
	t.Helper()
	return Start(t, Config{})
}

// Start is StartSessionBus with extra configuration.
func Start(t testing.TB, cfg Config) *Bus {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dconftest: dbus-daemon is not installed (Debian package dbus-daemon); skipping test that needs a private session bus")
	}
	// A short directory under the system temp dir keeps the socket path
	// below the 108-byte limit on Unix socket names, which t.TempDir
	// paths can exceed.
	dir, err := os.MkdirTemp("", "dconftest-")
	if err != nil {
		t.Fatalf("dconftest: %v", err)
	}
	b := &Bus{
		Dir:        dir,
		Home:       filepath.Join(dir, "home"),
		ConfigHome: filepath.Join(dir, "config"),
		DataHome:   filepath.Join(dir, "data"),
		CacheHome:  filepath.Join(dir, "cache"),
		RuntimeDir: filepath.Join(dir, "run"),
		stderr:     &syncBuffer{},
		exited:     make(chan struct{}),
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{b.Home, b.ConfigHome, b.DataHome, b.CacheHome, b.RuntimeDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("dconftest: %v", err)
		}
	}
	// Only the user database: keeps system databases configured on the
	// host out of what the dconf tools read.
	profile := filepath.Join(dir, "dconf-profile")
	if err := os.WriteFile(profile, []byte("user-db:user\n"), 0o600); err != nil {
		t.Fatalf("dconftest: %v", err)
	}
	socket := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig(socket, cfg.ServiceDirs)), 0o600); err != nil {
		t.Fatalf("dconftest: %v", err)
	}
	b.Address = "unix:path=" + socket
	b.env = mergeEnv(os.Environ(), append([]string{
		"HOME=" + b.Home,
		"XDG_CONFIG_HOME=" + b.ConfigHome,
		"XDG_DATA_HOME=" + b.DataHome,
		"XDG_CACHE_HOME=" + b.CacheHome,
		"XDG_RUNTIME_DIR=" + b.RuntimeDir,
		"DBUS_SESSION_BUS_ADDRESS=" + b.Address,
		"DCONF_PROFILE=" + profile,
		"GSETTINGS_BACKEND=dconf",
	}, cfg.Env...), "DBUS_STARTER_ADDRESS", "DBUS_STARTER_BUS_TYPE")

	b.cmd = exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	b.cmd.Env = b.env
	b.cmd.Dir = dir
	b.cmd.Stderr = b.stderr
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("dconftest: %v", err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("dconftest: start dbus-daemon: %v", err)
	}
	go func() {
		b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() { b.Stop(t) })

	// dbus-daemon prints its address once it is listening.
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		for s.Scan() {
		}
	}()
	select {
	case addr, ok := <-line:
		if !ok || addr == "" {
			t.Fatalf("dconftest: dbus-daemon exited without printing its address; stderr:\n%s", b.stderr)
		}
		// Prefer the printed address: it carries the bus GUID.
		b.Address = strings.TrimSpace(addr)
	case <-time.After(30 * time.Second):
		t.Fatalf("dconftest: dbus-daemon did not start within 30s; stderr:\n%s", b.stderr)
	}
	b.env = mergeEnv(b.env, []string{"DBUS_SESSION_BUS_ADDRESS=" + b.Address})
	return b
}

func busConfig(socket string, serviceDirs []string) string {
	var dirs strings.Builder
	for _, d := range serviceDirs {
		fmt.Fprintf(&dirs, "  <servicedir>%s</servicedir>\n", xmlEscape(d))
	}
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path=` + xmlEscape(socket) + `</listen>
  <auth>EXTERNAL</auth>
` + dirs.String() + `  <standard_session_servicedirs/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mergeEnv returns base with the variables in set replaced or added and
// the variables named in drop removed.
func mergeEnv(base, set []string, drop ...string) []string {
	override := map[string]bool{}
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		override[k] = true
	}
	for _, k := range drop {
		override[k] = true
	}
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !override[k] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// DatabasePath returns the user database file that dconf-service writes.
func (b *Bus) DatabasePath() string {
	return filepath.Join(b.ConfigHome, "dconf", "user")
}

// Env returns the environment for processes that should use this bus and
// its directories: the current environment with HOME, the XDG
// directories, DBUS_SESSION_BUS_ADDRESS, DCONF_PROFILE and
// GSETTINGS_BACKEND=dconf replaced.
func (b *Bus) Env() []string {
	return append([]string(nil), b.env...)
}

// DataDirs returns the XDG data directories that processes using Env
// search, in order of precedence: DataHome, then $XDG_DATA_DIRS (default
// /usr/local/share:/usr/share). Pass them to clients that look up schemas
// so that they see the same schemas as gsettings run with Env (unless
// GSETTINGS_SCHEMA_DIR is set, which gsettings searches first).
func (b *Bus) DataDirs() []string {
	dirs := []string{b.DataHome}
	sys := ""
	for _, kv := range b.env {
		if v, ok := strings.CutPrefix(kv, "XDG_DATA_DIRS="); ok {
			sys = v
		}
	}
	if sys == "" {
		sys = "/usr/local/share:/usr/share"
	}
	for _, d := range filepath.SplitList(sys) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// Conn connects to the bus. The connection is closed when the test ends.
func (b *Bus) Conn(t testing.TB) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(b.Address)
	if err != nil {
		t.Fatalf("dconftest: connect to %s: %v", b.Address, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Command returns a command that runs with Env.
func (b *Bus) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = b.Env()
	cmd.Dir = b.Home
	return cmd
}

// Run runs a command with Env and returns its standard output without the
// trailing newline. The test fails if the command fails, and is skipped if
// the program is not installed.
func (b *Bus) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("dconftest: %s is not installed", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := b.Command(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dconftest: %s %s: %v\nstderr:\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSuffix(string(out), "\n")
}

// Stderr returns what dbus-daemon has written to standard error, for
// diagnosing activation failures.
func (b *Bus) Stderr() string { return b.stderr.String() }

// Stop shuts the bus down and ends the services it started. It runs
// automatically when the test ends; calling it earlier lets a test check
// behaviour without a bus.
func (b *Bus) Stop(t testing.TB) {
	b.stopOnce.Do(func() {
		children := b.activatedPIDs()
		b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
			<-b.exited
		}
		// Activated services notice the bus going away and exit on their
		// own; give them a moment, then end any that remain.
		deadline := time.Now().Add(5 * time.Second)
		for _, pid := range children {
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				t.Logf("dconftest: activated service (pid %d) still running after bus exit; terminating it", pid)
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
}

// activatedPIDs asks the bus which processes own activatable names: the
// services it started. dbus-daemon detaches them, so they are not its
// children and would not otherwise be found.
func (b *Bus) activatedPIDs() []int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := dbus.Connect(b.Address, dbus.WithContext(ctx))
	if err != nil {
		return nil
	}
	defer conn.Close()
	bus := conn.BusObject()
	var activatable, owned []string
	if bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable) != nil ||
		bus.CallWithContext(ctx, "org.freedesktop.DBus.ListNames", 0).Store(&owned) != nil {
		return nil
	}
	var pids []int
	for _, name := range owned {
		if !slices.Contains(activatable, name) {
			continue
		}
		var pid uint32
		if bus.CallWithContext(ctx, "org.freedesktop.DBus.GetConnectionUnixProcessID", 0, name).Store(&pid) == nil &&
			int(pid) != os.Getpid() && !slices.Contains(pids, int(pid)) {
			pids = append(pids, int(pid))
		}
	}
	return pids
}

// procStat returns the parent pid and state of a process.
func procStat(pid int) (ppid int, state byte, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return 0, 0, false
	}
	return ppid, fields[0][0], true
}

func alive(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a child
// process and reads of the test.
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
