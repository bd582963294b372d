package desktop_test

import (
	"strings"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dbusmocktest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

func TestNotify(t *testing.T) {
	dbusmocktest.Python(t)
	bus := dconftest.StartSessionBus(t)
	startMock(t, bus, "org.freedesktop.Notifications", "notification_daemon", nil)
	conn := bus.Conn(t)
	m := newModule(t, desktop.Options{SessionBus: bus.Address})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "desktop.notify", `{"title":"Tea","body":"the kettle <b>boiled</b> & is ready"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	requirePreview(t, env, "", "Tea: the kettle")
	if last := env.Execution.Preview[len(env.Execution.Preview)-1]; last.Subject != "undo" || !strings.Contains(last.Note, "cannot be unshown") {
		t.Fatalf("an unshowable notification does not say so before approval: %+v", env.Execution.Preview)
	}
	if id, _ := result(t, env)["id"].(float64); id < 1 {
		t.Fatalf("result %s has no notification id", env.Execution.Result)
	}
	var notifies []mockCall
	for _, c := range mockCalls(t, conn, "org.freedesktop.Notifications", "/org/freedesktop/Notifications") {
		if c.Method == "Notify" {
			notifies = append(notifies, c)
		}
	}
	if len(notifies) != 1 {
		t.Fatalf("Notify called %d times", len(notifies))
	}
	args := notifies[0].Args
	if args[0].Value() != "Noema" || args[3].Value() != "Tea" {
		t.Fatalf("Notify args %v", args)
	}
	// The mock announces body-markup, so the body is escaped to show as
	// written.
	if body := args[4].Value(); body != "the kettle &lt;b&gt;boiled&lt;/b&gt; &amp; is ready" {
		t.Fatalf("body sent as %q", body)
	}
	if !strings.Contains(string(env.Execution.Verification.Children[0].Observed), "mock-notify") {
		t.Fatalf("verification did not read the server information: %+v", env.Execution.Verification)
	}

	// A notification cannot be unshown; undo refuses and says why.
	_, err := p.Runtime.Undo(t.Context(), env.Identity.ActionID, p.Human)
	if err == nil || !strings.Contains(err.Error(), "cannot be unshown") {
		t.Fatalf("undo: %v", err)
	}

	// Without body-markup the body goes as is; without a body too.
	env = p.Do(t, "desktop.notify", `{"title":"Only a title"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	p.Verify(t)
}

func TestNotifyPlainServer(t *testing.T) {
	dbusmocktest.Python(t)
	bus := dconftest.StartSessionBus(t)
	startMock(t, bus, "org.freedesktop.Notifications", "notification_daemon", map[string]any{"capabilities": "body"})
	conn := bus.Conn(t)
	m := newModule(t, desktop.Options{SessionBus: bus.Address})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.notify", `{"title":"a < b","body":"x <i>y</i>"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	for _, c := range mockCalls(t, conn, "org.freedesktop.Notifications", "/org/freedesktop/Notifications") {
		if c.Method == "Notify" && c.Args[4].Value() != "x <i>y</i>" {
			t.Fatalf("body sent as %v to a server without markup", c.Args[4].Value())
		}
	}
}

func TestNotifyWithoutServerFails(t *testing.T) {
	bus := dconftest.StartSessionBus(t) // no notification server on it
	m := newModule(t, desktop.Options{SessionBus: bus.Address})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	requireFailed(t, p.Do(t, "desktop.notify", `{"title":"nobody listens"}`), "notification server")

	m = newModule(t, desktop.Options{SessionBus: "unix:path=/nonexistent/noema-bus"})
	p = pipelinetest.New(t, pipelinetest.Options{}, m)
	requireFailed(t, p.Do(t, "desktop.notify", `{"title":"no bus"}`), "session bus")
}

func TestNotifyRejectsBadTargets(t *testing.T) {
	m := newModule(t, desktop.Options{})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	for _, target := range []string{`{}`, `{"title":""}`, `{"body":"no title"}`, `{"title":"x","urgency":2}`, `{"title":` + `"` + strings.Repeat("x", 201) + `"}`} {
		if err := validate(t, p, "desktop.notify", target); err == nil {
			t.Errorf("%s accepted", target)
		}
	}
	if err := validate(t, p, "desktop.notify", `{"title":"ok","body":"fine"}`); err != nil {
		t.Fatal(err)
	}
}
