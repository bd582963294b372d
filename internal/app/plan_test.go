package app

import (
	"encoding/json"
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
