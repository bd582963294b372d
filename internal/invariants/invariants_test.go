package invariants

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/files"
	"github.com/noema-project/noema/adapters/shell"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/trash"
	"github.com/noema-project/noema/policy"
	"github.com/noema-project/noema/runtime"
)

func filesModule(t *testing.T, home string) *files.Module {
	tr, err := trash.New(trash.Options{DataHome: filepath.Join(home, ".local", "share")})
	if err != nil {
		t.Fatal(err)
	}
	return files.New(files.Options{Home: home, CheckpointDir: filepath.Join(t.TempDir(), "checkpoints"), Trash: tr})
}

func target(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// Invariant 1: AI proposes, never executes. An AI subject's action with
// any risk flag needs approval even where a human's would be allowed, and
// only a human can approve it.
func TestInvariant1AIProposesHumanApproves(t *testing.T) {
	home := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, filesModule(t, home))
	ai := identity.Agent("test-model", "test")
	ctx := context.Background()

	// Unflagged: same decision as a human (ALLOW).
	path := filepath.Join(home, "a.txt")
	env, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: ai, Draft: action.Draft{Action: "fs.write", Target: target(map[string]string{"path": path, "content": "x"})}})
	if err != nil {
		t.Fatal(err)
	}
	pipelinetest.RequireState(t, env, action.Approved)

	// Tainted (untrusted text in the model's context): a risk flag, so a
	// human must approve.
	env, err = p.Runtime.Submit(ctx, runtime.Submission{Subject: ai, Draft: action.Draft{Action: "fs.write", Tainted: true, Target: target(map[string]string{"path": path, "content": "y"})}})
	if err != nil {
		t.Fatal(err)
	}
	pipelinetest.RequireState(t, env, action.ApprovalPending)

	// Custom policy that ALLOWs deletes for everyone: still approval for AI.
	allowAll := []policy.Source{{Name: "user.cedar", Text: `
@id("noema.default.approve-flagged") permit(principal, action, resource) when { false };
@id("everything") permit(principal, action, resource);`}}
	p2 := pipelinetest.New(t, pipelinetest.Options{Policies: allowAll}, filesModule(t, home))
	os.WriteFile(path, []byte("z"), 0o644)
	del := action.Draft{Action: "fs.delete", Target: target(map[string]string{"path": path})}
	_, dec, err := p2.Runtime.Assess(ctx, runtime.Submission{Subject: p2.Human, Draft: del})
	if err != nil {
		t.Fatal(err)
	}
	if dec.Effect != policy.Allow {
		t.Fatalf("with the approval policy removed a human's delete should be allowed, got %s", dec.Effect)
	}
	env, err = p2.Runtime.Submit(ctx, runtime.Submission{Subject: ai, Draft: del})
	if err != nil {
		t.Fatal(err)
	}
	pipelinetest.RequireState(t, env, action.ApprovalPending)
	if env.Execution.ReasonCode != policy.CodeAIRisk {
		t.Fatalf("reason %s, want %s", env.Execution.ReasonCode, policy.CodeAIRisk)
	}
	// An AI cannot approve, and cannot run what is not approved.
	if _, err := p2.Runtime.Approve(ctx, env.Identity.ActionID, ai, env.RequestHash); !errors.Is(err, runtime.ErrNotHuman) {
		t.Fatalf("AI approval: %v", err)
	}
	if _, err := p2.Runtime.Run(ctx, env.Identity.ActionID); !errors.Is(err, runtime.ErrWrongState) {
		t.Fatalf("running an unapproved action: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal("the file was deleted without a human's approval")
	}
	// A human can.
	done := p2.Drive(t, env, true)
	pipelinetest.RequireState(t, done, action.Succeeded)
	// The submission path cannot be fooled by a body claiming a subject.
	if _, err := action.DecodeDraft([]byte(`{"action":"fs.delete","target":{"path":"/x"},"subject":{"kind":"human","id":"uid:0","is_ai":false}}`)); err == nil {
		t.Fatal("a draft carrying its own subject was accepted")
	}
}

// Invariant 2: default deny. No matching policy, policy errors and missing
// data all deny.
func TestInvariant2DefaultDeny(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	// Replace every shipped permit with one that never matches.
	none := []policy.Source{{Name: "user.cedar", Text: `
@id("noema.default.allow-unflagged") permit(principal, action, resource) when { false };
@id("noema.default.approve-flagged") permit(principal, action, resource) when { false };
@id("noema.default.approve-packages") permit(principal, action, resource) when { false };`}}
	p := pipelinetest.New(t, pipelinetest.Options{Policies: none}, filesModule(t, home))
	_, dec, err := p.Runtime.Assess(ctx, runtime.Submission{Subject: p.Human, Draft: action.Draft{Action: "fs.write", Target: target(map[string]string{"path": filepath.Join(home, "x"), "content": "x"})}})
	if err != nil {
		t.Fatal(err)
	}
	if dec.Effect != policy.Deny || dec.ReasonCode != policy.CodeNoPolicy {
		t.Fatalf("no matching policy: %s %s", dec.Effect, dec.ReasonCode)
	}
	// A policy that errors (missing attribute) denies, even though another
	// policy permits.
	broken := []policy.Source{{Name: "user.cedar", Text: `permit(principal, action, resource) when { resource.no_such_field == "x" };`}}
	p2 := pipelinetest.New(t, pipelinetest.Options{Policies: broken}, filesModule(t, home))
	_, dec, _ = p2.Runtime.Assess(ctx, runtime.Submission{Subject: p2.Human, Draft: action.Draft{Action: "fs.write", Target: target(map[string]string{"path": filepath.Join(home, "x"), "content": "x"})}})
	if dec.Effect != policy.Deny || dec.ReasonCode != policy.CodePolicyError {
		t.Fatalf("policy error: %s %s", dec.Effect, dec.ReasonCode)
	}
	// Missing data denies.
	k := policy.New(mustCompile(t), policy.Protected{}, nil)
	if d := k.Decide(policy.Input{}); d.Effect != policy.Deny {
		t.Fatalf("missing data: %s", d.Effect)
	}
	if d := k.Decide(policy.Input{Request: &action.Request{Action: "fs.read", Target: json.RawMessage(`{}`)}, Manifest: &action.Manifest{Name: "fs.read"}}); d.Effect != policy.Deny {
		t.Fatalf("no subject: %s", d.Effect)
	}
}

func mustCompile(t *testing.T) *policy.Set {
	s, err := policy.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Invariant 3: an approval is for one request hash, single use, and
// expires.
func TestInvariant3ApprovalBindsToRequest(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	p := pipelinetest.New(t, pipelinetest.Options{Clock: func() time.Time { return clock() }, ApprovalTTL: time.Minute}, filesModule(t, home))
	path := filepath.Join(home, "doomed.txt")
	os.WriteFile(path, []byte("keep me"), 0o644)
	submit := func() *action.Envelope {
		env, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: action.Draft{Action: "fs.delete", Target: target(map[string]string{"path": path})}})
		if err != nil {
			t.Fatal(err)
		}
		pipelinetest.RequireState(t, env, action.ApprovalPending)
		return env
	}
	env := submit()
	// One byte different: refused.
	bad := []byte(env.RequestHash)
	bad[0] ^= 1
	if _, err := p.Runtime.Approve(ctx, env.Identity.ActionID, p.Human, string(bad)); !errors.Is(err, runtime.ErrHashMismatch) {
		t.Fatalf("approval for another hash: %v", err)
	}
	// Approved, then the stored request changes by one byte: the
	// pre-dispatch re-hash refuses it.
	env, err := p.Runtime.Approve(ctx, env.Identity.ActionID, p.Human, env.RequestHash)
	if err != nil {
		t.Fatal(err)
	}
	env.Request.Target = target(map[string]string{"path": path + "x"})
	if err := p.Store.Update(ctx, env, action.Approved); err != nil {
		t.Fatal(err)
	}
	env, err = p.Runtime.Run(ctx, env.Identity.ActionID)
	if err != nil {
		t.Fatal(err)
	}
	pipelinetest.RequireState(t, env, action.PolicyDenied)
	if env.Execution.ReasonCode != "request_hash_mismatch" {
		t.Fatalf("reason %s", env.Execution.ReasonCode)
	}
	// Expiry: approve, let the clock pass the TTL, run → back to pending.
	env = submit()
	env, _ = p.Runtime.Approve(ctx, env.Identity.ActionID, p.Human, env.RequestHash)
	clock = func() time.Time { return now.Add(2 * time.Minute) }
	env, err = p.Runtime.Run(ctx, env.Identity.ActionID)
	if err != nil {
		t.Fatal(err)
	}
	pipelinetest.RequireState(t, env, action.ApprovalPending)
	if _, err := os.Stat(path); err != nil {
		t.Fatal("the file was deleted on an expired approval")
	}
	// Single use: consuming the same approval twice fails.
	clock = func() time.Time { return now }
	env, _ = p.Runtime.Approve(ctx, env.Identity.ActionID, p.Human, env.RequestHash)
	ok, err := p.Store.ConsumeApproval(ctx, env.Execution.ApprovalID, env.Identity.ActionID, env.RequestHash, now)
	if !ok || err != nil {
		t.Fatalf("first consume: %v %v", ok, err)
	}
	ok, _ = p.Store.ConsumeApproval(ctx, env.Execution.ApprovalID, env.Identity.ActionID, env.RequestHash, now)
	if ok {
		t.Fatal("an approval was consumed twice")
	}
	// The runtime, finding it used, asks again instead of executing.
	env, _ = p.Runtime.Run(ctx, env.Identity.ActionID)
	pipelinetest.RequireState(t, env, action.ApprovalPending)
	if _, err := os.Stat(path); err != nil {
		t.Fatal("the file was deleted on a used approval")
	}
}

// Invariant 4: SUCCEEDED only after verification PASSED; a failed or
// skipped verification is not success, and the effect is rolled back.
func TestInvariant4NoProofNoSuccess(t *testing.T) {
	dir := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, &liar{dir: dir})
	env := p.Do(t, "test.write", `{"name":"f","content":"right"}`)
	if env.Execution.State == action.Succeeded {
		t.Fatal("an effect that verification disproved was called SUCCEEDED")
	}
	pipelinetest.RequireState(t, env, action.RolledBack)
	if env.Execution.Error == nil || env.Execution.Error.Code != "verification_failed" {
		t.Fatalf("error = %+v", env.Execution.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); err == nil {
		t.Fatal("the disproved effect was not rolled back")
	}
	// Skipped verification is not success either.
	env = p.Do(t, "test.write", `{"name":"g","content":"x","skip":true}`)
	if env.Execution.State == action.Succeeded {
		t.Fatal("an action with no verification was called SUCCEEDED")
	}
	if env.Execution.Verification == nil || env.Execution.Verification.Status != "SKIPPED" {
		t.Fatalf("verification = %+v", env.Execution.Verification)
	}
	p.Verify(t)
}

// Invariant 5: evidence is append-only and tamper-evident, and secrets
// never enter it. (Byte-level tampering is covered exhaustively in the
// evidence package; here: no API edits or deletes, and a secret in a
// request never reaches the folder.)
func TestInvariant5EvidenceAppendOnly(t *testing.T) {
	typ := reflect.TypeOf(&evidence.Log{})
	for i := 0; i < typ.NumMethod(); i++ {
		name := strings.ToLower(typ.Method(i).Name)
		for _, verb := range []string{"delete", "remove", "edit", "update", "truncate", "rewrite", "set", "put"} {
			if strings.Contains(name, verb) {
				t.Errorf("evidence.Log has method %s", typ.Method(i).Name)
			}
		}
	}
	home := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, filesModule(t, home))
	secret := "password=Tr0ub4dor&3 and sk-abcdefghijklmnopqrstuvwxyz123456"
	env := p.Do(t, "fs.write", string(target(map[string]string{"path": filepath.Join(home, "creds.txt"), "content": secret})))
	pipelinetest.RequireState(t, env, action.Succeeded)
	p.Verify(t)
	var all []byte
	ents, _ := os.ReadDir(filepath.Join(p.Home, "evidence"))
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(p.Home, "evidence", e.Name()))
		all = append(all, b...)
	}
	for _, s := range []string{"Tr0ub4dor", "sk-abcdefghijklmnop"} {
		if strings.Contains(string(all), s) {
			t.Fatalf("secret %q reached the evidence folder", s)
		}
	}
}

// Invariant 7: adapters take typed parameters only. No action's target has
// a free-form command string, and shell.run takes an argv array.
func TestInvariant7TypedParametersOnly(t *testing.T) {
	home := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, filesModule(t, home), shell.New(shell.Options{Home: home}))
	for _, m := range p.Registry.Catalog().All() {
		var s struct {
			Properties map[string]struct {
				Type any `json:"type"`
			} `json:"properties"`
		}
		json.Unmarshal(m.Schema, &s)
		for name, prop := range s.Properties {
			lname := strings.ToLower(name)
			if (lname == "command" || lname == "cmd" || lname == "script" || lname == "shell") && prop.Type == "string" {
				t.Errorf("%s takes a free-form %s string", m.Name, name)
			}
		}
	}
	ctx := context.Background()
	for _, bad := range []string{`{"argv":"ls -l"}`, `{"command":"ls -l"}`, `{"argv":[]}`} {
		if _, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: action.Draft{Action: "shell.run", Target: json.RawMessage(bad)}}); err == nil {
			t.Errorf("shell.run accepted %s", bad)
		}
	}
	env := p.Do(t, "shell.run", string(target(map[string]any{"argv": []string{"echo", "a; rm -rf ~"}, "cwd": home})))
	pipelinetest.RequireState(t, env, action.Succeeded)
	var res struct{ Stdout string }
	json.Unmarshal(env.Execution.Result, &res)
	if res.Stdout != "a; rm -rf ~\n" {
		t.Fatalf("argv was interpreted: %q", res.Stdout)
	}
	if !env.Request.Risk.Destructive {
		t.Fatal("shell.run is not high risk")
	}
}

// Hard denies cannot be lifted by policy, approval or --yes.
func TestHardDeniesCannotBeLifted(t *testing.T) {
	home := t.TempDir()
	noemaHome := filepath.Join(home, ".local", "share", "noema")
	prot := policy.Protected{Home: home, NoemaHome: noemaHome, Sealed: []string{filepath.Join(noemaHome, "evidence"), filepath.Join(noemaHome, "keys")}}
	permitAll := []policy.Source{{Name: "user.cedar", Text: `
@id("noema.default.approve-flagged") permit(principal, action, resource) when { false };
@id("everything") permit(principal, action, resource);`}}
	p := pipelinetest.New(t, pipelinetest.Options{Policies: permitAll, Protected: &prot}, filesModule(t, home), shell.New(shell.Options{Home: home}))
	ctx := context.Background()
	cases := []struct{ act, tgt string }{
		{"fs.delete", `{"path":"/"}`},
		{"fs.delete", `{"path":"/home"}`},
		{"fs.delete", string(target(map[string]string{"path": home}))},
		{"fs.move", `{"from":"/etc","to":"/tmp/etc"}`},
		{"fs.delete", `{"path":"/usr"}`},
		{"fs.delete", `{"path":"/boot"}`},
		{"fs.delete", string(target(map[string]string{"path": noemaHome}))},
		{"fs.write", string(target(map[string]string{"path": filepath.Join(noemaHome, "evidence", "seg-00000001.log"), "content": "x"}))},
		{"fs.write", string(target(map[string]string{"path": filepath.Join(noemaHome, "keys", "evidence.key"), "content": "x"}))},
		{"fs.read", string(target(map[string]string{"path": filepath.Join(noemaHome, "keys", "evidence.key")}))},
		{"shell.run", `{"argv":["sudo","id"]}`},
		{"shell.run", `{"argv":["rm","-rf","/"]}`},
		{"shell.run", string(target(map[string]any{"argv": []string{"rm", "-rf", ".."}, "cwd": home}))},
	}
	for _, c := range cases {
		env, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: action.Draft{Action: c.act, Target: json.RawMessage(c.tgt)}})
		if err != nil {
			t.Fatalf("%s %s: %v", c.act, c.tgt, err)
		}
		if env.Execution.State != action.PolicyDenied || env.Execution.ReasonCode != policy.CodeHardDeny {
			t.Errorf("%s %s: %s %s, want a hard deny", c.act, c.tgt, env.Execution.State, env.Execution.ReasonCode)
		}
		if _, err := p.Runtime.Approve(ctx, env.Identity.ActionID, p.Human, env.RequestHash); err == nil {
			t.Errorf("%s %s: a hard deny was approved", c.act, c.tgt)
		}
	}
}

// Every transition is recorded; an illegal one is refused and recorded too.
func TestIllegalTransitionsRefusedAndRecorded(t *testing.T) {
	home := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, filesModule(t, home))
	env := p.Do(t, "fs.write", string(target(map[string]string{"path": filepath.Join(home, "n.txt"), "content": "1"})))
	pipelinetest.RequireState(t, env, action.Succeeded)
	// Approving a finished action is refused.
	if _, err := p.Runtime.Approve(context.Background(), env.Identity.ActionID, p.Human, env.RequestHash); !errors.Is(err, runtime.ErrWrongState) {
		t.Fatalf("approve after success: %v", err)
	}
	recs := p.Records(t, env.Identity.ActionID)
	var states []string
	for _, r := range recs {
		if r.Type == "action.transition" {
			var d struct{ To string }
			json.Unmarshal(r.Data, &d)
			states = append(states, d.To)
		}
	}
	want := "POLICY_PENDING APPROVED QUEUED EXECUTING VERIFYING SUCCEEDED"
	if strings.Join(states, " ") != want {
		t.Fatalf("transitions %v, want %s", states, want)
	}
	if !action.CanTransition(action.Succeeded, action.RolledBack) || action.CanTransition(action.Succeeded, action.Executing) {
		t.Fatal("transition table is wrong")
	}
}

// Idempotency: same key and request returns the same action; same key and
// another request fails with IdempotencyConflict.
func TestIdempotencyKeys(t *testing.T) {
	home := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, filesModule(t, home))
	ctx := context.Background()
	d := action.Draft{Action: "fs.write", IdempotencyKey: "k1", Target: target(map[string]string{"path": filepath.Join(home, "i.txt"), "content": "1"})}
	a, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: d})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: d})
	if err != nil || b.Identity.ActionID != a.Identity.ActionID {
		t.Fatalf("resubmission: %v %s vs %s", err, b.Identity.ActionID, a.Identity.ActionID)
	}
	d.Target = target(map[string]string{"path": filepath.Join(home, "i.txt"), "content": "2"})
	if _, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: d}); !errors.Is(err, runtime.ErrIdempotencyConflict) {
		t.Fatalf("conflict: %v", err)
	}
	found := false
	for _, r := range p.Records(t, "") {
		if r.Type == "action.rejected" && strings.Contains(string(r.Data), "idempotency_conflict") {
			found = true
		}
	}
	if !found {
		t.Fatal("the conflict was not recorded")
	}
}

// Crash recovery: an action found EXECUTING at start-up becomes FAILED
// with crash_recovered; a QUEUED one resumes.
func TestCrashRecovery(t *testing.T) {
	home := t.TempDir()
	p := pipelinetest.New(t, pipelinetest.Options{}, filesModule(t, home))
	ctx := context.Background()
	mk := func(name string) *action.Envelope {
		env, err := p.Runtime.Submit(ctx, runtime.Submission{Subject: p.Human, Draft: action.Draft{Action: "fs.write", Target: target(map[string]string{"path": filepath.Join(home, name), "content": name})}})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	// Simulate a process that died mid-execution and one that died with
	// work queued, by writing those states as a crashed process would.
	exec := mk("exec.txt")
	exec.Execution.State = action.Executing
	if err := p.Store.Update(ctx, exec, action.Approved); err != nil {
		t.Fatal(err)
	}
	queued := mk("queued.txt")
	queued.Execution.State = action.Queued
	if err := p.Store.Update(ctx, queued, action.Approved); err != nil {
		t.Fatal(err)
	}
	rt2 := runtime.New(runtime.Options{Registry: p.Registry, Policy: policy.New(mustCompile(t), policy.Protected{}, nil), Store: p.Store, Evidence: p.Evidence})
	if err := rt2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer rt2.Stop()
	got, _ := p.Store.Get(ctx, exec.Identity.ActionID)
	if got.Execution.State != action.Failed || !got.Execution.CrashRecovered {
		t.Fatalf("EXECUTING after a crash became %s crash_recovered=%v", got.Execution.State, got.Execution.CrashRecovered)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ = p.Store.Get(ctx, queued.Identity.ActionID)
		if got.Execution.State == action.Succeeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("QUEUED action did not resume: %s", got.Execution.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "queued.txt")); string(b) != "queued.txt" {
		t.Fatal("resumed action had no effect")
	}
}
