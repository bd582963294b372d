package policy

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/noema-project/noema/action"
)

// Protected names the paths the hard-deny rules guard.
type Protected struct {
	// Home is the user's home folder.
	Home string
	// NoemaHome is $NOEMA_HOME.
	NoemaHome string
	// Sealed are folders and files no action may touch: the evidence
	// folder, the signing key, the policy files and Noema's configuration.
	Sealed []string
}

// criticalRoots may never be deleted or moved, nor any folder holding them.
var criticalRoots = []string{"/", "/home", "/etc", "/usr", "/boot"}

// escalators run their arguments with more privilege.
var escalators = map[string]bool{
	"sudo": true, "su": true, "doas": true, "pkexec": true, "run0": true, "sudoedit": true,
	"machinectl": true, "nsenter": true, "setpriv": true, "capsh": true, "chroot": true,
}

// removers delete or move what they are given.
var removers = map[string]bool{"rm": true, "rmdir": true, "mv": true, "shred": true, "unlink": true, "find": true, "rsync": true}

func (p Protected) clean() Protected {
	c := Protected{Home: cleanAbs(p.Home), NoemaHome: cleanAbs(p.NoemaHome)}
	for _, s := range p.Sealed {
		if s = cleanAbs(s); s != "" {
			c.Sealed = append(c.Sealed, s)
		}
	}
	return c
}

func cleanAbs(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return filepath.Clean(p)
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	if dir == "" || path == "" {
		return false
	}
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

func (p Protected) roots() []string {
	r := append([]string{}, criticalRoots...)
	for _, extra := range []string{p.Home, p.NoemaHome} {
		if extra != "" {
			r = append(r, extra)
		}
	}
	return r
}

// hardDeny applies the rules nothing can lift. It returns a reason when
// the request is denied.
func (p Protected) hardDeny(req *action.Request, m *action.Manifest) (string, bool) {
	var target map[string]json.RawMessage
	if len(req.Target) > 0 {
		if err := json.Unmarshal(req.Target, &target); err != nil {
			return "target is not an object", true
		}
	}
	paths, argv := targetPaths(target, m.PathFields)
	cwd := cleanAbs(stringField(target, "cwd"))

	// Privileged untyped shell.
	if req.Action == "shell.run" {
		if len(argv) == 0 {
			return "shell.run without an argv array", true
		}
		if req.Risk.Privileged {
			return "privileged shell commands are never run", true
		}
		for _, a := range argv {
			if escalators[filepath.Base(a)] {
				return fmt.Sprintf("privilege escalation through %q is never run", filepath.Base(a)), true
			}
		}
		if removers[filepath.Base(argv[0])] {
			for _, a := range argv[1:] {
				if strings.HasPrefix(a, "-") {
					continue
				}
				if r, bad := p.destroysRoot(resolve(a, cwd)); bad {
					return fmt.Sprintf("%s of %s would remove %s", filepath.Base(argv[0]), a, r), true
				}
			}
		}
		for _, a := range argv[1:] {
			if s, bad := p.sealed(resolve(a, cwd)); bad {
				return fmt.Sprintf("shell commands may not name %s", s), true
			}
		}
	}

	// Recursive delete or move of a critical folder.
	if req.Undo == nil {
		switch req.Action {
		case "fs.delete", "fs.move":
			src := cleanAbs(stringField(target, "path"))
			if req.Action == "fs.move" {
				src = cleanAbs(stringField(target, "from"))
			}
			if r, bad := p.destroysRoot(src); bad {
				return fmt.Sprintf("%s of %s would remove %s", req.Action, src, r), true
			}
		}
	}

	// Nothing touches the evidence, the key, the policies or the config.
	for _, path := range paths {
		if s, bad := p.sealed(path); bad {
			return fmt.Sprintf("%s may not touch %s", req.Action, s), true
		}
	}
	return "", false
}

func (p Protected) destroysRoot(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	for _, r := range p.roots() {
		// Removing r itself or any folder that contains it.
		if within(r, path) {
			return r, true
		}
	}
	return "", false
}

func (p Protected) sealed(path string) (string, bool) {
	for _, s := range p.Sealed {
		if within(path, s) {
			return s, true
		}
	}
	return "", false
}

func resolve(arg, cwd string) string {
	if arg == "" {
		return ""
	}
	if !filepath.IsAbs(arg) {
		if cwd == "" {
			return ""
		}
		arg = filepath.Join(cwd, arg)
	}
	return filepath.Clean(arg)
}

func stringField(t map[string]json.RawMessage, k string) string {
	var s string
	if raw, ok := t[k]; ok {
		json.Unmarshal(raw, &s)
	}
	return s
}

// targetPaths collects the absolute paths named by the manifest's path
// fields, and the argv array if there is one.
func targetPaths(t map[string]json.RawMessage, fields []string) (paths, argv []string) {
	for _, f := range fields {
		raw, ok := t[f]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if c := cleanAbs(s); c != "" {
				paths = append(paths, c)
			}
			continue
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			if f == "argv" {
				argv = list
				continue
			}
			for _, s := range list {
				if c := cleanAbs(s); c != "" {
					paths = append(paths, c)
				}
			}
		}
	}
	if argv == nil {
		if raw, ok := t["argv"]; ok {
			json.Unmarshal(raw, &argv)
		}
	}
	return paths, argv
}
