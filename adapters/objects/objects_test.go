package objects_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/objects"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/objfs"
	"github.com/noema-project/noema/runtime"
)

type fixture struct {
	p    *pipelinetest.Pipeline
	m    *objects.Module
	home string
}

func setup(t *testing.T, opts objects.Options) *fixture {
	t.Helper()
	home := t.TempDir()
	opts.Home = home
	opts.Store = objfs.Options{Dir: filepath.Join(t.TempDir(), "objfs"), Home: home}
	m := objects.New(opts)
	t.Cleanup(func() { m.Close() })
	return &fixture{p: pipelinetest.New(t, pipelinetest.Options{}, m), m: m, home: home}
}

func (f *fixture) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(f.home, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) index(t *testing.T) {
	t.Helper()
	st, err := f.m.Store(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Index(context.Background(), []string{f.home}, objfs.IndexOptions{}); err != nil {
		t.Fatal(err)
	}
}

func j(v any) string { b, _ := json.Marshal(v); return string(b) }

func read(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

func result(t *testing.T, env *action.Envelope) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(env.Execution.Result, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRollbackUndoRedo(t *testing.T) {
	f := setup(t, objects.Options{})
	todo := f.write(t, "todo.txt", "v1 milk\n")
	f.index(t)
	f.write(t, "todo.txt", "v2 milk eggs\n")
	f.index(t)
	f.write(t, "todo.txt", "v3 milk eggs bread\n")
	f.index(t)
	env := f.p.Do(t, "fs.rollback", j(map[string]any{"path": todo, "steps": 2}))
	pipelinetest.RequireState(t, env, action.Succeeded)
	if read(todo) != "v1 milk\n" {
		t.Fatalf("rollback left %q", read(todo))
	}
	if len(env.Execution.Preview) != 1 || !strings.Contains(env.Execution.Preview[0].New, "version 1") {
		t.Fatalf("preview %+v", env.Execution.Preview)
	}
	if v := env.Execution.Verification; v == nil || !strings.Contains(j(v), "file.hash") || !strings.Contains(j(v), "objfs.current") {
		t.Fatalf("verification %s", j(v))
	}
	u := f.p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if read(todo) != "v3 milk eggs bread\n" {
		t.Fatalf("undo left %q", read(todo))
	}
	r := f.p.Undo(t, u.Identity.ActionID)
	pipelinetest.RequireState(t, r, action.Succeeded)
	if read(todo) != "v1 milk\n" {
		t.Fatalf("redo left %q", read(todo))
	}
	f.p.Verify(t)
	if recs := f.p.Records(t, env.Identity.ActionID); len(recs) == 0 {
		t.Fatal("no evidence for the rollback")
	}
}

func TestRollbackRefusedOrRolledBack(t *testing.T) {
	f := setup(t, objects.Options{})
	ctx := context.Background()
	// No history: the submission is refused with the reason.
	_, err := f.p.Runtime.Submit(ctx, runtime.Submission{Subject: f.p.Human, Draft: action.Draft{Action: "fs.rollback", Target: []byte(j(map[string]any{"path": filepath.Join(f.home, "none.txt")}))}})
	if err == nil || !strings.Contains(err.Error(), "no history") {
		t.Fatalf("rollback of an unknown file: %v", err)
	}
	// The file changes between approval and execution: what was approved
	// is no longer what "two steps back" means, verification fails, and
	// the change is rolled back. The edit is kept as a version.
	doc := f.write(t, "doc.txt", "a")
	f.index(t)
	f.write(t, "doc.txt", "ab")
	f.index(t)
	f.write(t, "doc.txt", "abc")
	f.index(t)
	env, err := f.p.Runtime.Submit(ctx, runtime.Submission{Subject: f.p.Human, Draft: action.Draft{Action: "fs.rollback", Target: []byte(j(map[string]any{"path": doc, "steps": 2}))}})
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, "doc.txt", "abcd (edited after approval)")
	env = f.p.Drive(t, env, true)
	if env.Execution.State != action.RolledBack || env.Execution.Error == nil || env.Execution.Error.Code != "verification_failed" {
		t.Fatalf("state %s, error %+v", env.Execution.State, env.Execution.Error)
	}
	if read(doc) != "abcd (edited after approval)" {
		t.Fatalf("the automatic rollback left %q", read(doc))
	}
	st, _ := f.m.Store(ctx)
	if vs, _ := st.Versions(ctx, doc); len(vs) != 4 || vs[0].Origin != "rollback" {
		t.Fatalf("the edit was not kept as a version: %+v", vs)
	}
	f.p.Verify(t)
}

func TestSearchAndHistory(t *testing.T) {
	f := setup(t, objects.Options{})
	f.write(t, "ml.txt", "Notes on machine learning: gradient descent and neural networks.")
	f.write(t, "bread.txt", "Sourdough needs a lively starter and a long proof.")
	f.index(t)
	env := f.p.Do(t, "fs.search", `{"query":"neural networks","limit":3}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	res := result(t, env)
	hits := res["results"].([]any)
	if len(hits) != 1 || res["untrusted"] != true {
		t.Fatalf("search result %v", res)
	}
	if hit := hits[0].(map[string]any); !strings.HasSuffix(hit["path"].(string), "ml.txt") || hit["version"] == "" {
		t.Fatalf("hit %v", hit)
	}
	if !strings.Contains(j(env.Execution.Verification), "objfs.versions") {
		t.Fatalf("search not verified by read-back: %s", j(env.Execution.Verification))
	}
	env = f.p.Do(t, "fs.history", j(map[string]string{"path": filepath.Join(f.home, "ml.txt")}))
	pipelinetest.RequireState(t, env, action.Succeeded)
	if vs := result(t, env)["versions"].([]any); len(vs) != 1 || vs[0].(map[string]any)["current"] != true {
		t.Fatalf("history %v", vs)
	}
	env = f.p.Do(t, "fs.history", j(map[string]string{"path": filepath.Join(f.home, "nope.txt")}))
	pipelinetest.RequireState(t, env, action.Failed)
	if !strings.Contains(env.Execution.Error.Message, "no history") {
		t.Fatalf("error %+v", env.Execution.Error)
	}
	if env := f.p.Do(t, "fs.search", `{"query":"zzzz"}`); env.Execution.State != action.Succeeded {
		t.Fatalf("empty search: %s", env.Execution.State)
	}
	f.p.Verify(t)
}

func TestTagUndo(t *testing.T) {
	f := setup(t, objects.Options{})
	lease := f.write(t, "lease.txt", "tenant and landlord agree")
	// Not indexed yet: tagging versions it first.
	env := f.p.Do(t, "fs.tag", j(map[string]any{"path": lease, "tags": []string{"Housing", "contracts", "housing"}}))
	pipelinetest.RequireState(t, env, action.Succeeded)
	st, _ := f.m.Store(context.Background())
	if tags, _ := st.UserTags(context.Background(), lease); strings.Join(tags, ",") != "contracts,housing" {
		t.Fatalf("tags %v", tags)
	}
	env2 := f.p.Do(t, "fs.tag", j(map[string]any{"path": lease, "tags": []string{"2026"}}))
	pipelinetest.RequireState(t, env2, action.Succeeded)
	pipelinetest.RequireState(t, f.p.Undo(t, env2.Identity.ActionID), action.Succeeded)
	if tags, _ := st.UserTags(context.Background(), lease); strings.Join(tags, ",") != "contracts,housing" {
		t.Fatalf("after undo: %v", tags)
	}
	pipelinetest.RequireState(t, f.p.Undo(t, env.Identity.ActionID), action.Succeeded)
	if tags, _ := st.UserTags(context.Background(), lease); len(tags) != 0 {
		t.Fatalf("after second undo: %v", tags)
	}
	f.p.Verify(t)
}

func TestTagOutsideHomeNeedsApproval(t *testing.T) {
	f := setup(t, objects.Options{})
	env, err := f.p.Runtime.Submit(context.Background(), runtime.Submission{Subject: f.p.Human,
		Draft: action.Draft{Action: "fs.tag", Target: []byte(`{"path":"/etc/hostname","tags":["x"]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if env.Execution.State != action.ApprovalPending || !env.Request.Risk.Privileged {
		t.Fatalf("tagging outside home: %s %+v", env.Execution.State, env.Request.Risk)
	}
}

func TestOpen(t *testing.T) {
	// The real openers: with no desktop session here they exit non-zero,
	// which must be FAILED with their message, never SUCCEEDED.
	f := setup(t, objects.Options{})
	doc := f.write(t, "report.txt", "quarterly report")
	env := f.p.Do(t, "fs.open", j(map[string]string{"path": doc}))
	switch env.Execution.State {
	case action.Succeeded:
		if !strings.Contains(j(env.Execution.Verification), "opener exit status") {
			t.Fatalf("success without the exit status check: %s", j(env.Execution.Verification))
		}
	case action.Failed:
		if msg := env.Execution.Error.Message; !strings.Contains(msg, "exited with status") && !strings.Contains(msg, "no program to open") {
			t.Fatalf("unclear failure: %s", msg)
		}
	default:
		t.Fatalf("state %s", env.Execution.State)
	}
	// No opener installed: an honest refusal.
	f2 := setup(t, objects.Options{Openers: [][]string{{"noema-no-such-opener"}}})
	doc2 := f2.write(t, "x.txt", "x")
	env = f2.p.Do(t, "fs.open", j(map[string]string{"path": doc2}))
	pipelinetest.RequireState(t, env, action.Failed)
	if !strings.Contains(env.Execution.Error.Message, "no program to open files") {
		t.Fatalf("error %+v", env.Execution.Error)
	}
	// Programs are not opened.
	script := f2.write(t, "run.sh", "#!/bin/sh\n")
	os.Chmod(script, 0o755)
	env = f2.p.Do(t, "fs.open", j(map[string]string{"path": script}))
	pipelinetest.RequireState(t, env, action.Failed)
	if !strings.Contains(env.Execution.Error.Message, "executable") {
		t.Fatalf("error %+v", env.Execution.Error)
	}
}

// TestOpenPlumbing uses /bin/true as the opener: no desktop session can
// open a file in this environment, so this proves the argv and the exit
// status check, not a real viewer.
func TestOpenPlumbing(t *testing.T) {
	truth, err := exec.LookPath("true")
	if err != nil {
		t.Skip("needs true(1)")
	}
	f := setup(t, objects.Options{Openers: [][]string{{truth}}})
	doc := f.write(t, "a.pdf", "%PDF-1.4")
	env := f.p.Do(t, "fs.open", j(map[string]string{"path": doc}))
	pipelinetest.RequireState(t, env, action.Succeeded)
	f.p.Verify(t)
}

func TestManifests(t *testing.T) {
	m := objects.New(objects.Options{})
	names := map[string]bool{}
	for _, h := range m.Handlers() {
		mf := h.Manifest()
		names[mf.Name] = true
		if len(mf.Utterances) < 3 || len(mf.Examples) < 2 || mf.Owner != "objects" || mf.Verification == "" {
			t.Errorf("%s: manifest incomplete", mf.Name)
		}
		if mf.Rollback == action.RollbackNone && mf.RollbackNote == "" {
			t.Errorf("%s: no note on why it cannot be undone", mf.Name)
		}
	}
	for _, n := range []string{"fs.search", "fs.history", "fs.rollback", "fs.tag", "fs.open"} {
		if !names[n] {
			t.Errorf("%s missing", n)
		}
	}
}
