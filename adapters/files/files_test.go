package files_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/files"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/trash"
)

func setup(t *testing.T) (*pipelinetest.Pipeline, string) {
	home := t.TempDir()
	tr, err := trash.New(trash.Options{DataHome: filepath.Join(home, ".local", "share")})
	if err != nil {
		t.Fatal(err)
	}
	m := files.New(files.Options{Home: home, CheckpointDir: filepath.Join(t.TempDir(), "cp"), Trash: tr})
	return pipelinetest.New(t, pipelinetest.Options{}, m), home
}

func j(v any) string { b, _ := json.Marshal(v); return string(b) }

func read(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

func TestWriteUndoRedo(t *testing.T) {
	p, home := setup(t)
	f := filepath.Join(home, "todo.txt")
	os.WriteFile(f, []byte("v1"), 0o600)
	env := p.Do(t, "fs.write", j(map[string]string{"path": f, "content": "v2"}))
	pipelinetest.RequireState(t, env, action.Succeeded)
	if read(t, f) != "v2" {
		t.Fatal("not written")
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode changed to %v", st.Mode().Perm())
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if read(t, f) != "v1" {
		t.Fatalf("undo left %q", read(t, f))
	}
	// The undo is itself undoable (redo).
	r := p.Undo(t, u.Identity.ActionID)
	pipelinetest.RequireState(t, r, action.Succeeded)
	if read(t, f) != "v2" {
		t.Fatalf("redo left %q", read(t, f))
	}
	// A new file: undo removes it.
	g := filepath.Join(home, "new.txt")
	env = p.Do(t, "fs.write", j(map[string]string{"path": g, "content": "x"}))
	pipelinetest.RequireState(t, p.Undo(t, env.Identity.ActionID), action.Succeeded)
	if _, err := os.Stat(g); err == nil {
		t.Fatal("undo of a create left the file")
	}
	p.Verify(t)
}

func TestMoveCopyDeleteUndo(t *testing.T) {
	p, home := setup(t)
	a, b := filepath.Join(home, "a.txt"), filepath.Join(home, "b.txt")
	os.WriteFile(a, []byte("A"), 0o644)
	mv := p.Do(t, "fs.move", j(map[string]string{"from": a, "to": b}))
	pipelinetest.RequireState(t, mv, action.Succeeded)
	if read(t, b) != "A" || read(t, a) != "<missing>" {
		t.Fatal("move")
	}
	pipelinetest.RequireState(t, p.Undo(t, mv.Identity.ActionID), action.Succeeded)
	if read(t, a) != "A" || read(t, b) != "<missing>" {
		t.Fatal("undo move")
	}
	// Copy over an existing file: checkpointed, and undo restores it.
	os.WriteFile(b, []byte("old B"), 0o644)
	cp := p.Do(t, "fs.copy", j(map[string]string{"from": a, "to": b}))
	pipelinetest.RequireState(t, cp, action.Succeeded)
	if read(t, b) != "A" {
		t.Fatal("copy")
	}
	pipelinetest.RequireState(t, p.Undo(t, cp.Identity.ActionID), action.Succeeded)
	if read(t, b) != "old B" {
		t.Fatalf("undo copy left %q", read(t, b))
	}
	// Copy a folder into a folder.
	src := filepath.Join(home, "proj")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "x"), []byte("x"), 0o644)
	dst := filepath.Join(home, "backup")
	os.Mkdir(dst, 0o755)
	cp = p.Do(t, "fs.copy", j(map[string]string{"from": src, "to": dst}))
	pipelinetest.RequireState(t, cp, action.Succeeded)
	if read(t, filepath.Join(dst, "proj", "sub", "x")) != "x" {
		t.Fatal("folder copy")
	}
	// Delete needs approval (destructive); it goes to the trash and undo
	// restores it.
	del := p.Do(t, "fs.delete", j(map[string]string{"path": a}))
	pipelinetest.RequireState(t, del, action.Succeeded)
	if del.Execution.Decision != "REQUIRE_APPROVAL" {
		t.Fatalf("delete decision %s", del.Execution.Decision)
	}
	if read(t, a) != "<missing>" {
		t.Fatal("delete")
	}
	pipelinetest.RequireState(t, p.Undo(t, del.Identity.ActionID), action.Succeeded)
	if read(t, a) != "A" {
		t.Fatal("undo delete")
	}
	p.Verify(t)
}

func TestReadIsVerifiedAndSecretsFlagged(t *testing.T) {
	p, home := setup(t)
	f := filepath.Join(home, "notes.md")
	os.WriteFile(f, []byte("# hi\n"), 0o644)
	env := p.Do(t, "fs.read", j(map[string]string{"path": f}))
	pipelinetest.RequireState(t, env, action.Succeeded)
	var res struct{ Content string }
	json.Unmarshal(env.Execution.Result, &res)
	if res.Content != "# hi\n" {
		t.Fatalf("content %q", res.Content)
	}
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	key := filepath.Join(home, ".ssh", "id_ed25519")
	os.WriteFile(key, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600)
	env = p.Do(t, "fs.read", j(map[string]string{"path": key}))
	if !env.Request.Risk.SecretAccess || env.Execution.Decision != "REQUIRE_APPROVAL" {
		t.Fatalf("reading a private key: risk %+v decision %s", env.Request.Risk, env.Execution.Decision)
	}
	// Writing outside the home folder is privileged.
	outside := filepath.Join(t.TempDir(), "x")
	e, _, err := p.Runtime.Assess(t.Context(), runtimeSubmission(p, "fs.write", j(map[string]string{"path": "/etc/noema-test", "content": "x"})))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Request.Risk.Privileged {
		t.Fatalf("writing /etc is not privileged: %+v", e.Request.Risk)
	}
	_ = outside
}

func TestMissingSourceFails(t *testing.T) {
	p, home := setup(t)
	env := p.Do(t, "fs.move", j(map[string]string{"from": filepath.Join(home, "nope"), "to": filepath.Join(home, "x")}))
	pipelinetest.RequireState(t, env, action.Failed)
	if env.Execution.Error == nil {
		t.Fatal("no error recorded")
	}
}
