package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServerConfig(t *testing.T) {
	var c Config
	if err := ParseConfig("c.toml", []byte("[server]\nlisten = \"127.0.0.1:8080\"\nallow_remote = true\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:8080" || !c.Server.AllowRemote {
		t.Fatalf("%+v", c.Server)
	}
	for _, bad := range []string{"[server]\nlisten = \"7717\"\n", "[server]\nallow_remote = \"yes\"\n", "[server]\nallow_remotely = true\n"} {
		var c Config
		if err := ParseConfig("c.toml", []byte(bad), &c); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSocketPath(t *testing.T) {
	p := Paths{Home: "/h/noema"}
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if got := p.SocketPath(get); got != "/h/noema/run/noema.sock" {
		t.Errorf("no runtime dir: %s", got)
	}
	env["XDG_RUNTIME_DIR"] = "/run/user/1000"
	if got := p.SocketPath(get); got != "/run/user/1000/noema/noema.sock" {
		t.Errorf("runtime dir: %s", got)
	}
	env["NOEMA_SOCKET"] = "/tmp/s.sock"
	if got := p.SocketPath(get); got != "/tmp/s.sock" {
		t.Errorf("NOEMA_SOCKET: %s", got)
	}
}

// The API token is random, 0600, stable across loads, and refused when
// others can read it.
func TestAPIToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "api-token")
	a, err := LoadOrCreateAPIToken(path)
	if err != nil || len(a) < 40 {
		t.Fatalf("%q %v", a, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	b, err := LoadOrCreateAPIToken(path)
	if err != nil || b != a {
		t.Fatalf("reload: %q %v", b, err)
	}
	other, _ := LoadOrCreateAPIToken(filepath.Join(t.TempDir(), "api-token"))
	if other == a {
		t.Fatal("two installations got the same token")
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateAPIToken(path); err == nil || !strings.Contains(err.Error(), "read by others") {
		t.Fatalf("world-readable token: %v", err)
	}
}

// allow_remote counts from a file its owner alone can write; a later file
// may take it back.
func TestFindRemoteGrant(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	a, b := filepath.Join(dir, "a.toml"), filepath.Join(dir, "b.toml")
	if _, ok, err := FindRemoteGrant([]string{a, b}, os.Getuid()); ok || err != nil {
		t.Fatalf("no files: %v %v", ok, err)
	}
	os.WriteFile(a, []byte("[server]\nallow_remote = true\n"), 0o600)
	g, ok, err := FindRemoteGrant([]string{a, b}, os.Getuid())
	if !ok || err != nil || g.File != a {
		t.Fatalf("grant: %+v %v %v", g, ok, err)
	}
	if _, ok, err := FindRemoteGrant([]string{a}, os.Getuid()+1); ok || err == nil {
		t.Fatalf("someone else's file: %v %v", ok, err)
	}
	os.Chmod(a, 0o620)
	if _, ok, err := FindRemoteGrant([]string{a}, os.Getuid()); ok || err == nil {
		t.Fatalf("group-writable: %v %v", ok, err)
	}
	os.Chmod(a, 0o600)
	os.WriteFile(b, []byte("[llm]\nmodel = \"m\"\n"), 0o600)
	if _, ok, _ := FindRemoteGrant([]string{a, b}, os.Getuid()); !ok {
		t.Fatal("a later file that does not mention it took the grant back")
	}
	os.WriteFile(b, []byte("[server]\nallow_remote = false\n"), 0o600)
	if _, ok, _ := FindRemoteGrant([]string{a, b}, os.Getuid()); ok {
		t.Fatal("a later allow_remote = false did not take the grant back")
	}
}
