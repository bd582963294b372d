package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

// openTimeout bounds the opener itself (xdg-open hands the file to the
// application and exits).
const openTimeout = 20 * time.Second

type openH struct{ m *Module }

func (h *openH) Manifest() action.Manifest {
	return action.Manifest{
		Name:  "fs.open",
		Title: "Open a file",
		Description: "Open a document in the desktop's default application for its type (xdg-open, or gio open), " +
			"started with an argv, never a shell. Programs, scripts and .desktop launchers are refused: use " +
			"desktop.app.launch or shell.run for those.",
		Schema:       adapter.Schema([]string{"path"}, pathSchema("the file to open", nil)),
		Verification: "the file exists and the opener handed it over (exit status 0)",
		Rollback:     action.RollbackNone,
		RollbackNote: "Noema cannot close the window an application opened; close it yourself",
		PathFields:   []string{"path"},
		Utterances: []string{
			"open [the] (file|document) {path}",
			"(open|view) {path} [in the default (app|application|viewer)]",
			"(show|bring up) [the] (document|file) {path} [on screen]",
			"(launch|open up) {path} in its (app|application|viewer)",
		},
		Examples: []action.Example{
			{Text: "open the file report.pdf", Target: json.RawMessage(`{"path":"report.pdf"}`)},
			{Text: "view slides/intro.odp", Target: json.RawMessage(`{"path":"slides/intro.odp"}`)},
		},
		Aliases: []string{"open file", "open document", "view file", "xdg-open"},
		Owner:   "objects",
	}
}

func (h *openH) Risk(req *action.Request) action.Risk {
	var t pathTarget
	adapter.DecodeTarget(req, &t)
	r := h.m.risk(h.Manifest().Risk, t.Path)
	r.Privileged = false // viewing a file elsewhere changes nothing
	return r
}

func (h *openH) path(req *action.Request) (string, error) {
	var t pathTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return "", err
	}
	return absPath("path", t.Path)
}

func (h *openH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	p, err := h.path(req)
	if err != nil {
		return nil, err
	}
	argv, err := h.opener()
	note := "opened with " + strings.Join(argv, " ")
	if err != nil {
		note = err.Error()
	}
	return []action.Change{{Subject: p, Note: note}}, nil
}

func (h *openH) Verification(req *action.Request) (verify.Spec, error) {
	p, err := h.path(req)
	if err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("file.exists", verify.PathArgs{Path: p, Kind: "file"}), nil
}

// opener returns the first installed opener's argv prefix.
func (h *openH) opener() ([]string, error) {
	look := h.m.opts.LookPath
	if look == nil {
		look = exec.LookPath
	}
	var tried []string
	for _, o := range h.m.opts.Openers {
		if len(o) == 0 {
			continue
		}
		tried = append(tried, o[0])
		if p, err := look(o[0]); err == nil {
			return append([]string{p}, o[1:]...), nil
		}
	}
	return nil, fmt.Errorf("no program to open files with is installed (looked for %s); open it yourself", strings.Join(tried, ", "))
}

// refuse names files fs.open will not hand to an opener: anything that
// would run code rather than show a document.
func refuse(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o111 != 0 {
		return fmt.Errorf("%s is executable; fs.open only opens documents", path)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".desktop", ".sh", ".bash", ".run", ".appimage", ".jar", ".exe", ".bat", ".cmd", ".py", ".pl":
		return fmt.Errorf("%s is a program or launcher; fs.open only opens documents", filepath.Base(path))
	}
	return nil
}

func (h *openH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	p, err := h.path(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if err := refuse(p); err != nil {
		return adapter.Outcome{}, fmt.Errorf("fs.open: %w", err)
	}
	argv, err := h.opener()
	if err != nil {
		return adapter.Outcome{}, fmt.Errorf("fs.open: %w", err)
	}
	argv = append(argv, p)
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		return adapter.Outcome{}, fmt.Errorf("fs.open: run %s: %w", argv[0], err)
	}
	msg := strings.TrimSpace(string(out))
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if code != 0 {
		return adapter.Outcome{}, fmt.Errorf("fs.open: %s exited with status %d: %s", filepath.Base(argv[0]), code, msg)
	}
	return adapter.Outcome{
		Result: map[string]any{"path": p, "opener": argv[:len(argv)-1]},
		// The opener's exit status is observed once and cannot be re-read.
		Verification: verify.Probe("value.equals", verify.ValueArgs{Name: "opener exit status", Observed: code, Expected: 0}),
	}, nil
}
