package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/server/api"
)

// The session D-Bus service that desktop shells and extensions use.
const (
	busName   = "org.noema.Noema1"
	busPath   = dbus.ObjectPath("/org/noema/Noema1")
	busIface  = "org.noema.Noema1"
	busErrors = "org.noema.Noema1.Error."
	// dbusCallTimeout bounds one call; D-Bus callers give up after 25 s
	// by default, and an action still running goes on in the runtime.
	dbusCallTimeout = 2 * time.Minute
)

// BusName is the well-known name the daemon owns on the session bus.
const BusName = busName

// busIntrospection describes the object, with argument names, for tools
// like busctl and d-feet.
func busIntrospection() *introspect.Node {
	return &introspect.Node{
		Name: string(busPath),
		Interfaces: []introspect.Interface{{
			Name: busIface,
			Methods: []introspect.Method{
				{Name: "Plan", Args: []introspect.Arg{{Name: "text", Type: "s", Direction: "in"}, {Name: "plan_json", Type: "s", Direction: "out"}}},
				{Name: "Ask", Args: []introspect.Arg{{Name: "text", Type: "s", Direction: "in"}, {Name: "result_json", Type: "s", Direction: "out"}}},
				{Name: "Approve", Args: []introspect.Arg{{Name: "action_id", Type: "s", Direction: "in"}, {Name: "action_json", Type: "s", Direction: "out"}}},
				{Name: "Refuse", Args: []introspect.Arg{{Name: "action_id", Type: "s", Direction: "in"}, {Name: "action_json", Type: "s", Direction: "out"}}},
			},
			Signals: []introspect.Signal{
				{Name: "ActionChanged", Args: []introspect.Arg{{Name: "id", Type: "s"}, {Name: "state", Type: "s"}}},
			},
		}},
	}
}

// dbusService owns the bus name and the exported object.
type dbusService struct {
	s    *Server
	conn *dbus.Conn
}

// dbusObject is what the bus sees: every exported method here is a D-Bus
// method, so it has no others.
type dbusObject struct {
	s    *Server
	conn *dbus.Conn
}

func (s *Server) startDBus(addr string) (*dbusService, error) {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the session bus: %w", err)
	}
	obj := &dbusObject{s: s, conn: conn}
	if err := conn.Export(obj, busPath, busIface); err != nil {
		conn.Close()
		return nil, fmt.Errorf("export %s: %w", busPath, err)
	}
	if err := conn.Export(introspect.NewIntrospectable(busIntrospection()), busPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("export introspection: %w", err)
	}
	reply, err := conn.RequestName(busName, dbus.NameFlagDoNotQueue)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("request %s: %w", busName, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("%s is taken: another noema daemon serves this session", busName)
	}
	s.setBus(conn)
	return &dbusService{s: s, conn: conn}, nil
}

func (d *dbusService) close() {
	d.s.setBus(nil)
	d.conn.ReleaseName(busName)
	d.conn.Close()
}

// setBus lets onRecord emit signals on conn.
func (s *Server) setBus(conn *dbus.Conn) {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	s.busConn = conn
}

// onRecord turns each action state change into an ActionChanged signal.
func (s *Server) onRecord(rec evidence.Record) {
	if rec.Type != "action.transition" || rec.ActionID == "" {
		return
	}
	s.callMu.Lock()
	conn := s.busConn
	s.callMu.Unlock()
	if conn == nil {
		return
	}
	var t struct {
		To string `json:"to"`
	}
	if json.Unmarshal(rec.Data, &t) != nil || t.To == "" {
		return
	}
	conn.Emit(busPath, busIface+".ActionChanged", rec.ActionID, t.To)
}

// caller learns who sent a call from the bus daemon and serves only the
// daemon's own user.
func (o *dbusObject) caller(sender dbus.Sender) (identity.Subject, *dbus.Error) {
	var uid uint32
	err := o.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixUser", 0, string(sender)).Store(&uid)
	if err != nil {
		return identity.Subject{}, dbusError(api.CodeForbidden, "cannot tell who is calling: "+err.Error())
	}
	if int(uid) != o.s.uid {
		return identity.Subject{}, dbusError(api.CodeForbidden, fmt.Sprintf("uid %d is not this daemon's owner", uid))
	}
	return identity.FromUID(int(uid), "dbus"), nil
}

// call runs fn for sender as a tracked call with a bounded context, and
// answers its result as JSON.
func (o *dbusObject) call(sender dbus.Sender, fn func(ctx context.Context, who identity.Subject) (any, error)) (string, *dbus.Error) {
	if !o.s.enter() {
		return "", dbusError(api.CodeShuttingDown, "noema is stopping")
	}
	defer o.s.calls.Done()
	who, derr := o.caller(sender)
	if derr != nil {
		return "", derr
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbusCallTimeout)
	defer cancel()
	v, err := fn(ctx, who)
	if err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			return "", dbusError(br.code, br.msg)
		}
		_, code := api.Classify(err)
		return "", dbusError(code, err.Error())
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "", dbusError(api.CodeInternal, err.Error())
	}
	return string(out), nil
}

// Plan translates text and decides each step; nothing executes.
func (o *dbusObject) Plan(sender dbus.Sender, text string) (string, *dbus.Error) {
	return o.call(sender, func(ctx context.Context, who identity.Subject) (any, error) {
		in, err := o.s.planInput(&api.PlanRequest{Text: text}, &caller{subject: who}, false)
		if err != nil {
			return nil, err
		}
		out, _ := app.Plan(ctx, o.s.app.Runtime, o.s.planner, in)
		return out, nil
	})
}

// Ask plans and submits; allowed actions run, the rest wait for Approve.
func (o *dbusObject) Ask(sender dbus.Sender, text string) (string, *dbus.Error) {
	return o.call(sender, func(ctx context.Context, who identity.Subject) (any, error) {
		in, err := o.s.planInput(&api.PlanRequest{Text: text}, &caller{subject: who}, true)
		if err != nil {
			return nil, err
		}
		return o.s.doAsk(ctx, in, false, true)
	})
}

// Approve approves a pending action as it stands (its stored request
// hash, which the runtime checks again before dispatch) and runs it.
func (o *dbusObject) Approve(sender dbus.Sender, id string) (string, *dbus.Error) {
	return o.call(sender, func(ctx context.Context, who identity.Subject) (any, error) {
		env, err := o.s.app.Runtime.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if env, err = o.s.approveOne(ctx, id, who, env.RequestHash); err != nil {
			return nil, err
		}
		return o.s.runIfApproved(ctx, env)
	})
}

// Refuse refuses a pending action.
func (o *dbusObject) Refuse(sender dbus.Sender, id string) (string, *dbus.Error) {
	return o.call(sender, func(ctx context.Context, who identity.Subject) (any, error) {
		return o.s.refuseOne(ctx, id, who, "refused over D-Bus")
	})
}

// dbusError names the error after its API code: unknown_action becomes
// org.noema.Noema1.Error.UnknownAction.
func dbusError(code, msg string) *dbus.Error {
	var b strings.Builder
	for _, part := range strings.Split(code, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return dbus.NewError(busErrors+b.String(), []any{msg})
}
