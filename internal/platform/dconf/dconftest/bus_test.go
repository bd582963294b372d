package dconftest_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// TestActivatedServiceIsIsolated activates dconf-service on the private bus
// and checks that it runs with the temporary directories, so that it cannot
// touch the real user's settings, and that it is gone after Stop.
func TestActivatedServiceIsIsolated(t *testing.T) {
	var dir string
	var pid uint32
	t.Run("bus", func(t *testing.T) {
		bus := dconftest.StartSessionBus(t)
		dir = bus.Dir
		env := bus.Env()
		for _, want := range []string{
			"HOME=" + bus.Home,
			"XDG_CONFIG_HOME=" + bus.ConfigHome,
			"XDG_RUNTIME_DIR=" + bus.RuntimeDir,
			"DBUS_SESSION_BUS_ADDRESS=" + bus.Address,
		} {
			if !slices.Contains(env, want) {
				t.Errorf("Env() lacks %s", want)
			}
		}

		conn := bus.Conn(t)
		obj := conn.BusObject()
		var reply uint32
		if err := obj.Call("org.freedesktop.DBus.StartServiceByName", 0, "ca.desrt.dconf", uint32(0)).Store(&reply); err != nil {
			t.Fatalf("activate dconf-service: %v\nbus stderr:\n%s", err, bus.Stderr())
		}
		if err := obj.Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, "ca.desrt.dconf").Store(&pid); err != nil {
			t.Fatal(err)
		}
		environ, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/environ")
		if err != nil {
			t.Skipf("cannot inspect the service's environment: %v", err)
		}
		vars := strings.Split(string(bytes.TrimRight(environ, "\x00")), "\x00")
		for _, want := range []string{"XDG_CONFIG_HOME=" + bus.ConfigHome, "HOME=" + bus.Home} {
			if !slices.Contains(vars, want) {
				t.Errorf("dconf-service environment lacks %s", want)
			}
		}
	})
	if dir == "" {
		return
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bus directory %s still exists after the test: %v", dir, err)
	}
	if pid != 0 {
		// Stop waits for the service; allow for a slow machine anyway.
		deadline := time.Now().Add(5 * time.Second)
		for running(int(pid)) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if running(int(pid)) {
			t.Errorf("dconf-service (pid %d) still running after the bus stopped", pid)
		}
	}
}

// running reports whether pid is a live process; a zombie left for an init
// that does not reap counts as ended.
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

func TestRunAndCommand(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	if got := bus.Run(t, "sh", "-c", `printf '%s\n' "$XDG_CONFIG_HOME"`); got != bus.ConfigHome {
		t.Fatalf("Run saw XDG_CONFIG_HOME=%q, want %q", got, bus.ConfigHome)
	}
	if got := bus.DatabasePath(); got != bus.ConfigHome+"/dconf/user" {
		t.Fatalf("DatabasePath = %s", got)
	}
}
