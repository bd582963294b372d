// Package files owns the fs.* actions on the user's files: read, write,
// move, copy and delete (to the freedesktop trash). Every change is
// checkpointed first, so undo puts back exactly the bytes that were there,
// and every effect is verified by content hash or presence.
package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/internal/blobstore"
	"github.com/noema-project/noema/internal/platform/trash"
	"github.com/noema-project/noema/verify"
)

// Options configure the files adapter.
type Options struct {
	// Home is the user's home folder; paths outside it are privileged.
	Home string
	// CheckpointDir keeps the content an action replaced.
	CheckpointDir string
	// Trash receives deleted files.
	Trash *trash.Trash
	// MaxRead caps fs.read results (default 1 MiB).
	MaxRead int64
}

// Module is the files adapter.
type Module struct {
	opts  Options
	blobs *blobstore.Store
}

// New returns the files module.
func New(opts Options) *Module {
	if opts.MaxRead <= 0 {
		opts.MaxRead = 1 << 20
	}
	return &Module{opts: opts, blobs: blobstore.New(opts.CheckpointDir)}
}

// Handlers implements adapter.Module.
func (m *Module) Handlers() []adapter.Handler {
	return []adapter.Handler{&readH{m}, &writeH{m}, &moveH{m}, &copyH{m}, &deleteH{m}}
}

// Probes implements adapter.Module.
func (m *Module) Probes() map[string]verify.Prober { return nil }

// absPath checks that p is an absolute, clean path.
func absPath(field, p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%s is empty", field)
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%s %q is not absolute", field, p)
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%s contains a NUL byte", field)
	}
	return filepath.Clean(p), nil
}

// risk flags paths outside the home folder as privileged and paths that
// hold credentials as secret access.
func (m *Module) risk(base action.Risk, paths ...string) action.Risk {
	r := base
	for _, p := range paths {
		if p == "" {
			continue
		}
		p = filepath.Clean(p)
		if m.opts.Home != "" && p != m.opts.Home && !strings.HasPrefix(p, m.opts.Home+"/") && !strings.HasPrefix(p, os.TempDir()+"/") {
			r.Privileged = true
		}
		if secretPath(p) {
			r.SecretAccess = true
		}
	}
	return r
}

var secretDirs = []string{"/.ssh/", "/.gnupg/", "/.password-store/", "/.aws/", "/.kube/", "/.docker/", "/.pki/", "/keyrings/"}
var secretNames = []string{".netrc", "shadow", "gshadow", ".pgpass", "id_rsa", "id_ed25519", "id_ecdsa", ".git-credentials", "credentials.json"}

func secretPath(p string) bool {
	for _, d := range secretDirs {
		if strings.Contains(p+"/", d) {
			return true
		}
	}
	base := filepath.Base(p)
	for _, n := range secretNames {
		if base == n {
			return true
		}
	}
	return strings.HasSuffix(base, ".key") || strings.HasSuffix(base, ".pem")
}

// fileState is a checkpoint of one path.
type fileState struct {
	Path    string      `json:"path"`
	Existed bool        `json:"existed"`
	Blob    string      `json:"blob,omitempty"` // content, for regular files
	Mode    fs.FileMode `json:"mode,omitempty"`
}

// checkpoint records what is at path now.
func (m *Module) checkpoint(path string) (fileState, error) {
	st := fileState{Path: path}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Existed = true
	st.Mode = fi.Mode().Perm()
	if !fi.Mode().IsRegular() {
		return st, fmt.Errorf("%s is not a regular file", path)
	}
	st.Blob, err = m.blobs.PutFile(path)
	if err != nil {
		return st, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return st, nil
}

// restore puts a checkpoint back: the old content, or nothing.
func (m *Module) restore(st fileState) error {
	if !st.Existed {
		err := os.Remove(st.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return m.blobs.WriteTo(st.Blob, st.Path, st.Mode)
}

// stateProbe proves a checkpoint is back in place.
func stateProbe(st fileState) verify.Spec {
	if !st.Existed {
		return verify.Probe("file.absent", verify.PathArgs{Path: st.Path})
	}
	return verify.Probe("file.hash", verify.HashArgs{Path: st.Path, BLAKE3: st.Blob})
}

func hashProbe(path, hash string) verify.Spec {
	return verify.Probe("file.hash", verify.HashArgs{Path: path, BLAKE3: hash})
}

func kindOf(path string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		return "missing"
	}
	switch {
	case fi.IsDir():
		return "folder"
	case fi.Mode()&fs.ModeSymlink != 0:
		return "symlink"
	}
	return fmt.Sprintf("file, %d bytes", fi.Size())
}
