// Package shell owns shell.run: one program, given as an argv array (never
// a string for a shell to interpret), run under Landlock and seccomp with a
// timeout and capped output. It is always high risk, and its effects cannot
// be undone.
package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/platform/sandbox"
	"github.com/noema-project/noema/verify"
)

// Options configure the shell adapter.
type Options struct {
	// Home is the default working directory.
	Home string
	// MaxOutput caps stdout and stderr each (default 64 KiB).
	MaxOutput int64
	// MaxTimeout bounds any run (default 10 min).
	MaxTimeout time.Duration
}

// Module is the shell adapter.
type Module struct{ opts Options }

// New returns the shell module.
func New(opts Options) *Module {
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = 64 << 10
	}
	if opts.MaxTimeout <= 0 {
		opts.MaxTimeout = 10 * time.Minute
	}
	return &Module{opts: opts}
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler { return []adapter.Handler{&runH{m}} }

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober { return nil }

type runTarget struct {
	Argv           []string `json:"argv"`
	Cwd            string   `json:"cwd,omitempty"`
	TimeoutSeconds int      `json:"timeout_seconds,omitempty"`
}

type runH struct{ m *Module }

func (h *runH) Manifest() action.Manifest {
	return action.Manifest{
		Name: "shell.run", Title: "Run a program",
		Description: "Run one program with an argument list (no shell), sandboxed with Landlock and seccomp: it may write only in its working folder, with a timeout and capped output.",
		Schema: adapter.Schema([]string{"argv"}, map[string]any{
			"argv":            map[string]any{"type": "array", "minItems": 1, "maxItems": 4096, "items": map[string]any{"type": "string"}},
			"cwd":             map[string]any{"type": "string"},
			"timeout_seconds": map[string]any{"type": "integer", "minimum": 1, "maximum": 3600},
		}),
		Risk:         action.Risk{Destructive: true},
		Verification: "the program exited with status 0",
		Rollback:     action.RollbackNone, RollbackNote: "a program's effects cannot be undone by Noema",
		PathFields: []string{"cwd", "argv"},
		Utterances: []string{"run {argv}", "(run|execute) [the] (command|program|script) {argv}", "execute {argv}"},
		Examples:   []action.Example{{Text: "run ls -l", Target: json.RawMessage(`{"argv":["ls","-l"]}`)}},
		Owner:      "shell",
	}
}

func (h *runH) target(req *action.Request) (runTarget, error) {
	var t runTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	if len(t.Argv) == 0 || t.Argv[0] == "" {
		return t, fmt.Errorf("shell.run: argv is empty")
	}
	for _, a := range t.Argv {
		if strings.ContainsRune(a, 0) {
			return t, fmt.Errorf("shell.run: argument contains a NUL byte")
		}
	}
	if t.Cwd == "" {
		t.Cwd = h.m.opts.Home
	}
	if !filepath.IsAbs(t.Cwd) {
		return t, fmt.Errorf("shell.run: cwd %q is not absolute", t.Cwd)
	}
	return t, nil
}

func (h *runH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := h.target(req)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: "program", New: quoteArgv(t.Argv), Note: "may write in " + t.Cwd + "; cannot be undone"}}, nil
}

func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`|&;<>(){}*?[]#~") {
			q[i] = fmt.Sprintf("%q", a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

func (h *runH) Verification(req *action.Request) (verify.Spec, error) {
	t, err := h.target(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("file.exists", verify.PathArgs{Path: t.Cwd, Kind: "dir"}), nil
}

func (h *runH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	t, err := h.target(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	timeout := h.m.opts.MaxTimeout
	if t.TimeoutSeconds > 0 && time.Duration(t.TimeoutSeconds)*time.Second < timeout {
		timeout = time.Duration(t.TimeoutSeconds) * time.Second
	}
	tmp, err := os.MkdirTemp("", "noema-run-")
	if err != nil {
		return adapter.Outcome{}, err
	}
	defer os.RemoveAll(tmp)
	env := append(sandbox.DefaultEnv(), "TMPDIR="+tmp)
	res, err := sandbox.Run(ctx, sandbox.Spec{
		Argv: t.Argv, Dir: t.Cwd, Env: env, Timeout: timeout,
		MaxOutput: h.m.opts.MaxOutput, Writable: []string{t.Cwd, tmp},
	})
	if err != nil {
		return adapter.Outcome{}, err
	}
	result := map[string]any{
		"exit_code": res.ExitCode, "stdout": text(res.Stdout), "stderr": text(res.Stderr),
		"stdout_truncated": res.StdoutTruncated, "stderr_truncated": res.StderrTruncated,
		"timed_out": res.TimedOut, "ms": res.Duration.Milliseconds(), "landlock": res.Landlock, "seccomp": res.Seccomp,
	}
	if res.Signal != "" {
		result["signal"] = res.Signal
	}
	observed := any(res.ExitCode)
	if res.TimedOut {
		observed = "timed out"
	}
	return adapter.Outcome{
		Result:       result,
		Verification: verify.Probe("value.equals", verify.ValueArgs{Name: "exit status", Observed: observed, Expected: 0}),
	}, nil
}

func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "�")
}
