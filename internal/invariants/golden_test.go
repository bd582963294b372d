package invariants

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noema-project/noema/internal/cli"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// cliEnv runs the CLI in process against a private session bus (with real
// dconf-service) and a fresh NOEMA_HOME.
type cliEnv struct {
	t   *testing.T
	bus *dconftest.Bus
}

func newCLIEnv(t *testing.T) *cliEnv {
	bus := dconftest.StartSessionBus(t)
	for _, kv := range bus.Env() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_DIRS", "DBUS_SESSION_BUS_ADDRESS", "DCONF_PROFILE", "GSETTINGS_BACKEND":
			t.Setenv(k, v)
		}
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address)
	t.Setenv("NOEMA_HOME", filepath.Join(bus.Home, "noema"))
	t.Setenv("NOEMA_LLM_URL", "")
	return &cliEnv{t: t, bus: bus}
}

// run runs noema with args and returns stdout and the exit code.
func (c *cliEnv) run(args ...string) (string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	cwd, _ := os.Getwd()
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, Cwd: cwd}
	code := cli.Run(context.Background(), env, args)
	if code != 0 {
		c.t.Logf("noema %s → %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String(), code
}

type actionsOut struct {
	Actions []struct {
		ActionID string   `json:"action_id"`
		Action   string   `json:"action"`
		State    string   `json:"state"`
		Decision string   `json:"decision"`
		Evidence []string `json:"evidence"`
		Parent   string   `json:"parent_action_id"`
	} `json:"actions"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return v
}

// TestGoldenPath: theme set → verified against real dconf on a private
// session bus → at least five linked evidence records → the chain verifies
// → undo restores the old value → the chain verifies.
func TestGoldenPath(t *testing.T) {
	c := newCLIEnv(t)
	scheme := func() string {
		return strings.TrimSpace(c.bus.Run(t, "gsettings", "get", "org.gnome.desktop.interface", "color-scheme"))
	}
	if got := scheme(); got != "'default'" {
		t.Fatalf("fresh session has color-scheme %s", got)
	}
	out, code := c.run("do", "--json", "desktop.theme.set", "mode=dark")
	if code != 0 {
		t.Fatalf("do exited %d", code)
	}
	res := decode[actionsOut](t, out)
	if len(res.Actions) != 1 || res.Actions[0].State != "SUCCEEDED" || res.Actions[0].Decision != "ALLOW" {
		t.Fatalf("do: %s", out)
	}
	id := res.Actions[0].ActionID
	if got := scheme(); got != "'prefer-dark'" {
		t.Fatalf("gsettings sees %s after the action", got)
	}
	out, code = c.run("log", "list", "--json", "--action", id)
	if code != 0 {
		t.Fatal("log list failed")
	}
	recs := decode[struct {
		Records []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
		} `json:"records"`
	}](t, out)
	if len(recs.Records) < 5 {
		t.Fatalf("%d evidence records for the action, want ≥ 5: %s", len(recs.Records), out)
	}
	for _, r := range recs.Records {
		if r.ActionID != id {
			t.Fatalf("record not linked to the action: %+v", r)
		}
	}
	if _, code := c.run("log", "verify"); code != 0 {
		t.Fatal("log verify failed after the action")
	}
	out, code = c.run("undo", "--json", id)
	if code != 0 {
		t.Fatalf("undo exited %d", code)
	}
	undo := decode[actionsOut](t, out)
	if undo.Actions[0].State != "SUCCEEDED" || undo.Actions[0].Parent != id {
		t.Fatalf("undo: %s", out)
	}
	if got := scheme(); got != "'default'" {
		t.Fatalf("after undo gsettings sees %s", got)
	}
	out, _ = c.run("status", "--json", id)
	if !strings.Contains(out, `"ROLLED_BACK"`) {
		t.Fatalf("original not marked ROLLED_BACK: %s", out)
	}
	if _, code := c.run("log", "verify"); code != 0 {
		t.Fatal("log verify failed after undo")
	}
}

// Invariant 6: recovery never depends on a model. With the configured LLM
// unreachable, exact typed commands, undo, rollback, policy load and log
// verification all work.
func TestInvariant6RecoveryWithoutModel(t *testing.T) {
	c := newCLIEnv(t)
	t.Setenv("NOEMA_LLM_URL", "http://127.0.0.1:9/v1")
	t.Setenv("NOEMA_LLM_MODEL", "unreachable")
	dir := t.TempDir()
	file := filepath.Join(dir, "todo.txt")
	os.WriteFile(file, []byte("one\n"), 0o644)
	out, code := c.run("--recovery", "do", "--json", "fs.write", "path="+file, "content=two\n")
	if code != 0 {
		t.Fatalf("typed command in recovery mode: %d %s", code, out)
	}
	id := decode[actionsOut](t, out).Actions[0].ActionID
	if _, code := c.run("--recovery", "undo", "--json", id); code != 0 {
		t.Fatal("undo in recovery mode failed")
	}
	if b, _ := os.ReadFile(file); string(b) != "one\n" {
		t.Fatalf("undo did not restore: %q", b)
	}
	if _, code := c.run("policy", "show"); code != 0 {
		t.Fatal("policy show failed")
	}
	if _, code := c.run("log", "verify"); code != 0 {
		t.Fatal("log verify failed")
	}
}

// The contract's exit codes: 2 usage, 3 denied, 4 needs approval.
func TestExitCodes(t *testing.T) {
	c := newCLIEnv(t)
	if _, code := c.run("do", "no.such.action"); code != 2 {
		t.Errorf("unknown action: exit %d, want 2", code)
	}
	if _, code := c.run("do", "desktop.theme.set", "mode=purple"); code != 2 {
		t.Errorf("bad target: exit %d, want 2", code)
	}
	if _, code := c.run("do", "fs.delete", "path=/"); code != 3 {
		t.Errorf("hard deny: exit %d, want 3", code)
	}
	victim := filepath.Join(t.TempDir(), "v.txt")
	os.WriteFile(victim, []byte("x"), 0o644)
	out, code := c.run("do", "--json", "fs.delete", "path="+victim)
	if code != 4 {
		t.Errorf("needs approval, non-interactive, no --yes: exit %d, want 4", code)
	}
	if !strings.Contains(out, "APPROVAL_PENDING") {
		t.Errorf("output: %s", out)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Error("the file was deleted without approval")
	}
	if _, code := c.run("do", "--yes", "fs.delete", "path="+victim); code != 0 {
		t.Errorf("--yes: exit %d", code)
	}
	if _, err := os.Stat(victim); err == nil {
		t.Error("--yes did not delete")
	}
	if _, code := c.run("nonsense"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}
