package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/internal/app"
)

// Listening beyond loopback is refused unless the owner's own config file
// grants it; a grant is recorded as evidence and warned about.
func TestRemoteListenNeedsTheOwnersGrant(t *testing.T) {
	e := newTestEnv(t)
	err := Run(context.Background(), Config{Getenv: e.getenv, Listen: "0.0.0.0:0", NoDBus: true, Stderr: &syncBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") || !strings.Contains(err.Error(), "allow_remote") {
		t.Fatalf("without a grant: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.vars["NOEMA_HOME"], "evidence")); err == nil {
		t.Fatal("a refused start opened the state")
	}

	conf := filepath.Join(e.vars["XDG_CONFIG_HOME"], "noema", "config.toml")
	os.MkdirAll(filepath.Dir(conf), 0o700)
	if err := os.WriteFile(conf, []byte("[server]\nallow_remote = true\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(conf, 0o666)
	err = Run(context.Background(), Config{Getenv: e.getenv, Listen: "0.0.0.0:0", NoDBus: true, Stderr: &syncBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "others can write it") {
		t.Fatalf("grant in a world-writable file: %v", err)
	}

	os.Chmod(conf, 0o600)
	d := startDaemon(t, e, func(c *Config) { c.Listen = "0.0.0.0:0" })
	if !strings.Contains(d.stderr.String(), "WARNING: listening beyond this machine") {
		t.Errorf("no warning: %s", d.stderr)
	}
	// Still every request needs the token.
	if r, _ := d.request(t, "GET", "/api/status", "", nil); r.StatusCode != 401 {
		t.Errorf("remote listener without a token: %d", r.StatusCode)
	}
	d.stop(t)
	var grant map[string]any
	evidence.Scan(context.Background(), filepath.Join(e.vars["NOEMA_HOME"], "evidence"), evidence.Position{}, func(en evidence.Entry) error {
		if en.Record != nil && en.Record.Type == "server.remote_granted" {
			json.Unmarshal(en.Record.Data, &grant)
		}
		return nil
	})
	if grant == nil || grant["config_file"] != conf {
		t.Fatalf("grant record: %v", grant)
	}

	// A later file that says false takes the grant back.
	home := filepath.Join(e.vars["NOEMA_HOME"], "config.toml")
	os.WriteFile(home, []byte("[server]\nallow_remote = false\n"), 0o600)
	if _, ok, err := app.FindRemoteGrant([]string{conf, home}, os.Getuid()); ok || err != nil {
		t.Fatalf("overridden grant: %v %v", ok, err)
	}
}

// While the daemon runs it alone holds the state: a second daemon, or the
// pipeline opened in another process, waits for the lock and then fails
// clearly; a second daemon on the same socket is refused.
func TestOneOwnerOfTheState(t *testing.T) {
	e := newTestEnv(t)
	startDaemon(t, e, nil)
	ctx := context.Background()
	start := time.Now()
	_, err := app.Open(ctx, app.Options{Getenv: e.getenv, LockWait: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "another noema process") {
		t.Fatalf("in-process open beside the daemon: %v", err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Fatal("did not wait for the lock")
	}
	err = Run(ctx, Config{Getenv: e.getenv, Listen: "off", NoDBus: true, LockWait: 300 * time.Millisecond, Stderr: &syncBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "another noema process") {
		t.Fatalf("second daemon: %v", err)
	}
	// Another installation on the same socket path.
	other := newTestEnv(t)
	other.vars["NOEMA_SOCKET"] = e.socket()
	err = Run(ctx, Config{Getenv: other.getenv, Listen: "off", NoDBus: true, Stderr: &syncBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "another noema daemon answers") {
		t.Fatalf("second daemon on the socket: %v", err)
	}
}

// A socket left by a daemon that died is replaced.
func TestStaleSocketIsReplaced(t *testing.T) {
	e := newTestEnv(t)
	os.MkdirAll(filepath.Dir(e.socket()), 0o700)
	if err := os.WriteFile(e.socket(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, e, nil)
	if _, err := d.sock.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
}
