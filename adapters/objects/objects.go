// Package objects owns the actions on AIOS-FS, Noema's object store of
// the user's files: fs.search (ranked search over indexed files),
// fs.history (a file's versions), fs.rollback (restore an earlier
// version, proven by content hash, undoable), fs.tag (set tags, undoable)
// and fs.open (open a file in the desktop's default application).
//
// The store is opened on first use, so listing the catalog costs nothing.
// Rollback and history need no model and no daemon.
package objects

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/objfs"
	"github.com/noema-project/noema/verify"
)

// Options configure the module.
type Options struct {
	// Store configures the object store (Dir is required to use it).
	Store objfs.Options
	// Home is the user's home folder; rolling back or tagging files
	// outside it is privileged.
	Home string
	// Openers are the argv prefixes fs.open tries in order; the first
	// whose program is installed opens the file (default: xdg-open, then
	// gio open).
	Openers [][]string
	// LookPath finds programs (default exec.LookPath).
	LookPath func(string) (string, error)
}

// Module is the objects adapter.
type Module struct {
	opts Options

	mu sync.Mutex
	st *objfs.Store
}

// New returns the module.
func New(opts Options) *Module {
	if len(opts.Openers) == 0 {
		opts.Openers = [][]string{{"xdg-open"}, {"gio", "open"}}
	}
	return &Module{opts: opts}
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{&searchH{m}, &historyH{m}, &rollbackH{m}, &tagH{m}, &openH{m}}
}

// Store opens the object store on first use.
func (m *Module) Store(ctx context.Context) (*objfs.Store, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st != nil {
		return m.st, nil
	}
	if m.opts.Store.Dir == "" {
		return nil, fmt.Errorf("the object store has no folder configured")
	}
	st, err := objfs.Open(ctx, m.opts.Store)
	if err != nil {
		return nil, err
	}
	m.st = st
	return st, nil
}

// Close closes the store if it was opened.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st == nil {
		return nil
	}
	err := m.st.Close()
	m.st = nil
	return err
}

// absPath checks that a target path is absolute and clean (the CLI and
// the translator resolve relative paths before submitting).
func absPath(field, p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%s is empty", field)
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%s contains a NUL byte", field)
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%s %q is not absolute", field, p)
	}
	return filepath.Clean(p), nil
}

// risk flags paths outside the home folder as privileged and paths that
// hold credentials as secret access.
func (m *Module) risk(base action.Risk, path string) action.Risk {
	r := base
	if path == "" {
		return r
	}
	p := filepath.Clean(path)
	if m.opts.Home != "" && p != m.opts.Home && !strings.HasPrefix(p, m.opts.Home+"/") && !strings.HasPrefix(p, os.TempDir()+"/") {
		r.Privileged = true
	}
	if secretPath(p) {
		r.SecretAccess = true
	}
	return r
}

func secretPath(p string) bool {
	for _, d := range []string{"/.ssh/", "/.gnupg/", "/.password-store/", "/.aws/", "/.kube/", "/.docker/", "/.pki/", "/keyrings/"} {
		if strings.Contains(p+"/", d) {
			return true
		}
	}
	base := filepath.Base(p)
	switch base {
	case ".netrc", "shadow", "gshadow", ".pgpass", "id_rsa", "id_ed25519", "id_ecdsa", ".git-credentials", "credentials.json":
		return true
	}
	return strings.HasSuffix(base, ".key") || strings.HasSuffix(base, ".pem")
}

func pathSchema(desc string, extra map[string]any) map[string]any {
	props := map[string]any{"path": map[string]any{"type": "string", "minLength": 1, "maxLength": 4096, "description": desc}}
	for k, v := range extra {
		props[k] = v
	}
	return props
}

// Probes implements adapter.Module: each reads the store back.
func (m *Module) Probes() map[string]verify.Prober {
	return map[string]verify.Prober{
		"objfs.current":  verify.ProberFunc(m.probeCurrent),
		"objfs.tags":     verify.ProberFunc(m.probeTags),
		"objfs.versions": verify.ProberFunc(m.probeVersions),
		"objfs.object":   verify.ProberFunc(m.probeObject),
	}
}
