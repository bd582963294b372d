package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/server/api"
	"github.com/noema-project/noema/server/client"
)

// daemon returns a client for the running daemon when one owns this
// installation's state, or nil when none does and commands work in
// process. NOEMA_DAEMON=off always works in process (and so waits for a
// running daemon's lock). In recovery mode only a daemon that is itself in
// recovery mode will do.
func (g *globals) daemon(ctx context.Context) (*client.Client, *api.Status, error) {
	if g.env.Getenv("NOEMA_DAEMON") == "off" {
		return nil, nil, nil
	}
	p, err := g.paths()
	if err != nil {
		return nil, nil, err
	}
	c, st, err := client.Find(ctx, p.SocketPath(g.env.Getenv), p.Home, "cli")
	if err != nil || c == nil {
		return nil, nil, err
	}
	if g.recovery && !st.Recovery {
		c.Close()
		return nil, nil, fmt.Errorf("the noema daemon (pid %d) owns the state and is not in recovery mode: stop it (systemctl --user stop noema) or restart it with `noema serve --recovery`", st.PID)
	}
	return c, st, nil
}

// pipe is where a command's actions go: the daemon when one runs, else
// the pipeline opened in this process. Both give the same envelopes and
// errors, so a command prints the same and exits the same either way.
type pipe interface {
	// manifest looks an action type up; ok is false for an unknown one.
	manifest(ctx context.Context, name string) (m *action.Manifest, ok bool, err error)
	submit(ctx context.Context, d action.Draft) (*action.Envelope, error)
	get(ctx context.Context, id string) (*action.Envelope, error)
	undo(ctx context.Context, id string) (*action.Envelope, error)
	approve(ctx context.Context, id, hash string) (*action.Envelope, error)
	refuse(ctx context.Context, id, reason string) (*action.Envelope, error)
	run(ctx context.Context, id string) (*action.Envelope, error)
	// start readies execution (in process: crash recovery and workers).
	start(ctx context.Context) error
	close()
}

// pipe connects to the daemon or opens the pipeline here.
func (g *globals) pipe(ctx context.Context) (pipe, error) {
	c, _, err := g.daemon(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return remotePipe{c}, nil
	}
	a, err := g.openLocal(ctx)
	if err != nil {
		return nil, err
	}
	return &localPipe{a: a, human: identity.CurrentUser("cli")}, nil
}

// openLocal opens the pipeline in process, explaining a lock held by a
// daemon that this process was told not to use.
func (g *globals) openLocal(ctx context.Context) (*app.App, error) {
	a, err := g.open(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && g.env.Getenv("NOEMA_DAEMON") == "off" {
		return nil, fmt.Errorf("%w (with NOEMA_DAEMON=off this command waits for a running `noema serve` to stop)", err)
	}
	return a, err
}

type localPipe struct {
	a     *app.App
	human identity.Subject
}

func (p *localPipe) manifest(_ context.Context, name string) (*action.Manifest, bool, error) {
	e, ok := p.a.Registry.Catalog().Lookup(name)
	if !ok {
		return nil, false, nil
	}
	return &e.Manifest, true, nil
}

func (p *localPipe) submit(ctx context.Context, d action.Draft) (*action.Envelope, error) {
	return p.a.Runtime.Submit(ctx, runtime.Submission{Subject: p.human, Draft: d})
}

func (p *localPipe) get(ctx context.Context, id string) (*action.Envelope, error) {
	return p.a.Runtime.Get(ctx, id)
}

func (p *localPipe) undo(ctx context.Context, id string) (*action.Envelope, error) {
	return p.a.Runtime.Undo(ctx, id, p.human)
}

func (p *localPipe) approve(ctx context.Context, id, hash string) (*action.Envelope, error) {
	return p.a.Runtime.Approve(ctx, id, p.human, hash)
}

func (p *localPipe) refuse(ctx context.Context, id, reason string) (*action.Envelope, error) {
	return p.a.Runtime.Refuse(ctx, id, p.human, reason)
}

func (p *localPipe) run(ctx context.Context, id string) (*action.Envelope, error) {
	return p.a.Runtime.Run(ctx, id)
}

func (p *localPipe) start(ctx context.Context) error { return p.a.Runtime.Start(ctx) }

func (p *localPipe) close() { p.a.Close() }

// remotePipe goes through the daemon. It never asks the daemon to run
// anything by itself, so the CLI keeps the order of prompts and runs.
type remotePipe struct {
	c *client.Client
}

func (p remotePipe) manifest(ctx context.Context, name string) (*action.Manifest, bool, error) {
	m, err := p.c.Manifest(ctx, name)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Code == api.CodeUnknownAction {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}

func (p remotePipe) submit(ctx context.Context, d action.Draft) (*action.Envelope, error) {
	return p.c.Submit(ctx, d, false)
}

func (p remotePipe) get(ctx context.Context, id string) (*action.Envelope, error) {
	return p.c.Get(ctx, id)
}

func (p remotePipe) undo(ctx context.Context, id string) (*action.Envelope, error) {
	return p.c.Undo(ctx, id, false)
}

func (p remotePipe) approve(ctx context.Context, id, hash string) (*action.Envelope, error) {
	return p.c.Approve(ctx, id, hash, false)
}

func (p remotePipe) refuse(ctx context.Context, id, reason string) (*action.Envelope, error) {
	return p.c.Refuse(ctx, id, reason)
}

func (p remotePipe) run(ctx context.Context, id string) (*action.Envelope, error) {
	return p.c.Run(ctx, id)
}

func (p remotePipe) start(context.Context) error { return nil }

func (p remotePipe) close() { p.c.Close() }
