package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/policy"
	"github.com/noema-project/noema/state"
	"github.com/noema-project/noema/verify"
)

// Run queues an APPROVED action and waits until it reaches a final state
// (or goes back to APPROVAL_PENDING because its approval lapsed).
func (rt *Runtime) Run(ctx context.Context, id string) (*action.Envelope, error) {
	env, err := rt.opts.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if env.Execution.State != action.Approved && env.Execution.State != action.Queued {
		return nil, fmt.Errorf("%w: %s is %s, not APPROVED", ErrWrongState, id, env.Execution.State)
	}
	if env.Request.DryRun != action.Live {
		return env, nil
	}
	if env.Execution.State == action.Approved {
		rec, err := rt.transition(ctx, env, action.Queued, "")
		if err != nil {
			return nil, err
		}
		if err := rt.commit(ctx, env, action.Approved, rec); err != nil {
			return nil, err
		}
	}
	j := rt.push(env)
	select {
	case <-j.done:
		return j.env, j.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-rt.stop:
		return nil, ErrClosed
	}
}

func (rt *Runtime) push(env *action.Envelope) *job {
	rt.mu.Lock()
	if j, ok := rt.active[env.Identity.ActionID]; ok {
		rt.mu.Unlock()
		return j
	}
	j := &job{id: env.Identity.ActionID, done: make(chan struct{})}
	rt.active[j.id] = j
	rt.mu.Unlock()
	class := env.Execution.Class
	if _, ok := rt.queues[class]; !ok {
		class = action.Background
	}
	// Sent without the lock: a full queue makes the caller wait for a
	// worker, and a worker needs the lock to finish a job.
	rt.queues[class] <- j
	select {
	case rt.wake <- struct{}{}:
	default:
	}
	return j
}

// next takes work by priority: interactive, then agent, then background.
func (rt *Runtime) next() (*job, bool) {
	for {
		for _, c := range []action.Class{action.Interactive, action.Agent, action.Background} {
			select {
			case j := <-rt.queues[c]:
				return j, true
			default:
			}
		}
		select {
		case <-rt.stop:
			return nil, false
		case <-rt.wake:
		case <-time.After(time.Second):
		}
	}
}

func (rt *Runtime) worker() {
	defer rt.wg.Done()
	for {
		j, ok := rt.next()
		if !ok {
			return
		}
		// Work runs to completion once started, even while stopping: an
		// effect half done and unrecorded is worse than a slow stop.
		j.env, j.err = rt.dispatch(context.Background(), j.id)
		rt.mu.Lock()
		delete(rt.active, j.id)
		rt.mu.Unlock()
		close(j.done)
		select {
		case rt.wake <- struct{}{}:
		default:
		}
	}
}

// dispatch runs one QUEUED action through the pre-dispatch re-check,
// execution, verification and, when verification fails, rollback.
func (rt *Runtime) dispatch(ctx context.Context, id string) (*action.Envelope, error) {
	env, err := rt.opts.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if env.Execution.State != action.Queued {
		return env, nil
	}
	h, ok := rt.reg.Handler(env.Request.Action)
	entry, eok := rt.reg.Catalog().Lookup(env.Request.Action)
	if !ok || !eok {
		return rt.deny(ctx, env, "unknown_action", policy.Decision{})
	}
	m := entry.Manifest

	// Pre-dispatch re-check: the request is byte-for-byte what was
	// decided and approved, the decision still holds under the current
	// policy set, and the approval is consumed exactly once.
	if err := rt.checkHash(env); err != nil {
		return rt.deny(ctx, env, "request_hash_mismatch", policy.Decision{})
	}
	effect := policy.Effect(env.Execution.Decision)
	var recs []evidence.Record
	if env.Execution.PolicyVersion != rt.opts.Policy.Version() {
		dec := rt.opts.Policy.Decide(policy.Input{Request: &env.Request, Manifest: &m, Recovery: rt.opts.Recovery})
		recs = append(recs, rt.rec("policy.decision", dec))
		prevApproval := env.Execution.ApprovalID
		rt.applyDecision(env, dec)
		effect = dec.Effect
		if effect == policy.Deny {
			return rt.deny(ctx, env, "policy_changed", dec, recs...)
		}
		if effect == policy.RequireApproval && prevApproval == "" {
			return rt.backToApproval(ctx, env, "policy_changed", recs...)
		}
	}
	if effect == policy.RequireApproval || env.Execution.ApprovalID != "" {
		if env.Execution.ApprovalID == "" {
			return rt.backToApproval(ctx, env, "approval_missing", recs...)
		}
		ok, err := rt.opts.Store.ConsumeApproval(ctx, env.Execution.ApprovalID, env.Identity.ActionID, env.RequestHash, rt.now())
		if err != nil {
			return nil, err
		}
		if !ok {
			recs = append(recs, rt.rec("approval.invalid", map[string]any{"approval_id": env.Execution.ApprovalID, "reason": "expired, already used, or for another request"}))
			env.Execution.ApprovalID = ""
			return rt.backToApproval(ctx, env, "approval_expired", recs...)
		}
		recs = append(recs, rt.rec("approval.consumed", map[string]any{"approval_id": env.Execution.ApprovalID}))
	}

	// EXECUTING is durable before the adapter runs.
	env.Execution.Attempts++
	rec, err := rt.transition(ctx, env, action.Executing, "")
	if err != nil {
		return nil, err
	}
	if err := rt.commit(ctx, env, action.Queued, append(recs, rec)...); err != nil {
		return nil, err
	}
	start := time.Now()
	out, execErr := rt.execute(ctx, h, &env.Request)
	elapsed := time.Since(start)
	if execErr != nil {
		env.Execution.Error = &action.ErrorInfo{Code: "adapter_error", Message: execErr.Error()}
		if out.PreState != nil {
			env.Execution.PreState = mustJSON(out.PreState)
		}
		errRec := rt.rec("action.error", map[string]any{"code": "adapter_error", "error": execErr.Error(), "ms": elapsed.Milliseconds()})
		rec, err := rt.transition(ctx, env, action.Failed, "adapter_error")
		if err != nil {
			return nil, err
		}
		if err := rt.commit(ctx, env, action.Executing, errRec, rec); err != nil {
			return nil, err
		}
		if len(env.Execution.PreState) > 0 && m.Reversible() {
			return rt.rollback(ctx, env, h)
		}
		return env, nil
	}
	env.Execution.Result = mustJSON(out.Result)
	if out.PreState != nil {
		env.Execution.PreState = mustJSON(out.PreState)
	}
	execRec := rt.rec("action.executed", map[string]any{"result": json.RawMessage(env.Execution.Result), "ms": elapsed.Milliseconds()})
	rec, err = rt.transition(ctx, env, action.Verifying, "")
	if err != nil {
		return nil, err
	}
	if err := rt.commit(ctx, env, action.Executing, execRec, rec); err != nil {
		return nil, err
	}

	spec := verify.AllOf(env.Request.Verification, out.Verification)
	res := rt.verify(ctx, spec)
	env.Execution.Verification = &res
	verRec := rt.rec("verification.result", res)
	if res.Passed() {
		rec, err := rt.transition(ctx, env, action.Succeeded, "verified")
		if err != nil {
			return nil, err
		}
		if err := rt.commit(ctx, env, action.Verifying, verRec, rec); err != nil {
			return nil, err
		}
		if env.Request.Undo != nil {
			rt.markUndone(ctx, env)
		}
		return env, nil
	}
	env.Execution.Error = &action.ErrorInfo{Code: "verification_failed", Message: verifyMessage(res)}
	rec, err = rt.transition(ctx, env, action.Failed, "verification_"+string(res.Status))
	if err != nil {
		return nil, err
	}
	if err := rt.commit(ctx, env, action.Verifying, verRec, rec); err != nil {
		return nil, err
	}
	if m.Reversible() && len(env.Execution.PreState) > 0 {
		return rt.rollback(ctx, env, h)
	}
	return env, nil
}

func verifyMessage(r verify.Result) string {
	for _, c := range r.Children {
		if !c.Passed() {
			return verifyMessage(c)
		}
	}
	msg := string(r.Status)
	if r.Probe != "" {
		msg += " " + r.Probe
	}
	if r.Detail != "" {
		msg += ": " + r.Detail
	}
	return msg
}

// execute calls the adapter with a timeout, turning a panic into an error.
func (rt *Runtime) execute(ctx context.Context, h adapter.Handler, req *action.Request) (out adapter.Outcome, err error) {
	ctx, cancel := context.WithTimeout(ctx, rt.opts.ExecTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("adapter panicked: %v", r)
		}
	}()
	out, err = h.Execute(ctx, req)
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("adapter timed out after %v", rt.opts.ExecTimeout)
	}
	return out, err
}

func (rt *Runtime) verify(ctx context.Context, spec verify.Spec) verify.Result {
	ctx, cancel := context.WithTimeout(ctx, rt.opts.VerifyTimeout)
	defer cancel()
	return rt.reg.Verifier().Run(ctx, spec)
}

// rollback restores the recorded pre-state of a FAILED action and proves
// it; the action ends ROLLED_BACK or ROLLBACK_FAILED.
func (rt *Runtime) rollback(ctx context.Context, env *action.Envelope, h adapter.Handler) (*action.Envelope, error) {
	undo := env.Request
	undo.Undo = &action.Undo{Of: env.Identity.ActionID, PreState: env.Execution.PreState}
	var res verify.Result
	_, err := rt.execute(ctx, h, &undo)
	if err == nil {
		spec, serr := h.Verification(&undo)
		if serr != nil {
			err = serr
		} else {
			res = rt.verify(ctx, spec)
		}
	}
	to, data := action.RolledBack, map[string]any{"verification": res}
	if err != nil || !res.Passed() {
		to = action.RollbackFailed
		if err != nil {
			data["error"] = err.Error()
		}
	}
	rec, terr := rt.transition(ctx, env, to, "automatic_rollback")
	if terr != nil {
		return nil, terr
	}
	if err := rt.commit(ctx, env, action.Failed, rt.rec("action.rollback", data), rec); err != nil {
		return nil, err
	}
	return env, nil
}

// markUndone moves the original of a successful undo to ROLLED_BACK.
func (rt *Runtime) markUndone(ctx context.Context, undo *action.Envelope) {
	orig, err := rt.opts.Store.Get(ctx, undo.Request.Undo.Of)
	if err != nil || orig.Execution.State != action.Succeeded {
		return
	}
	orig.Execution.UndoneBy = undo.Identity.ActionID
	rec, err := rt.transition(ctx, orig, action.RolledBack, "undone by "+undo.Identity.ActionID)
	if err != nil {
		return
	}
	rt.commit(ctx, orig, action.Succeeded, rec)
}

func (rt *Runtime) deny(ctx context.Context, env *action.Envelope, code string, dec policy.Decision, recs ...evidence.Record) (*action.Envelope, error) {
	from := env.Execution.State
	env.Execution.ReasonCode = code
	env.Execution.Decision = string(policy.Deny)
	rec, err := rt.transition(ctx, env, action.PolicyDenied, code)
	if err != nil {
		return nil, err
	}
	if err := rt.commit(ctx, env, from, append(recs, rec)...); err != nil {
		return nil, err
	}
	return env, nil
}

func (rt *Runtime) backToApproval(ctx context.Context, env *action.Envelope, code string, recs ...evidence.Record) (*action.Envelope, error) {
	from := env.Execution.State
	env.Execution.Decision = string(policy.RequireApproval)
	env.Execution.ReasonCode = code
	rec, err := rt.transition(ctx, env, action.ApprovalPending, code)
	if err != nil {
		return nil, err
	}
	if err := rt.commit(ctx, env, from, append(recs, rec)...); err != nil {
		return nil, err
	}
	return env, nil
}

func mustJSON(v any) json.RawMessage {
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
	}
	return b
}

// Get loads an action.
func (rt *Runtime) Get(ctx context.Context, id string) (*action.Envelope, error) {
	return rt.opts.Store.Get(ctx, id)
}

// List lists actions newest first.
func (rt *Runtime) List(ctx context.Context, f state.Filter) ([]*action.Envelope, error) {
	return rt.opts.Store.List(ctx, f)
}
