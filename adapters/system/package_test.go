package system

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/pipelinetest"
)

const realStatus = "/var/lib/dpkg/status"

// dpkgQuery asks dpkg itself, an independent reader of the database.
func dpkgQuery(t *testing.T, name string) (status, version string) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", name).Output()
	if err != nil {
		return "not-installed", ""
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "not-installed", ""
	}
	if len(f) == 1 {
		return f[0], ""
	}
	return f[0], f[1]
}

func TestPackageQueryRealDatabase(t *testing.T) {
	if _, err := os.Stat(realStatus); err != nil {
		t.Skip("no dpkg database on this system")
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query is not installed (Debian package dpkg)")
	}
	p := pipelinetest.New(t, pipelinetest.Options{}, New(Options{}))
	env := p.Do(t, "package.query", `{"name":"dpkg"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if env.Execution.ApprovalID != "" || env.Request.Risk.Any() {
		t.Errorf("a query needed approval or has risk %+v", env.Request.Risk)
	}
	r := resultOf(t, env)
	_, want := dpkgQuery(t, "dpkg")
	if r["installed"] != true || r["version"] != want || r["architecture"] == "" || r["summary"] == "" {
		t.Errorf("result %v, dpkg-query says version %s", r, want)
	}

	env = p.Do(t, "package.query", `{"name":"noema-surely-not-a-package"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if r := resultOf(t, env); r["installed"] != false || r["known"] != false {
		t.Errorf("result %v", r)
	}
	p.Verify(t)
}

// A status file of our own, to cover states the test machine does not
// have: a removed package whose configuration remains, and a package
// installed for two architectures.
const sampleStatus = `Package: alpha
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 120
Maintainer: A <a@example.org>
Architecture: amd64
Version: 1.2-3
Description: the first letter
 A longer text that
 .
 spans lines.

Package: beta
Status: deinstall ok config-files
Architecture: all
Version: 0.9
Conffiles:
 /etc/beta.conf 0123456789abcdef0123456789abcdef
Description: kept configuration

Package: libgamma
Status: install ok installed
Architecture: i386
Multi-Arch: same
Version: 2.0
Description: foreign arch

Package: libgamma
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.0
Description: native arch
`

func TestPackageQuerySampleDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	os.WriteFile(path, []byte(sampleStatus), 0o644)
	p := pipelinetest.New(t, pipelinetest.Options{}, New(Options{DpkgStatus: path}))
	for _, c := range []struct {
		name, status, version, arch string
		installed                   bool
	}{
		{"alpha", "installed", "1.2-3", "amd64", true},
		{"beta", "config-files", "0.9", "all", false},
		{"libgamma:i386", "installed", "2.0", "i386", true},
		{"libgamma", "installed", "2.0", "amd64", true},
	} {
		env := p.Do(t, "package.query", `{"name":"`+c.name+`"}`)
		pipelinetest.RequireState(t, env, action.Succeeded)
		r := resultOf(t, env)
		if r["installed"] != c.installed || r["status"] != c.status || r["version"] != c.version || r["architecture"] != c.arch {
			t.Errorf("%s: %v", c.name, r)
		}
	}
	env := p.Do(t, "package.query", `{"name":"alpha"}`)
	if r := resultOf(t, env); r["summary"] != "the first letter" || r["section"] != "utils" {
		t.Errorf("alpha: %v", r)
	}
	// A database that cannot be read fails the query.
	os.Remove(path)
	env = p.Do(t, "package.query", `{"name":"alpha"}`)
	pipelinetest.RequireState(t, env, action.Failed)
}

func TestPackageStateProbe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	os.WriteFile(path, []byte(sampleStatus), 0o644)
	m := New(Options{DpkgStatus: path})
	for _, c := range []struct {
		args PackageStateArgs
		pass bool
	}{
		{PackageStateArgs{Name: "alpha", Installed: true}, true},
		{PackageStateArgs{Name: "alpha", Installed: true, Version: "1.2-3"}, true},
		{PackageStateArgs{Name: "alpha", Installed: true, Version: "9"}, false},
		{PackageStateArgs{Name: "alpha", Installed: false}, false},
		{PackageStateArgs{Name: "beta", Installed: false}, true},
		{PackageStateArgs{Name: "beta", Installed: true}, false},
		{PackageStateArgs{Name: "zeta", Installed: false}, true},
	} {
		raw, _ := json.Marshal(c.args)
		obs, err := m.probePackageState(context.Background(), raw)
		if err != nil || obs.Pass != c.pass {
			t.Errorf("%+v: pass=%v err=%v (%s)", c.args, obs.Pass, err, obs.Detail)
		}
	}
	raw, _ := json.Marshal(PackageStateArgs{Name: "-oFoo=bar"})
	if _, err := m.probePackageState(context.Background(), raw); err == nil {
		t.Error("probe accepted an option as a package name")
	}
}

// localRepo is a flat apt repository in a temporary folder with two real
// packages built by dpkg-deb: noema-test-app, which depends on
// noema-test-lib. apt-get is pointed at it (and only at it) with -o
// options, so the module runs the same apt-get as in production.
type localRepo struct {
	apt []string
}

const (
	testApp = "noema-test-app"
	testLib = "noema-test-lib"
)

func needPackageTools(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("installing packages needs root (CI runs the tests as root)")
	}
	for tool, pkg := range map[string]string{"dpkg-deb": "dpkg", "dpkg-scanpackages": "dpkg-dev", "apt-get": "apt", "dpkg-query": "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian package %s)", tool, pkg)
		}
	}
	if _, err := os.Stat(realStatus); err != nil {
		t.Skip("no dpkg database on this system")
	}
}

func run(t *testing.T, dir string, argv ...string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, out)
	}
}

func buildDeb(t *testing.T, dir, name, version, depends string) {
	t.Helper()
	root := filepath.Join(dir, "build", name)
	doc := filepath.Join(root, "usr", "share", "doc", name)
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(doc, 0o755); err != nil {
		t.Fatal(err)
	}
	control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Noema tests <tests@noema.invalid>\nSection: misc\nPriority: optional\n", name, version)
	if depends != "" {
		control += "Depends: " + depends + "\n"
	}
	control += "Description: package built by the Noema system adapter tests\n Installed and removed again by go test; safe to purge.\n"
	os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644)
	os.WriteFile(filepath.Join(doc, "README"), []byte(name+" "+version+"\n"), 0o644)
	run(t, dir, "dpkg-deb", "--root-owner-group", "--build", root, filepath.Join(dir, "repo", name+"_"+version+"_all.deb"))
}

func newLocalRepo(t *testing.T) *localRepo {
	t.Helper()
	needPackageTools(t)
	dir := t.TempDir()
	for _, d := range []string{"repo", "lists/partial", "cache/archives/partial", "parts"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	buildDeb(t, dir, testLib, "1.0-1", "")
	buildDeb(t, dir, testApp, "2.0-1", testLib+" (>= 1.0)")
	cmd := exec.Command("dpkg-scanpackages", "--multiversion", ".", "/dev/null")
	cmd.Dir = filepath.Join(dir, "repo")
	idx, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-scanpackages: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "repo", "Packages"), idx, 0o644)
	sources := filepath.Join(dir, "sources.list")
	os.WriteFile(sources, []byte("deb [trusted=yes] file:"+filepath.Join(dir, "repo")+" ./\n"), 0o644)
	r := &localRepo{apt: []string{"apt-get",
		"-o", "Dir::Etc::SourceList=" + sources,
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(dir, "parts"),
		"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "Dir::State::extended_states=" + filepath.Join(dir, "extended_states"),
		"-o", "APT::Get::List-Cleanup=false",
	}}
	r.purge(t)
	t.Cleanup(func() { r.purge(t) })
	run(t, dir, append(r.apt, "-q", "update")...)
	return r
}

// purge takes the test packages off the system, whatever state they are in.
func (r *localRepo) purge(t *testing.T) {
	t.Helper()
	var present []string
	for _, n := range []string{testApp, testLib} {
		if st, _ := dpkgQuery(t, n); st != "not-installed" {
			present = append(present, n)
		}
	}
	if len(present) > 0 {
		run(t, "/", append([]string{"dpkg", "--purge"}, present...)...)
	}
}

func (r *localRepo) module() *Module {
	return New(Options{AptGet: r.apt})
}

func requireInstalled(t *testing.T, name string, want bool) {
	t.Helper()
	st, _ := dpkgQuery(t, name)
	if (st == "installed") != want {
		t.Fatalf("%s is %s according to dpkg-query, want installed=%v", name, st, want)
	}
}

func TestPackageInstallAndUndo(t *testing.T) {
	repo := newLocalRepo(t)
	p := pipelinetest.New(t, pipelinetest.Options{}, repo.module())

	env := p.Do(t, "package.install", `{"name":"`+testApp+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if rk := env.Request.Risk; !rk.Privileged || !rk.NetworkExposure || rk.Destructive || env.Execution.ApprovalID == "" {
		t.Errorf("risk %+v approval %q", rk, env.Execution.ApprovalID)
	}
	requireInstalled(t, testApp, true)
	requireInstalled(t, testLib, true)
	r := resultOf(t, env)
	if fmt.Sprint(r["added"]) != fmt.Sprint([]string{testApp, testLib}) || r["version"] != "2.0-1" {
		t.Errorf("result %v", r)
	}
	if len(env.Execution.Preview) < 2 {
		t.Errorf("preview %+v does not show the dependency", env.Execution.Preview)
	}

	// Installing again changes nothing and leaves nothing to undo.
	again := p.Do(t, "package.install", `{"name":"`+testApp+`"}`)
	pipelinetest.RequireState(t, again, action.Succeeded)
	if resultOf(t, again)["changed"] != false || len(again.Execution.PreState) != 0 {
		t.Errorf("second install: %s", again.Execution.Result)
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	requireInstalled(t, testApp, false)
	requireInstalled(t, testLib, false)
	p.Verify(t)
}

// Removing the library takes the application with it; undo brings both
// back.
func TestPackageRemoveAndUndo(t *testing.T) {
	repo := newLocalRepo(t)
	p := pipelinetest.New(t, pipelinetest.Options{}, repo.module())
	pipelinetest.RequireState(t, p.Do(t, "package.install", `{"name":"`+testApp+`"}`), action.Succeeded)

	env := p.Do(t, "package.remove", `{"name":"`+testLib+`"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if rk := env.Request.Risk; !rk.Privileged || !rk.Destructive {
		t.Errorf("risk %+v", rk)
	}
	requireInstalled(t, testApp, false)
	requireInstalled(t, testLib, false)
	if r := resultOf(t, env); fmt.Sprint(r["removed"]) != fmt.Sprint([]string{testApp, testLib}) {
		t.Errorf("result %v", r)
	}
	var sawApp bool
	for _, c := range env.Execution.Preview {
		sawApp = sawApp || c.Subject == testApp
	}
	if !sawApp {
		t.Errorf("preview %+v does not warn that %s goes too", env.Execution.Preview, testApp)
	}

	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	requireInstalled(t, testApp, true)
	requireInstalled(t, testLib, true)

	// Removing what is not installed is a no-op.
	pipelinetest.RequireState(t, p.Do(t, "package.remove", `{"name":"`+testApp+`"}`), action.Succeeded)
	none := p.Do(t, "package.remove", `{"name":"`+testApp+`"}`)
	pipelinetest.RequireState(t, none, action.Succeeded)
	if resultOf(t, none)["changed"] != false {
		t.Errorf("second removal: %s", none.Execution.Result)
	}
	p.Verify(t)
}

func TestPackageInstallFailures(t *testing.T) {
	repo := newLocalRepo(t)
	p := pipelinetest.New(t, pipelinetest.Options{}, repo.module())
	env := p.Do(t, "package.install", `{"name":"noema-test-absent"}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "Unable to locate package") {
		t.Errorf("error = %q", msg)
	}

	broken := pipelinetest.New(t, pipelinetest.Options{}, New(Options{AptGet: []string{"/nonexistent/apt-get"}}))
	env = broken.Do(t, "package.install", `{"name":"`+testApp+`"}`)
	pipelinetest.RequireState(t, env, action.Failed)
	if msg := errorOf(env); !strings.Contains(msg, "/nonexistent/apt-get") {
		t.Errorf("error = %q", msg)
	}
	requireInstalled(t, testApp, false)
	p.Verify(t)
}

// Names are checked before anything runs: an option-looking name never
// reaches apt-get.
func TestPackageNames(t *testing.T) {
	for _, ok := range []string{"curl", "libc6", "g++", "libstdc++6:i386", "python3.11", "0ad", "a-b.c+d"} {
		if err := checkPackageName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "-y", "--purge", "Curl", "a b", "a;b", "a/b", "../x", "a:", ":amd64", "a:B", "x\x00", "-oAPT::x=1", strings.Repeat("a", 129)} {
		if err := checkPackageName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p := pipelinetest.New(t, pipelinetest.Options{}, New(Options{}))
	for _, a := range []string{"package.install", "package.remove", "package.query"} {
		e, _ := p.Registry.Catalog().Lookup(a)
		for _, bad := range []string{`{"name":"-oDir=/"}`, `{"name":"a b"}`, `{}`, `{"name":"x","y":1}`} {
			if err := e.ValidateTarget(json.RawMessage(bad)); err == nil {
				t.Errorf("%s accepted %s", a, bad)
			}
		}
	}
}
