package invariants

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noema-project/noema/internal/cli"
)

// runInteractive runs noema with a person at the terminal typing input.
func (c *cliEnv) runInteractive(input string, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	cwd, _ := os.Getwd()
	env := cli.Env{Stdin: strings.NewReader(input), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, Cwd: cwd, Interactive: true}
	code := cli.Run(context.Background(), env, args)
	return out.String(), errb.String(), code
}

// The approval prompt shows the typed effect and defaults to No.
func TestApprovalPromptDefaultsToNo(t *testing.T) {
	c := newCLIEnv(t)
	f := filepath.Join(os.Getenv("HOME"), "keep.txt")
	os.WriteFile(f, []byte("precious"), 0o644)
	out, prompt, code := c.runInteractive("\n", "do", "fs.delete", "path="+f)
	if code != 3 {
		t.Fatalf("declined at the prompt: exit %d, want 3\n%s%s", code, out, prompt)
	}
	if !strings.Contains(prompt, "Approve? [y/N]") || !strings.Contains(prompt, f+": file, 8 bytes → in the trash") {
		t.Fatalf("prompt does not show the typed effect:\n%s", prompt)
	}
	if _, err := os.Stat(f); err != nil {
		t.Fatal("deleted although the answer was the default (No)")
	}
	_, _, code = c.runInteractive("y\n", "do", "fs.delete", "path="+f)
	if code != 0 {
		t.Fatalf("approved at the prompt: exit %d", code)
	}
	if _, err := os.Stat(f); err == nil {
		t.Fatal("not deleted after approval")
	}
}

// Output from adapters cannot put escape sequences on the terminal.
func TestNoEscapeSequencesFromAdapters(t *testing.T) {
	c := newCLIEnv(t)
	dir := t.TempDir()
	evil := filepath.Join(dir, "evil.txt")
	os.WriteFile(evil, []byte("\x1b]0;owned\x07\x1b[2J\x1b[31mred\u202ereversed\n"), 0o644)
	out, code := c.run("do", "--yes", "fs.read", "path="+evil)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Fatalf("raw control characters reached the terminal: %q", out)
	}
	if !strings.Contains(out, `\x1b[31mred`) {
		t.Fatalf("content not shown escaped: %q", out)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	for _, want := range []string{"SUCCEEDED", "act_", "fs.read", "[human]", "decision ALLOW", "evidence ev_"} {
		if !strings.Contains(first, want) {
			t.Fatalf("action line %q lacks %q", first, want)
		}
	}
}
