package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/module"
)

// writeCopyright writes /usr/share/doc/noema/copyright: Noema's own notice
// (packaging/deb/copyright), then the licence texts of the Go toolchain and
// of every module linked into the binary, read from the binary's build
// information, so the list is exactly what ships. A static binary carries
// that code, and most of those licences ask for their notice to travel
// with it.
func writeCopyright(dst, head, bin string) error {
	own, err := os.ReadFile(head)
	if err != nil {
		return err
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("%s: build information: %w", bin, err)
	}
	goroot, modcache, err := goEnv()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	seen := map[string]string{} // licence text → where it was first written
	b.Write(own)
	b.WriteString("\nThe noema binary is statically linked. It contains the Go runtime and\n" +
		"standard library and the Go modules listed below; their licence texts\n" +
		"follow, as shipped by each.\n")

	if err := appendLicences(&b, seen, "Go "+bi.GoVersion+" (runtime and standard library)", goroot); err != nil {
		return err
	}
	deps := bi.Deps
	sort.Slice(deps, func(i, j int) bool { return deps[i].Path < deps[j].Path })
	for _, d := range deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		dir, err := moduleDir(modcache, m.Path, m.Version)
		if err != nil {
			return err
		}
		if err := appendLicences(&b, seen, m.Path+" "+m.Version, dir); err != nil {
			return err
		}
	}
	return os.WriteFile(dst, b.Bytes(), 0o644)
}

func goEnv() (goroot, modcache string, err error) {
	out, err := exec.Command("go", "env", "GOROOT", "GOMODCACHE").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env: %w", err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 2 {
		return "", "", fmt.Errorf("go env GOROOT GOMODCACHE: unexpected output %q", out)
	}
	return f[0], f[1], nil
}

func moduleDir(modcache, path, version string) (string, error) {
	p, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	v, err := module.EscapeVersion(version)
	if err != nil {
		return "", err
	}
	return filepath.Join(modcache, p+"@"+v), nil
}

// appendLicences adds every LICENSE/LICENCE/COPYING/NOTICE file at the top
// of dir. A module without one is an error: shipping it would ship code
// whose terms we cannot show. A text already written (the same Apache or
// BSD licence, word for word) is referred to instead of repeated.
func appendLicences(b *bytes.Buffer, seen map[string]string, what, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("licence of %s: %w (is the module cache complete? run `go mod download`)", what, err)
	}
	n := 0
	for _, e := range entries {
		name := strings.ToUpper(e.Name())
		if e.IsDir() || !(strings.HasPrefix(name, "LICENSE") || strings.HasPrefix(name, "LICENCE") ||
			strings.HasPrefix(name, "COPYING") || strings.HasPrefix(name, "NOTICE")) {
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		text = bytes.TrimSpace(text)
		title := what + ": " + e.Name()
		n++
		if first, ok := seen[string(text)]; ok {
			fmt.Fprintf(b, "\n%s\n%s\n%s\n\nThe same text as %s above.\n", rule, title, rule, first)
			continue
		}
		seen[string(text)] = title
		fmt.Fprintf(b, "\n%s\n%s\n%s\n\n", rule, title, rule)
		b.Write(text)
		b.WriteByte('\n')
	}
	if n == 0 {
		return fmt.Errorf("no licence file found for %s in %s", what, dir)
	}
	return nil
}

const rule = "------------------------------------------------------------------------"
