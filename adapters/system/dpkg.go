package system

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// packageName is Debian policy's package name (section 5.6.1), with an
// optional ":arch" qualifier as dpkg and apt accept it. It cannot start
// with '-', so a name can never be read as an option by apt-get.
var packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?$`)

func checkPackageName(name string) error {
	if len(name) > 128 || !packageName.MatchString(name) {
		return fmt.Errorf("%q is not a Debian package name (lower-case letters, digits, + - . only, starting with a letter or digit)", name)
	}
	return nil
}

// stanza is one paragraph of a deb822 file, keyed by lower-cased field
// name. Multi-line values keep their continuation lines joined by "\n".
type stanza map[string]string

// maxStanzaLine bounds one line of the status file (a description line,
// a long Depends); real files stay far below it.
const maxStanzaLine = 1 << 20

// readStanzas calls fn for each paragraph of a deb822 file (the dpkg
// status database, apt's Packages lists) until fn returns false.
// Paragraphs are separated by blank lines; a line starting with a space or
// tab continues the previous field; lines starting with '#' are comments.
func readStanzas(r io.Reader, fn func(stanza) bool) error {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), maxStanzaLine)
	cur := stanza{}
	last := ""
	line := 0
	flush := func() bool {
		if len(cur) == 0 {
			return true
		}
		more := fn(cur)
		cur, last = stanza{}, ""
		return more
	}
	for s.Scan() {
		line++
		text := s.Text()
		if strings.TrimSpace(text) == "" {
			if !flush() {
				return nil
			}
			continue
		}
		if text[0] == '#' {
			continue
		}
		if text[0] == ' ' || text[0] == '\t' {
			if last == "" {
				return fmt.Errorf("line %d: continuation line outside a field", line)
			}
			cur[last] += "\n" + strings.TrimSpace(text)
			continue
		}
		key, val, ok := strings.Cut(text, ":")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return fmt.Errorf("line %d: not a field: %.40q", line, text)
		}
		last = strings.ToLower(key)
		cur[last] = strings.TrimSpace(val)
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	flush()
	return nil
}

// debPackage is a package as the dpkg database records it.
type debPackage struct {
	Name         string `json:"name"`
	Architecture string `json:"architecture,omitempty"`
	Version      string `json:"version,omitempty"`
	// Status is dpkg's package state: installed, config-files,
	// half-installed, unpacked, half-configured, triggers-awaited,
	// triggers-pending or not-installed.
	Status        string `json:"status"`
	Want          string `json:"want,omitempty"`
	Summary       string `json:"summary,omitempty"`
	Section       string `json:"section,omitempty"`
	InstalledSize string `json:"installed_size_kib,omitempty"`
	Maintainer    string `json:"maintainer,omitempty"`
	Essential     bool   `json:"essential,omitempty"`
}

// Installed reports a package whose files are on the system and
// configured (dpkg counts pending triggers as installed).
func (p debPackage) Installed() bool {
	switch p.Status {
	case "installed", "triggers-pending", "triggers-awaited":
		return true
	}
	return false
}

// Key names the package instance: name:arch.
func (p debPackage) Key() string { return p.Name + ":" + p.Architecture }

func packageFromStanza(s stanza) (debPackage, bool) {
	name := s["package"]
	if name == "" {
		return debPackage{}, false
	}
	p := debPackage{
		Name: name, Architecture: s["architecture"], Version: s["version"],
		Section: s["section"], InstalledSize: s["installed-size"], Maintainer: s["maintainer"],
		Essential: strings.EqualFold(s["essential"], "yes"), Status: "not-installed",
	}
	// Status: want error status, e.g. "install ok installed".
	if f := strings.Fields(s["status"]); len(f) == 3 {
		p.Want, p.Status = f[0], f[2]
	}
	p.Summary, _, _ = strings.Cut(s["description"], "\n")
	return p, true
}

// readDpkgStatus reads every package in a dpkg status file.
func readDpkgStatus(path string) (map[string]debPackage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dpkg database: %w", err)
	}
	defer f.Close()
	out := map[string]debPackage{}
	err = readStanzas(f, func(s stanza) bool {
		if p, ok := packageFromStanza(s); ok {
			out[p.Key()] = p
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("dpkg database %s: %w", path, err)
	}
	return out, nil
}

// lookupPackage finds the instances of name ("name" or "name:arch") in
// the dpkg database, installed ones first.
func lookupPackage(path, name string) ([]debPackage, error) {
	all, err := readDpkgStatus(path)
	if err != nil {
		return nil, err
	}
	return findPackage(all, name), nil
}

func findPackage(all map[string]debPackage, name string) []debPackage {
	base, arch, qualified := strings.Cut(name, ":")
	var out []debPackage
	for _, p := range all {
		if p.Name != base || (qualified && p.Architecture != arch) {
			continue
		}
		out = append(out, p)
	}
	// Installed first, then by architecture for a stable answer.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && lessPkg(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func lessPkg(a, b debPackage) bool {
	if a.Installed() != b.Installed() {
		return a.Installed()
	}
	return a.Architecture < b.Architecture
}
