package server

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
	"github.com/noema-project/noema/server/api"
)

// The daemon serves org.noema.Noema1 on a (private) session bus: Plan
// executes nothing, Ask runs what is allowed and leaves the rest pending,
// Approve runs a pending action, and ActionChanged follows every state.
func TestDBusService(t *testing.T) {
	bus := dconftest.StartSessionBus(t)
	e := newTestEnv(t)
	e.vars["DBUS_SESSION_BUS_ADDRESS"] = bus.Address
	d := startDaemon(t, e, func(c *Config) { c.NoDBus = false })
	if !d.info.DBus {
		t.Fatalf("no D-Bus service: %s", d.stderr)
	}
	conn := bus.Conn(t)
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath(busPath), dbus.WithMatchInterface(busIface)); err != nil {
		t.Fatal(err)
	}
	signals := make(chan *dbus.Signal, 256)
	conn.Signal(signals)
	obj := conn.Object(BusName, busPath)

	var xml string
	if err := obj.Call("org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<method name="Plan">`, `<method name="Ask">`, `<method name="Approve">`, `<signal name="ActionChanged">`} {
		if !strings.Contains(xml, want) {
			t.Errorf("introspection lacks %s", want)
		}
	}

	file := filepath.Join(e.work(), "bus.txt")
	var out string
	if err := obj.Call(busIface+".Plan", 0, "write hello to "+file).Store(&out); err != nil {
		t.Fatal(err)
	}
	var plan app.PlanResult
	if err := json.Unmarshal([]byte(out), &plan); err != nil || plan.Status != "READY" || len(plan.Actions) != 1 || plan.Actions[0].Action != "fs.write" {
		t.Fatalf("Plan: %v %s", err, out)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("Plan executed")
	}

	if err := obj.Call(busIface+".Ask", 0, "write hello to "+file).Store(&out); err != nil {
		t.Fatal(err)
	}
	var ask api.AskResponse
	if err := json.Unmarshal([]byte(out), &ask); err != nil || len(ask.Actions) != 1 || ask.Actions[0].Execution.State != action.Succeeded {
		t.Fatalf("Ask: %v %s", err, out)
	}
	if ask.Actions[0].Request.Subject.Via != "dbus" {
		t.Fatalf("subject %+v", ask.Actions[0].Request.Subject)
	}
	states := waitStates(t, signals, ask.Actions[0].Identity.ActionID, action.Succeeded)
	if strings.Join(states, ",") != "POLICY_PENDING,APPROVED,QUEUED,EXECUTING,VERIFYING,SUCCEEDED" {
		t.Fatalf("ActionChanged states: %v", states)
	}

	if err := obj.Call(busIface+".Ask", 0, "delete "+file).Store(&out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &ask); err != nil || len(ask.Actions) != 1 || ask.Actions[0].Execution.State != action.ApprovalPending {
		t.Fatalf("Ask delete: %v %s", err, out)
	}
	id := ask.Actions[0].Identity.ActionID
	waitStates(t, signals, id, action.ApprovalPending)
	if _, err := os.Stat(file); err != nil {
		t.Fatal("deleted before approval")
	}
	if err := obj.Call(busIface+".Approve", 0, id).Store(&out); err != nil {
		t.Fatal(err)
	}
	var env action.Envelope
	if err := json.Unmarshal([]byte(out), &env); err != nil || env.Execution.State != action.Succeeded {
		t.Fatalf("Approve: %v %s", err, out)
	}
	waitStates(t, signals, id, action.Succeeded)
	if _, err := os.Stat(file); err == nil {
		t.Fatal("not deleted after Approve")
	}

	err := obj.Call(busIface+".Approve", 0, "act_nonesuch").Store(&out)
	var de dbus.Error
	if !errors.As(err, &de) || de.Name != "org.noema.Noema1.Error.NotFound" {
		t.Fatalf("Approve of an unknown id: %v", err)
	}
	err = obj.Call(busIface+".Plan", 0, "").Store(&out)
	if !errors.As(err, &de) || de.Name != "org.noema.Noema1.Error.BadRequest" {
		t.Fatalf("Plan of nothing: %v", err)
	}

	// The name is released on stop, so the next daemon can have it.
	d.stop(t)
	var owner string
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, BusName).Store(&owner); err == nil {
		t.Fatalf("%s still owned by %s after stop", BusName, owner)
	}
}

// waitStates gathers the ActionChanged states of id until final.
func waitStates(t *testing.T, signals chan *dbus.Signal, id string, final action.State) []string {
	t.Helper()
	var states []string
	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-signals:
			if s.Name != busIface+".ActionChanged" || len(s.Body) != 2 || s.Body[0] != id {
				continue
			}
			st, _ := s.Body[1].(string)
			states = append(states, st)
			if st == string(final) {
				return states
			}
		case <-deadline:
			t.Fatalf("no ActionChanged(%s, %s); saw %v", id, final, states)
		}
	}
}
