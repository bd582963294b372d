package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestAbsolutize checks how path fields are made absolute: against the
// working folder, "~" against the home folder, other fields untouched.
func TestAbsolutize(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"path":"notes.txt","n":1}`, `{"n":1,"path":"/work/notes.txt"}`},
		{`{"path":"~"}`, `{"path":"/home/ann"}`},
		{`{"path":"~/docs/plan.pdf"}`, `{"path":"/home/ann/docs/plan.pdf"}`},
		{`{"path":"/etc/hosts"}`, `{"path":"/etc/hosts"}`},
		{`{"path":"~bob/x"}`, `{"path":"~bob/x"}`},
	}
	for _, c := range cases {
		got, err := Absolutize(json.RawMessage(c.in), []string{"path"}, "/work", "/home/ann")
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s (%v), want %s", c.in, got, err, c.want)
		}
	}
	// Without a known home, "~/…" stays as said, for the adapter to refuse.
	if got, _ := Absolutize(json.RawMessage(`{"path":"~/x"}`), []string{"path"}, "/work", ""); string(got) != `{"path":"~/x"}` {
		t.Errorf("no home: %s", got)
	}
	if _, err := Absolutize(json.RawMessage(`not json`), []string{"path"}, "/work", "/home/ann"); err == nil {
		t.Error("a target that is not JSON was accepted")
	}
}

// TestSystemLookups checks the unit and program lookups the translator
// uses to tell services and commands from applications.
func TestSystemLookups(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, ".config", "systemd", "user")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "syncer.service"), []byte("[Service]\nExecStart=/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	units := unitExists(home)
	for name, want := range map[string]bool{"syncer": true, "syncer.service": true, "no-such-unit-x": false, "../syncer": false, "": false} {
		if got := units(name); got != want {
			t.Errorf("unit %q: %v, want %v", name, got, want)
		}
	}
	if !commandExists("sh") || commandExists("no-such-program-x") || commandExists("/bin/sh") {
		t.Error("program lookup is wrong")
	}
}
