package system

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/verify"
)

type packageTarget struct {
	Name string `json:"name"`
}

func packageSchema() json.RawMessage {
	return adapter.Schema([]string{"name"}, map[string]any{
		"name": map[string]any{
			"type": "string", "minLength": 2, "maxLength": 128,
			"pattern":     `^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?$`,
			"description": "Debian package name, optionally name:arch",
		},
	})
}

func packageTargetOf(req *action.Request) (packageTarget, error) {
	var t packageTarget
	if err := adapter.DecodeTarget(req, &t); err != nil {
		return t, err
	}
	if err := checkPackageName(t.Name); err != nil {
		return t, fmt.Errorf("%s: %w", req.Action, err)
	}
	return t, nil
}

// packageQueryH answers package.query from the dpkg database.
type packageQueryH struct{ m *Module }

func (h *packageQueryH) Manifest() action.Manifest {
	return action.Manifest{
		Name:         "package.query",
		Title:        "Look up a package",
		Description:  "Say whether a Debian package is installed, and its version, architecture and description, read from the dpkg database.",
		Schema:       packageSchema(),
		Verification: "reads the dpkg database again and expects the same installed state and version",
		Rollback:     action.RollbackNone, RollbackNote: "a query changes nothing",
		ReadOnly: true,
		Utterances: []string{
			"is {name} installed [on this (machine|computer|system|pc)]",
			"(do i have|have i got) {name} [installed]",
			"(which|what) version of {name} [is installed|do i have]",
			"(show|tell me about|describe) [the] package {name}",
			"(query|look up|check) [the] package {name}",
		},
		Examples: []action.Example{
			{Text: "is curl installed", Target: json.RawMessage(`{"name":"curl"}`)},
			{Text: "what version of openssl do i have", Target: json.RawMessage(`{"name":"openssl"}`)},
		},
		Aliases: []string{"dpkg -s", "apt show", "package info", "installed version"},
		Owner:   "system",
	}
}

func (h *packageQueryH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := packageTargetOf(req)
	if err != nil {
		return nil, err
	}
	return []action.Change{{Subject: t.Name, Note: "read only: reads " + h.m.opts.DpkgStatus}}, nil
}

func (h *packageQueryH) Verification(req *action.Request) (verify.Spec, error) {
	if _, err := packageTargetOf(req); err != nil {
		return verify.Spec{}, err
	}
	return verify.Probe("file.exists", verify.PathArgs{Path: h.m.opts.DpkgStatus, Kind: "file"}), nil
}

func (h *packageQueryH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	t, err := packageTargetOf(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	found, err := lookupPackage(h.m.opts.DpkgStatus, t.Name)
	if err != nil {
		return adapter.Outcome{}, err
	}
	res := map[string]any{"name": t.Name, "known": len(found) > 0, "installed": false, "status": "not-installed"}
	check := PackageStateArgs{Name: t.Name}
	if len(found) > 0 {
		p := found[0]
		res["installed"] = p.Installed()
		res["status"] = p.Status
		res["version"] = p.Version
		res["architecture"] = p.Architecture
		res["summary"] = p.Summary
		res["section"] = p.Section
		if p.InstalledSize != "" {
			res["installed_size_kib"] = p.InstalledSize
		}
		if len(found) > 1 {
			res["instances"] = found
		}
		check.Installed = p.Installed()
		if p.Installed() {
			check.Version = p.Version
		}
	}
	return adapter.Outcome{Result: res, Verification: verify.Probe("package.state", check)}, nil
}

// packageChangeH is package.install or package.remove, through apt-get.
type packageChangeH struct {
	m       *Module
	install bool
}

// packageChange is what an install or removal changed in the dpkg
// database; undo removes what was added and installs what was removed.
type packageChange struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

func (c packageChange) empty() bool { return len(c.Added) == 0 && len(c.Removed) == 0 }

func (h *packageChangeH) verb() string {
	if h.install {
		return "install"
	}
	return "remove"
}

func (h *packageChangeH) Manifest() action.Manifest {
	m := action.Manifest{
		Name: "package." + h.verb(), Schema: packageSchema(), Owner: "system",
		Rollback: action.IdempotentReverse,
	}
	if h.install {
		m.Title = "Install a package"
		m.Description = "Install a Debian package and what it depends on with apt-get, downloading from the configured repositories."
		m.Risk = action.Risk{Privileged: true, NetworkExposure: true}
		m.Verification = "reads the dpkg database back and expects the package installed"
		m.RollbackNote = "undo removes the packages this installation added (configuration files stay) and reinstalls any it removed"
		m.Utterances = []string{
			"install [the] [package] {name} [package]",
			"(get|add|set up) [the] package {name}",
			"(apt|apt-get|aptitude) install {name}",
			"(i need|i want|give me) [the] {name} package",
			"put {name} on [this] (machine|computer|system)",
		}
		m.Examples = []action.Example{
			{Text: "install htop", Target: json.RawMessage(`{"name":"htop"}`)},
			{Text: "add the package ripgrep", Target: json.RawMessage(`{"name":"ripgrep"}`)},
		}
		m.Aliases = []string{"apt install", "apt-get install", "add software", "install program"}
	} else {
		m.Title = "Remove a package"
		m.Description = "Remove an installed Debian package with apt-get (its configuration files stay). Packages that depend on it are removed too; the preview lists them."
		m.Risk = action.Risk{Privileged: true, Destructive: true}
		m.Verification = "reads the dpkg database back and expects the package no longer installed"
		m.RollbackNote = "undo reinstalls every package the removal took away, at the version the repositories offer then"
		m.Utterances = []string{
			"(remove|uninstall|delete|purge) [the] [package] {name}",
			"(get rid of|drop) [the] package {name}",
			"(apt|apt-get) (remove|uninstall) {name}",
			"take {name} off [this] (machine|computer|system)",
		}
		m.Examples = []action.Example{
			{Text: "uninstall thunderbird", Target: json.RawMessage(`{"name":"thunderbird"}`)},
			{Text: "remove the package cowsay", Target: json.RawMessage(`{"name":"cowsay"}`)},
		}
		m.Aliases = []string{"apt remove", "apt-get remove", "uninstall software", "dpkg -r"}
	}
	return m
}

// Risk flags by the effect. An undo only restores, so it is not called
// destructive; one that reinstalls downloads.
func (h *packageChangeH) Risk(req *action.Request) action.Risk {
	r := action.Risk{Privileged: true}
	if req.Undo != nil {
		var c packageChange
		if adapter.DecodePreState(req, &c) != nil || len(c.Removed) > 0 {
			r.NetworkExposure = true // reinstalling downloads
		}
		return r
	}
	r.NetworkExposure = h.install
	r.Destructive = !h.install
	return r
}

func (h *packageChangeH) Preview(ctx context.Context, req *action.Request) ([]action.Change, error) {
	t, err := packageTargetOf(req)
	if err != nil {
		return nil, err
	}
	if req.Undo != nil {
		var c packageChange
		if err := adapter.DecodePreState(req, &c); err != nil {
			return nil, err
		}
		var out []action.Change
		for _, n := range c.Added {
			out = append(out, action.Change{Subject: n, Old: "installed", New: "removed"})
		}
		for _, n := range c.Removed {
			out = append(out, action.Change{Subject: n, Old: "removed", New: "installed"})
		}
		return out, nil
	}
	found, err := lookupPackage(h.m.opts.DpkgStatus, t.Name)
	if err != nil {
		return nil, err
	}
	old := "not installed"
	if len(found) > 0 && found[0].Installed() {
		old = "installed " + found[0].Version
		if h.install {
			return []action.Change{{Subject: t.Name, Old: old, New: old, Note: "already installed; nothing to do"}}, nil
		}
	} else if !h.install {
		return []action.Change{{Subject: t.Name, Old: old, New: old, Note: "not installed; nothing to do"}}, nil
	}
	out, err := h.m.runApt(ctx, true, h.verb(), t.Name)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	var changes []action.Change
	for _, op := range parseAptSimulation(out) {
		c := action.Change{Subject: op.Name}
		if op.Op == "Inst" {
			c.New = "installed " + op.Version
		} else {
			c.Old, c.New = "installed "+op.Version, "removed"
		}
		if base, _, _ := strings.Cut(op.Name, ":"); base != t.Name && op.Name != t.Name {
			c.Note = "also changed by apt"
		}
		changes = append(changes, c)
	}
	if len(changes) == 0 {
		changes = []action.Change{{Subject: t.Name, Old: old, Note: "apt-get simulation shows no change"}}
	}
	return changes, nil
}

func (h *packageChangeH) Verification(req *action.Request) (verify.Spec, error) {
	t, err := packageTargetOf(req)
	if err != nil {
		return verify.Spec{}, err
	}
	if req.Undo != nil {
		var c packageChange
		if err := adapter.DecodePreState(req, &c); err != nil {
			return verify.Spec{}, err
		}
		var specs []verify.Spec
		for _, n := range c.Added {
			specs = append(specs, verify.Probe("package.state", PackageStateArgs{Name: n, Installed: false}))
		}
		for _, n := range c.Removed {
			specs = append(specs, verify.Probe("package.state", PackageStateArgs{Name: n, Installed: true}))
		}
		if len(specs) == 0 {
			return verify.Spec{}, fmt.Errorf("%s: the recorded change is empty", req.Action)
		}
		return verify.AllOf(specs...), nil
	}
	return verify.Probe("package.state", PackageStateArgs{Name: t.Name, Installed: h.install}), nil
}

func (h *packageChangeH) Execute(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	t, err := packageTargetOf(req)
	if err != nil {
		return adapter.Outcome{}, err
	}
	if req.Undo != nil {
		return h.undo(ctx, req)
	}
	before, err := readDpkgStatus(h.m.opts.DpkgStatus)
	if err != nil {
		return adapter.Outcome{}, err
	}
	found := findPackage(before, t.Name)
	installed := len(found) > 0 && found[0].Installed()
	if installed == h.install {
		res := map[string]any{"name": t.Name, "changed": false, "installed": installed}
		if installed {
			res["version"] = found[0].Version
		}
		return adapter.Outcome{Result: res}, nil
	}
	out, runErr := h.m.runApt(ctx, false, h.verb(), t.Name)
	change, err := h.m.diffSince(before)
	if err != nil {
		return adapter.Outcome{}, errorsJoin(runErr, err)
	}
	var pre any
	if !change.empty() {
		pre = change
	}
	if runErr != nil {
		return adapter.Outcome{PreState: pre}, runErr
	}
	res := map[string]any{"name": t.Name, "changed": !change.empty(), "added": change.Added, "removed": change.Removed, "apt_output": lastLines(out, 12)}
	if now, err := lookupPackage(h.m.opts.DpkgStatus, t.Name); err == nil && len(now) > 0 && now[0].Installed() {
		res["version"] = now[0].Version
	}
	return adapter.Outcome{Result: res, PreState: pre}, nil
}

// undo reverses a recorded change: removes what was added, then
// reinstalls what was removed.
func (h *packageChangeH) undo(ctx context.Context, req *action.Request) (adapter.Outcome, error) {
	var c packageChange
	if err := adapter.DecodePreState(req, &c); err != nil {
		return adapter.Outcome{}, err
	}
	if c.empty() {
		return adapter.Outcome{}, fmt.Errorf("%s: the recorded change is empty", req.Action)
	}
	res := map[string]any{}
	if len(c.Added) > 0 {
		if _, err := h.m.runApt(ctx, false, "remove", c.Added...); err != nil {
			return adapter.Outcome{}, err
		}
		res["removed"] = c.Added
	}
	if len(c.Removed) > 0 {
		if _, err := h.m.runApt(ctx, false, "install", c.Removed...); err != nil {
			return adapter.Outcome{}, err
		}
		res["reinstalled"] = c.Removed
	}
	return adapter.Outcome{Result: res}, nil
}

// diffSince compares the dpkg database now with before and names the
// packages that became installed or stopped being installed, in the form
// apt-get accepts (name, or name:arch for a foreign architecture).
func (m *Module) diffSince(before map[string]debPackage) (packageChange, error) {
	after, err := readDpkgStatus(m.opts.DpkgStatus)
	if err != nil {
		return packageChange{}, err
	}
	native := m.arch()
	var c packageChange
	for k, p := range after {
		if p.Installed() && !before[k].Installed() {
			c.Added = append(c.Added, aptName(p, native))
		}
	}
	for k, p := range before {
		if p.Installed() && !after[k].Installed() {
			c.Removed = append(c.Removed, aptName(p, native))
		}
	}
	sort.Strings(c.Added)
	sort.Strings(c.Removed)
	return c, nil
}

func aptName(p debPackage, native string) string {
	if p.Architecture == "" || p.Architecture == "all" || p.Architecture == native {
		return p.Name
	}
	return p.Name + ":" + p.Architecture
}

// dpkgArch is dpkg's architecture name for this machine.
func dpkgArch() string {
	if out, err := exec.Command("dpkg", "--print-architecture").Output(); err == nil {
		if a := strings.TrimSpace(string(out)); a != "" {
			return a
		}
	}
	if a, ok := map[string]string{"386": "i386", "arm": "armhf", "ppc64le": "ppc64el", "mips64le": "mips64el"}[runtime.GOARCH]; ok {
		return a
	}
	return runtime.GOARCH
}

func lastLines(b []byte, n int) []string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	lines = slices.DeleteFunc(lines, func(s string) bool { return strings.TrimSpace(s) == "" })
	return lines[max(0, len(lines)-n):]
}

func errorsJoin(a, b error) error {
	if a == nil {
		return b
	}
	return fmt.Errorf("%w (and reading the dpkg database afterwards failed: %v)", a, b)
}

// PackageStateArgs expect a package to be installed or not; with Version,
// installed at that version.
type PackageStateArgs struct {
	Name      string `json:"name"`
	Installed bool   `json:"installed"`
	Version   string `json:"version,omitempty"`
}

func (m *Module) probePackageState(ctx context.Context, raw json.RawMessage) (verify.Observation, error) {
	var a PackageStateArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return verify.Observation{}, probeErr("package.state", err)
	}
	if err := checkPackageName(a.Name); err != nil {
		return verify.Observation{}, probeErr("package.state", err)
	}
	if _, err := os.Stat(m.opts.DpkgStatus); err != nil {
		return verify.Observation{}, fmt.Errorf("package.state: %w", err)
	}
	found, err := lookupPackage(m.opts.DpkgStatus, a.Name)
	if err != nil {
		return verify.Observation{}, err
	}
	status, version := "not-installed", ""
	installed := false
	for _, p := range found {
		if p.Installed() && (a.Version == "" || p.Version == a.Version) {
			installed, status, version = true, p.Status, p.Version
			break
		}
		if status == "not-installed" {
			status, version = p.Status, p.Version
		}
	}
	obs := map[string]any{"status": status, "version": version}
	want := "not installed"
	if a.Installed {
		want = "installed"
		if a.Version != "" {
			want += " at " + a.Version
		}
	}
	return verify.Observation{Pass: installed == a.Installed, Observed: obs,
		Detail: fmt.Sprintf("%s is %s %s in the dpkg database, want %s", a.Name, status, version, want)}, nil
}
