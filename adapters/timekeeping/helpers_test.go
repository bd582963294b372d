package timekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
)

// pythonWith returns a Python interpreter that can import module: the
// system one first, since Debian installs python3-dbusmock and radicale
// for it, then whatever python3 is first on PATH.
func pythonWith(t *testing.T, module, pkg string) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import "+module).Run() == nil {
			return py
		}
	}
	t.Skipf("Python module %s is not installed (Debian package %s)", module, pkg)
	return ""
}

// freePort finds a TCP port on 127.0.0.1 that is free right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond until it holds or the timeout ends.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// result decodes an envelope's result.
func result(t *testing.T, env *action.Envelope) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(env.Execution.Result, &m); err != nil {
		t.Fatalf("result of %s: %v (%s)", env.Request.Action, err, env.Execution.Result)
	}
	return m
}

// requireFailed checks that env failed with an error mentioning want.
func requireFailed(t *testing.T, env *action.Envelope, want string) {
	t.Helper()
	pipelinetest.RequireState(t, env, action.Failed)
	if env.Execution.Error == nil {
		t.Fatalf("%s failed without an error", env.Request.Action)
	}
	if !strings.Contains(env.Execution.Error.Message, want) {
		t.Fatalf("%s error %q does not mention %q", env.Request.Action, env.Execution.Error.Message, want)
	}
}

// originalState reads an action back from the store.
func originalState(t *testing.T, p *pipelinetest.Pipeline, id string) action.State {
	t.Helper()
	env, err := p.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return env.Execution.State
}

// rejects runs the checks the runtime makes before it accepts a
// submission: the schema, then the adapter's own reading of the target.
func rejects(p *pipelinetest.Pipeline, name, target string) error {
	entry, ok := p.Registry.Catalog().Lookup(name)
	if !ok {
		return fmt.Errorf("unknown action %s", name)
	}
	if err := entry.ValidateTarget(json.RawMessage(target)); err != nil {
		return err
	}
	h, _ := p.Registry.Handler(name)
	_, err := h.Verification(&action.Request{Action: name, Target: json.RawMessage(target)})
	return err
}
