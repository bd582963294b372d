// Package runtime is the only path from a request to an effect. It builds
// and freezes envelopes, asks the policy kernel, binds human approvals to
// request hashes, queues work by class, re-checks everything just before
// dispatch, runs the adapter with a timeout, proves the effect with the
// verification engine, rolls back what failed verification, and records
// every transition in the evidence log.
package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/clock"
	"github.com/noema-project/noema/internal/ids"
	"github.com/noema-project/noema/policy"
	"github.com/noema-project/noema/state"
	"github.com/noema-project/noema/verify"
)

// Options wire a runtime.
type Options struct {
	Registry *adapter.Registry
	Policy   *policy.Kernel
	Store    *state.Store
	Evidence *evidence.Log
	Clock    clock.Clock
	// Recovery is set in recovery mode; the policy kernel sees it.
	Recovery bool
	// ApprovalTTL is how long an approval stays valid (default 5 min).
	ApprovalTTL time.Duration
	// ExecTimeout bounds one adapter call (default 2 min).
	ExecTimeout time.Duration
	// VerifyTimeout bounds one verification (default 30 s).
	VerifyTimeout time.Duration
	// Workers is the number of dispatch workers (default 4).
	Workers int
}

// Errors a caller can tell apart.
var (
	ErrUnknownAction       = errors.New("unknown action")
	ErrIdempotencyConflict = errors.New("IdempotencyConflict: the idempotency key was used for a different request")
	ErrNotHuman            = errors.New("only a human can approve or refuse")
	ErrHashMismatch        = errors.New("the approval is for a different request (request hash differs)")
	ErrWrongState          = errors.New("action is not in a state that allows this")
	ErrCannotUndo          = errors.New("cannot be undone")
	ErrClosed              = errors.New("runtime stopped")
)

// RejectedError says a submission was refused before an envelope existed
// (an invalid draft or target, an unknown action). Code is the reason code
// recorded in the evidence, so that a caller can tell the submitter's
// mistakes from Noema's own failures.
type RejectedError struct {
	Code string
	Err  error
}

func (e *RejectedError) Error() string { return e.Err.Error() }

func (e *RejectedError) Unwrap() error { return e.Err }

// Runtime dispatches actions.
type Runtime struct {
	opts   Options
	reg    *adapter.Registry
	queues map[action.Class]chan *job
	wake   chan struct{}
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	mu     sync.Mutex
	active map[string]*job
}

type job struct {
	id   string
	done chan struct{}
	env  *action.Envelope
	err  error
}

// New returns a runtime; call Start to run workers.
func New(opts Options) *Runtime {
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.ApprovalTTL <= 0 {
		opts.ApprovalTTL = 5 * time.Minute
	}
	if opts.ExecTimeout <= 0 {
		opts.ExecTimeout = 2 * time.Minute
	}
	if opts.VerifyTimeout <= 0 {
		opts.VerifyTimeout = 30 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	rt := &Runtime{
		opts: opts, reg: opts.Registry,
		queues: map[action.Class]chan *job{
			action.Interactive: make(chan *job, 1024),
			action.Agent:       make(chan *job, 1024),
			action.Background:  make(chan *job, 1024),
		},
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		active: map[string]*job{},
	}
	return rt
}

// Catalog returns the catalog.
func (rt *Runtime) Catalog() *action.Catalog { return rt.reg.Catalog() }

// Policy returns the policy kernel.
func (rt *Runtime) Policy() *policy.Kernel { return rt.opts.Policy }

// Store returns the action store.
func (rt *Runtime) Store() *state.Store { return rt.opts.Store }

// Recovery reports whether the runtime is in recovery mode.
func (rt *Runtime) Recovery() bool { return rt.opts.Recovery }

func (rt *Runtime) now() time.Time { return rt.opts.Clock.Now().UTC() }

// Start runs the dispatch workers until Stop. Actions left QUEUED by an
// earlier process are resumed; those found EXECUTING or VERIFYING failed
// with the crash (see RecoverCrashed).
func (rt *Runtime) Start(ctx context.Context) error {
	if err := rt.RecoverCrashed(ctx); err != nil {
		return err
	}
	for i := 0; i < rt.opts.Workers; i++ {
		rt.wg.Add(1)
		go rt.worker()
	}
	queued, err := rt.opts.Store.List(ctx, state.Filter{States: []action.State{action.Queued}})
	if err != nil {
		return err
	}
	for i := len(queued) - 1; i >= 0; i-- {
		rt.push(queued[i])
	}
	return nil
}

// Stop lets running work finish and stops the workers.
func (rt *Runtime) Stop() {
	rt.once.Do(func() { close(rt.stop) })
	rt.wg.Wait()
}

// RecoverCrashed marks actions a crash interrupted: EXECUTING or VERIFYING
// at start-up becomes FAILED with crash_recovered, because the effect may
// have happened and was not proven.
func (rt *Runtime) RecoverCrashed(ctx context.Context) error {
	envs, err := rt.opts.Store.List(ctx, state.Filter{States: []action.State{action.Executing, action.Verifying}})
	if err != nil {
		return err
	}
	for _, env := range envs {
		from := env.Execution.State
		env.Execution.CrashRecovered = true
		env.Execution.Error = &action.ErrorInfo{Code: "crash_recovered", Message: fmt.Sprintf("noema stopped while the action was %s; its effect is unproven", from)}
		rec, err := rt.transition(ctx, env, action.Failed, "crash_recovered")
		if err != nil {
			return err
		}
		if err := rt.commit(ctx, env, from, rec, rt.rec("action.crash_recovered", map[string]any{"state": from})); err != nil {
			return err
		}
	}
	return nil
}

// Submission is a draft with the subject of the door it came through.
type Submission struct {
	Subject identity.Subject
	Draft   action.Draft
	Class   action.Class
	// Undo, when set, makes this an undo of another action.
	Undo   *action.Undo
	Parent string
	// NoPreview skips reading the system for the old → new preview
	// (planning only, where speed matters more).
	NoPreview bool
}

// Assess builds the envelope a submission would create and the policy
// decision it would get, without storing, recording or executing anything.
// `noema plan` and `noema policy test` use it.
func (rt *Runtime) Assess(ctx context.Context, sub Submission) (*action.Envelope, policy.Decision, error) {
	env, m, code, err := rt.build(ctx, sub, true)
	if err != nil {
		return nil, policy.Decision{}, &RejectedError{Code: code, Err: err}
	}
	dec := rt.opts.Policy.Decide(policy.Input{Request: &env.Request, Manifest: m, Recovery: rt.opts.Recovery})
	rt.applyDecision(env, dec)
	return env, dec, nil
}

// build validates a submission and makes its envelope (CREATED, not
// stored). The error code says why a submission was refused.
//
// When assessing, a request the adapter cannot yet prove (a rollback of a
// file with no history) is still decided, with the reason kept as a
// condition; submitting it is refused.
func (rt *Runtime) build(ctx context.Context, sub Submission, assessing bool) (*action.Envelope, *action.Manifest, string, error) {
	d := sub.Draft
	if err := d.Check(); err != nil {
		return nil, nil, "invalid_draft", err
	}
	if sub.Subject.ID == "" {
		return nil, nil, "no_subject", errors.New("submission without a subject")
	}
	entry, ok := rt.reg.Catalog().Lookup(d.Action)
	h, hok := rt.reg.Handler(d.Action)
	if !ok || !hok {
		return nil, nil, "unknown_action", fmt.Errorf("%w %q (see `noema actions`)", ErrUnknownAction, d.Action)
	}
	if len(d.Target) == 0 {
		d.Target = json.RawMessage("{}")
	}
	if err := entry.ValidateTarget(d.Target); err != nil {
		return nil, nil, "invalid_target", err
	}
	now := rt.now()
	dry := d.DryRun
	if dry == "" {
		dry = action.Live
	}
	req := action.Request{
		Action: d.Action, Target: d.Target, Subject: sub.Subject, Reason: d.Reason,
		DryRun: dry, Undo: sub.Undo,
	}
	m := entry.Manifest
	req.Risk = m.Risk
	if ra, ok := h.(adapter.RiskAssessor); ok {
		req.Risk = ra.Risk(&req)
	}
	req.Risk.Tainted = req.Risk.Tainted || d.Tainted
	var conditions []string
	spec, err := h.Verification(&req)
	if err != nil {
		if !assessing {
			return nil, nil, "invalid_target", err
		}
		conditions = append(conditions, "cannot_verify: "+err.Error())
	}
	if d.Verification != nil {
		spec = verify.AllOf(spec, *d.Verification)
	}
	if err := rt.reg.Verifier().Check(spec); err != nil {
		return nil, nil, "invalid_verification", err
	}
	req.Verification = spec
	hash, err := req.Hash()
	if err != nil {
		return nil, nil, "invalid_target", fmt.Errorf("hash request: %w", err)
	}
	class := sub.Class
	if class == "" {
		class = action.Interactive
		if sub.Subject.IsAI {
			class = action.Agent
		}
	}
	corr := d.CorrelationID
	if corr == "" {
		corr = ids.New(ids.Correlation, now)
	}
	env := &action.Envelope{
		Identity: action.Identity{
			ActionID: ids.New(ids.Action, now), IdempotencyKey: d.IdempotencyKey, CreatedAt: now,
			IntentID: d.IntentID, PlanID: d.PlanID, ParentActionID: sub.Parent, CorrelationID: corr,
		},
		Request:     req,
		RequestHash: hash,
		Execution:   action.Execution{State: action.Created, Class: class, UpdatedAt: now, Conditions: conditions},
	}
	if sub.NoPreview {
		return env, &m, "", nil
	}
	if preview, err := h.Preview(ctx, &env.Request); err != nil {
		env.Execution.Conditions = append(env.Execution.Conditions, "preview_unavailable: "+err.Error())
	} else {
		env.Execution.Preview = preview
	}
	if !m.ReadOnly && m.Rollback == action.RollbackNone {
		// Say it before approval, not after: this one cannot be taken back.
		note := m.RollbackNote
		if note == "" {
			note = "the effect cannot be reversed"
		}
		env.Execution.Preview = append(env.Execution.Preview, action.Change{Subject: "undo", New: "not possible", Note: note})
	}
	return env, &m, "", nil
}

// Submit creates an envelope, decides policy, and returns it APPROVED,
// APPROVAL_PENDING or POLICY_DENIED. Nothing executes. Every refusal is
// recorded as evidence.
func (rt *Runtime) Submit(ctx context.Context, sub Submission) (*action.Envelope, error) {
	env, m, code, err := rt.build(ctx, sub, false)
	if err != nil {
		rt.reject(ctx, sub, code, err)
		return nil, &RejectedError{Code: code, Err: err}
	}
	if key := env.Identity.IdempotencyKey; key != "" {
		prev, err := rt.opts.Store.ByIdempotencyKey(ctx, key)
		if err == nil {
			if prev.RequestHash == env.RequestHash {
				return prev, nil
			}
			rt.reject(ctx, sub, "idempotency_conflict", ErrIdempotencyConflict)
			return nil, ErrIdempotencyConflict
		}
		if !errors.Is(err, state.ErrNotFound) {
			return nil, err
		}
	}
	if err := rt.opts.Store.Insert(ctx, env); err != nil {
		if errors.Is(err, state.ErrDuplicateKey) {
			// Lost a race with the same key: answer as above.
			if prev, perr := rt.opts.Store.ByIdempotencyKey(ctx, env.Identity.IdempotencyKey); perr == nil && prev.RequestHash == env.RequestHash {
				return prev, nil
			}
			return nil, ErrIdempotencyConflict
		}
		return nil, err
	}
	recs := []evidence.Record{rt.rec("action.submitted", submittedData(env))}
	r1, err := rt.transition(ctx, env, action.PolicyPending, "")
	if err != nil {
		return nil, err
	}
	dec := rt.opts.Policy.Decide(policy.Input{Request: &env.Request, Manifest: m, Recovery: rt.opts.Recovery})
	rt.applyDecision(env, dec)
	to := map[policy.Effect]action.State{policy.Allow: action.Approved, policy.RequireApproval: action.ApprovalPending, policy.Deny: action.PolicyDenied}[dec.Effect]
	r2, err := rt.transition(ctx, env, to, dec.ReasonCode)
	if err != nil {
		return nil, err
	}
	recs = append(recs, r1, rt.rec("policy.decision", dec), r2)
	if err := rt.commit(ctx, env, action.Created, recs...); err != nil {
		return nil, err
	}
	return env, nil
}

func (rt *Runtime) applyDecision(env *action.Envelope, dec policy.Decision) {
	env.Execution.Decision = string(dec.Effect)
	env.Execution.ReasonCode = dec.ReasonCode
	env.Execution.PolicyDecisionID = dec.ID
	env.Execution.PolicyVersion = dec.Version
}

func submittedData(env *action.Envelope) map[string]any {
	target := any(env.Request.Target)
	if len(env.Request.Target) > 16<<10 {
		target = map[string]any{"omitted_bytes": len(env.Request.Target), "note": "target too large to copy; the request hash covers it"}
	}
	d := map[string]any{
		"action": env.Request.Action, "target": target, "request_hash": env.RequestHash,
		"subject": env.Request.Subject, "risk": env.Request.Risk, "verification": env.Request.Verification,
		"dry_run": env.Request.DryRun, "class": env.Execution.Class,
	}
	if env.Identity.ParentActionID != "" {
		d["parent_action_id"] = env.Identity.ParentActionID
	}
	if env.Request.Undo != nil {
		d["undo_of"] = env.Request.Undo.Of
	}
	if len(env.Execution.Preview) > 0 {
		d["preview"] = env.Execution.Preview
	}
	return d
}

// Reject records a refusal that happened before submission (a model's
// call that named no action or failed validation), so that every refusal
// is in the evidence.
func (rt *Runtime) Reject(ctx context.Context, sub Submission, code string, err error) {
	rt.reject(ctx, sub, code, err)
}

// reject records a submission refused before an envelope existed, so that
// every refusal is in the evidence.
func (rt *Runtime) reject(ctx context.Context, sub Submission, code string, err error) {
	data := map[string]any{"action": sub.Draft.Action, "code": code, "error": err.Error(), "subject": sub.Subject, "tainted": sub.Draft.Tainted}
	raw, _ := json.Marshal(data)
	rt.opts.Evidence.Append(ctx, evidence.Record{Type: "action.rejected", CorrelationID: sub.Draft.CorrelationID, Subject: sub.Subject.String(), Data: raw})
}

// Approve records a human's approval of exactly requestHash and moves the
// action to APPROVED. AI subjects cannot approve.
func (rt *Runtime) Approve(ctx context.Context, id string, approver identity.Subject, requestHash string) (*action.Envelope, error) {
	env, err := rt.opts.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !approver.IsHuman() {
		rt.appendFor(ctx, env, rt.rec("approval.refused", map[string]any{"approver": approver, "reason": "approver is not a human"}))
		return nil, ErrNotHuman
	}
	if env.Execution.State != action.ApprovalPending {
		return nil, fmt.Errorf("%w: %s is %s", ErrWrongState, id, env.Execution.State)
	}
	if err := rt.checkHash(env); err != nil {
		return nil, err
	}
	if requestHash != env.RequestHash {
		rt.appendFor(ctx, env, rt.rec("approval.refused", map[string]any{"approver": approver, "reason": "request hash mismatch", "offered": requestHash}))
		return nil, ErrHashMismatch
	}
	now := rt.now()
	a := state.Approval{ID: ids.New(ids.Approval, now), ActionID: id, RequestHash: requestHash, Approver: approver.ID, CreatedAt: now, ExpiresAt: now.Add(rt.opts.ApprovalTTL)}
	if err := rt.opts.Store.InsertApproval(ctx, a); err != nil {
		return nil, err
	}
	env.Execution.ApprovalID = a.ID
	rec, err := rt.transition(ctx, env, action.Approved, "approved_by_human")
	if err != nil {
		return nil, err
	}
	granted := rt.rec("approval.granted", map[string]any{"approval_id": a.ID, "approver": approver, "request_hash": requestHash, "expires_at": a.ExpiresAt})
	if err := rt.commit(ctx, env, action.ApprovalPending, granted, rec); err != nil {
		return nil, err
	}
	return env, nil
}

// Refuse records a human's refusal; the action ends POLICY_DENIED.
func (rt *Runtime) Refuse(ctx context.Context, id string, approver identity.Subject, reason string) (*action.Envelope, error) {
	env, err := rt.opts.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !approver.IsHuman() {
		return nil, ErrNotHuman
	}
	if env.Execution.State != action.ApprovalPending {
		return nil, fmt.Errorf("%w: %s is %s", ErrWrongState, id, env.Execution.State)
	}
	env.Execution.ReasonCode = "refused_by_human"
	rec, err := rt.transition(ctx, env, action.PolicyDenied, "refused_by_human")
	if err != nil {
		return nil, err
	}
	refused := rt.rec("approval.refused", map[string]any{"approver": approver, "reason": reason})
	if err := rt.commit(ctx, env, action.ApprovalPending, refused, rec); err != nil {
		return nil, err
	}
	return env, nil
}

func (rt *Runtime) checkHash(env *action.Envelope) error {
	h, err := env.Request.Hash()
	if err != nil {
		return err
	}
	if h != env.RequestHash {
		return fmt.Errorf("action %s: stored request no longer matches its hash (changed after submission)", env.Identity.ActionID)
	}
	return nil
}

// Undo submits a new envelope that restores the recorded pre-state of a
// SUCCEEDED action; its parent is the original.
func (rt *Runtime) Undo(ctx context.Context, id string, subject identity.Subject) (*action.Envelope, error) {
	orig, err := rt.opts.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	entry, ok := rt.reg.Catalog().Lookup(orig.Request.Action)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAction, orig.Request.Action)
	}
	m := entry.Manifest
	switch {
	case orig.Execution.State != action.Succeeded:
		return nil, fmt.Errorf("%w: %s is %s; only a SUCCEEDED action can be undone", ErrCannotUndo, id, orig.Execution.State)
	case m.Rollback == action.RollbackNone:
		note := m.RollbackNote
		if note == "" {
			note = "the effect cannot be reversed"
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrCannotUndo, m.Name, note)
	case len(orig.Execution.PreState) == 0:
		return nil, fmt.Errorf("%w: %s recorded no pre-state (nothing changed)", ErrCannotUndo, id)
	}
	return rt.Submit(ctx, Submission{
		Subject: subject,
		Draft: action.Draft{
			Action: orig.Request.Action, Target: orig.Request.Target,
			Reason: "undo " + id, CorrelationID: orig.Identity.CorrelationID,
		},
		Undo:   &action.Undo{Of: id, PreState: orig.Execution.PreState},
		Parent: id,
	})
}

// rec makes an evidence record with data.
func (rt *Runtime) rec(typ string, data any) evidence.Record {
	raw, err := json.Marshal(data)
	if err != nil {
		raw, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
	}
	return evidence.Record{Type: typ, Data: raw}
}

// transition moves env to `to` in memory and returns the evidence record
// for it. An illegal transition is refused and itself recorded.
func (rt *Runtime) transition(ctx context.Context, env *action.Envelope, to action.State, reason string) (evidence.Record, error) {
	from := env.Execution.State
	if !action.CanTransition(from, to) {
		err := &action.IllegalTransitionError{ActionID: env.Identity.ActionID, From: from, To: to}
		rt.appendFor(ctx, env, rt.rec("action.illegal_transition", map[string]any{"from": from, "to": to, "reason": reason}))
		return evidence.Record{}, err
	}
	env.Execution.State = to
	data := map[string]any{"from": from, "to": to}
	if reason != "" {
		data["reason"] = reason
	}
	return rt.rec("action.transition", data), nil
}

// commit stores env (compare-and-set from its previous state) and then
// appends the records. The store is written first so that a crash can
// never leave an action that evidence says ran but the store would run
// again.
func (rt *Runtime) commit(ctx context.Context, env *action.Envelope, from action.State, recs ...evidence.Record) error {
	now := rt.now()
	for i := range recs {
		recs[i].ID = ids.New(ids.Evidence, now)
		recs[i].Time = now
		env.Execution.Evidence = append(env.Execution.Evidence, recs[i].ID)
	}
	env.Execution.UpdatedAt = now
	if err := rt.opts.Store.Update(ctx, env, from); err != nil {
		return err
	}
	return rt.appendFor(ctx, env, recs...)
}

func (rt *Runtime) appendFor(ctx context.Context, env *action.Envelope, recs ...evidence.Record) error {
	for i := range recs {
		recs[i].ActionID = env.Identity.ActionID
		recs[i].CorrelationID = env.Identity.CorrelationID
		recs[i].Subject = env.Request.Subject.String()
	}
	if _, err := rt.opts.Evidence.Append(context.WithoutCancel(ctx), recs...); err != nil {
		return fmt.Errorf("record evidence: %w", err)
	}
	return nil
}
