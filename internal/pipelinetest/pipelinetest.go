// Package pipelinetest builds a complete action pipeline (evidence log,
// policy kernel with the shipped defaults, action store, runtime) in a
// temporary folder around the adapter modules under test, so adapter tests
// exercise the real path from submission to verified, recorded effect.
package pipelinetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/policy"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/state"
	"github.com/noema-project/noema/verify"
)

// Pipeline is a running pipeline for one test.
type Pipeline struct {
	Home     string
	Runtime  *runtime.Runtime
	Evidence *evidence.Log
	Key      *evidence.Key
	Store    *state.Store
	Registry *adapter.Registry
	Human    identity.Subject
}

// Options adjust the pipeline.
type Options struct {
	// Policies are extra Cedar sources on top of the shipped defaults.
	Policies []policy.Source
	// Protected overrides the hard-deny paths.
	Protected *policy.Protected
	Clock     func() time.Time
	Recovery  bool
	// ApprovalTTL overrides the approval lifetime.
	ApprovalTTL time.Duration
}

// New starts a pipeline with the given modules installed.
func New(t testing.TB, opts Options, modules ...adapter.Module) *Pipeline {
	t.Helper()
	home := t.TempDir()
	ctx := context.Background()
	key, _, err := evidence.LoadOrCreateKey(filepath.Join(home, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	log, err := evidence.Open(ctx, evidence.Options{Dir: filepath.Join(home, "evidence"), RunDir: filepath.Join(home, "run"), Key: key, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, filepath.Join(home, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(opts.Policies)
	if err != nil {
		t.Fatal(err)
	}
	prot := policy.Protected{NoemaHome: home, Sealed: []string{filepath.Join(home, "evidence"), filepath.Join(home, "keys")}}
	if opts.Protected != nil {
		prot = *opts.Protected
	}
	reg := adapter.NewRegistry(action.NewCatalog(), verify.NewEngine())
	for _, m := range modules {
		if err := reg.Install(m); err != nil {
			t.Fatal(err)
		}
	}
	rt := runtime.New(runtime.Options{
		Registry: reg, Policy: policy.New(set, prot, now), Store: st, Evidence: log,
		Clock: clockFunc(now), Recovery: opts.Recovery, ApprovalTTL: opts.ApprovalTTL,
		ExecTimeout: 30 * time.Second, VerifyTimeout: 10 * time.Second,
	})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p := &Pipeline{Home: home, Runtime: rt, Evidence: log, Key: key, Store: st, Registry: reg, Human: identity.CurrentUser("test")}
	t.Cleanup(func() {
		rt.Stop()
		st.Close()
		log.Close()
	})
	return p
}

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// Do submits an action as the human user, approves it if policy asks,
// runs it and returns the final envelope.
func (p *Pipeline) Do(t testing.TB, name string, target string) *action.Envelope {
	t.Helper()
	return p.Submit(t, p.Human, action.Draft{Action: name, Target: []byte(target)}, true)
}

// Submit submits as subject, approving (as the human) when approve is set
// and policy asks, and runs what is approved.
func (p *Pipeline) Submit(t testing.TB, subject identity.Subject, d action.Draft, approve bool) *action.Envelope {
	t.Helper()
	ctx := context.Background()
	env, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: subject, Draft: d})
	if err != nil {
		t.Fatalf("submit %s: %v", d.Action, err)
	}
	return p.Drive(t, env, approve)
}

// Drive approves (when asked and allowed) and runs a submitted action.
func (p *Pipeline) Drive(t testing.TB, env *action.Envelope, approve bool) *action.Envelope {
	t.Helper()
	ctx := context.Background()
	var err error
	if env.Execution.State == action.ApprovalPending && approve {
		if env, err = p.Runtime.Approve(ctx, env.Identity.ActionID, p.Human, env.RequestHash); err != nil {
			t.Fatalf("approve: %v", err)
		}
	}
	if env.Execution.State == action.Approved {
		if env, err = p.Runtime.Run(ctx, env.Identity.ActionID); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
	return env
}

// Undo undoes a succeeded action (approving as the human) and runs it.
func (p *Pipeline) Undo(t testing.TB, id string) *action.Envelope {
	t.Helper()
	env, err := p.Runtime.Undo(context.Background(), id, p.Human)
	if err != nil {
		t.Fatalf("undo %s: %v", id, err)
	}
	return p.Drive(t, env, true)
}

// Verify checks the evidence log and fails the test if it does not verify.
func (p *Pipeline) Verify(t testing.TB) *evidence.Report {
	t.Helper()
	rep, err := evidence.Verify(context.Background(), filepath.Join(p.Home, "evidence"), p.Key.Public(), evidence.VerifyOptions{AllSignatures: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("evidence does not verify: %v", rep.Problem)
	}
	return rep
}

// Records returns the evidence records of one action in order.
func (p *Pipeline) Records(t testing.TB, actionID string) []evidence.Record {
	t.Helper()
	var out []evidence.Record
	err := evidence.Scan(context.Background(), filepath.Join(p.Home, "evidence"), evidence.Position{}, func(e evidence.Entry) error {
		if e.Record != nil && (actionID == "" || e.Record.ActionID == actionID) {
			out = append(out, *e.Record)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// RequireState fails unless env is in want.
func RequireState(t testing.TB, env *action.Envelope, want action.State) {
	t.Helper()
	if env.Execution.State != want {
		msg := ""
		if env.Execution.Error != nil {
			msg = env.Execution.Error.Code + ": " + env.Execution.Error.Message
		}
		t.Fatalf("%s %s is %s (%s %s), want %s", env.Request.Action, env.Identity.ActionID, env.Execution.State, env.Execution.ReasonCode, msg, want)
	}
}
