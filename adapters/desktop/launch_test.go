package desktop_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
	"golang.org/x/sys/unix"
)

// appDirs makes an XDG data home and one system data dir holding the
// given desktop files (name → content; a "sys/" prefix puts a file in the
// system dir).
func appDirs(t *testing.T, files map[string]string) desktop.AppOptions {
	t.Helper()
	home, sys := t.TempDir(), t.TempDir()
	for name, content := range files {
		base := home
		if rest, ok := strings.CutPrefix(name, "sys/"); ok {
			base, name = sys, rest
		}
		p := filepath.Join(base, "applications", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return desktop.AppOptions{DataHome: home, DataDirs: []string{sys}, CurrentDesktop: "GNOME"}
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; skipping", tool)
		}
	}
}

// cmdline reads a process's argv.
func cmdline(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}

// running reports whether pid is alive and not a zombie.
func running(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return i > 0 && i+2 < len(data) && data[i+2] != 'Z'
}

func pidOf(t *testing.T, env *action.Envelope) int {
	t.Helper()
	pid, _ := result(t, env)["pid"].(float64)
	if pid <= 0 {
		t.Fatalf("no pid in %s", env.Execution.Result)
	}
	p := int(pid)
	// Nothing a test starts may outlive it.
	t.Cleanup(func() { syscall.Kill(-p, syscall.SIGKILL); syscall.Kill(p, syscall.SIGKILL) })
	return p
}

const sleeperEntry = `[Desktop Entry]
Type=Application
Name=Noema Sleeper Tool
Name[de]=Noema Schläfer
GenericName=Waiting Program
Keywords=nap;snooze;
Exec=sleep 300 %U
Icon=noema-sleeper
Categories=Utility;
`

func TestAppLaunchAndUndo(t *testing.T) {
	requireTools(t, "sleep")
	apps := appDirs(t, map[string]string{"org.noema.Sleeper.desktop": sleeperEntry})
	m := newModule(t, desktop.Options{Apps: apps})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	for _, name := range []string{"noema sleeper", "Noema Sleeper Tool", "org.noema.Sleeper", "sleeper", "snooze", "waiting program", "Noema Schläfer"} {
		env := p.Do(t, "desktop.app.launch", `{"app":"`+name+`"}`)
		pipelinetest.RequireState(t, env, action.Succeeded)
		requirePreview(t, env, "", "started from org.noema.Sleeper.desktop: sleep 300")
		pid := pidOf(t, env)
		if argv := cmdline(pid); strings.Join(argv, " ") != "sleep 300" {
			t.Fatalf("%q started %q, want sleep 300 (field code removed)", name, argv)
		}
		if sid, _ := unix.Getsid(pid); sid != pid {
			t.Fatalf("%q: process is not in a session of its own (sid %d)", name, sid)
		}
		u := p.Undo(t, env.Identity.ActionID)
		pipelinetest.RequireState(t, u, action.Succeeded)
		if running(pid) {
			t.Fatalf("%q: pid %d still running after undo", name, pid)
		}
	}
	p.Verify(t)
}

func TestAppLaunchUndoEndsProcessGroup(t *testing.T) {
	requireTools(t, "sh", "sleep")
	// A wrapper script whose real program is its child, as many are.
	apps := appDirs(t, map[string]string{"wrapped.desktop": `[Desktop Entry]
Type=Application
Name=Wrapped
Exec=sh -c "sleep 301 & wait"
`})
	m := newModule(t, desktop.Options{Apps: apps})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.app.launch", `{"app":"wrapped"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	pid := pidOf(t, env)
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
		if f := strings.Fields(string(data)); len(f) > 0 {
			child, _ = strconv.Atoi(f[0])
		}
	}
	if child == 0 {
		t.Fatal("wrapper started no child")
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	for deadline := time.Now().Add(5 * time.Second); running(child) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if running(child) {
		t.Fatalf("child %d of the launched program survived undo", child)
	}
}

func TestAppLaunchUndoAfterExit(t *testing.T) {
	requireTools(t, "sleep")
	apps := appDirs(t, map[string]string{"short.desktop": "[Desktop Entry]\nType=Application\nName=Short Nap\nExec=sleep 1\n"})
	m := newModule(t, desktop.Options{Apps: apps})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	env := p.Do(t, "desktop.app.launch", `{"app":"short nap"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	pid := pidOf(t, env)
	for deadline := time.Now().Add(5 * time.Second); running(pid) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	// The person closed it already: undo has nothing left to do and says so.
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if note, _ := result(t, u)["note"].(string); !strings.Contains(note, "already exited") {
		t.Fatalf("undo result %s", u.Execution.Result)
	}
}

func TestAppLaunchHandOff(t *testing.T) {
	requireTools(t, "true", "false")
	apps := appDirs(t, map[string]string{
		"handoff.desktop": "[Desktop Entry]\nType=Application\nName=Hand Off\nExec=true --new-window\n",
		"broken.desktop":  "[Desktop Entry]\nType=Application\nName=Broken\nExec=false\n",
	})
	m := newModule(t, desktop.Options{Apps: apps})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	// Exit status 0 at once: handed to a running instance; nothing of
	// ours to stop, so no undo.
	env := p.Do(t, "desktop.app.launch", `{"app":"hand off"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if _, err := p.Runtime.Undo(t.Context(), env.Identity.ActionID, p.Human); err == nil {
		t.Fatal("undo of a hand-off was accepted")
	}
	// A non-zero exit at once is a failure.
	requireFailed(t, p.Do(t, "desktop.app.launch", `{"app":"broken"}`), "exited at once")
	p.Verify(t)
}

func TestAppLaunchSelection(t *testing.T) {
	requireTools(t, "sleep")
	apps := appDirs(t, map[string]string{
		// The user's copy hides the system one with the same id.
		"editor.desktop":     "[Desktop Entry]\nType=Application\nName=My Editor\nGenericName=Text Editor\nExec=sleep 302\n",
		"sys/editor.desktop": "[Desktop Entry]\nType=Application\nName=System Editor\nGenericName=Text Editor\nExec=sleep 303\n",
		// Deleted by the user.
		"gone.desktop":     "[Desktop Entry]\nType=Application\nName=Gone\nHidden=true\nExec=sleep 304\n",
		"sys/gone.desktop": "[Desktop Entry]\nType=Application\nName=Gone\nExec=sleep 304\n",
		// Helpers hidden from menus start only when named exactly.
		"helper.desktop": "[Desktop Entry]\nType=Application\nName=Mail Helper\nNoDisplay=true\nExec=sleep 305\n",
		// Needs a program that is not installed.
		"missing.desktop": "[Desktop Entry]\nType=Application\nName=Missing Thing\nTryExec=noema-no-such-program\nExec=noema-no-such-program\n",
		// Two browsers: "browser" is ambiguous.
		"sys/kde/alpha.desktop": "[Desktop Entry]\nType=Application\nName=Alpha\nGenericName=Web Browser\nExec=sleep 306\n",
		"sys/beta.desktop":      "[Desktop Entry]\nType=Application\nName=Beta\nGenericName=Web Browser\nExec=sleep 307\n",
		// Not an application.
		"link.desktop": "[Desktop Entry]\nType=Link\nName=Linky\nURL=https://example.org\n",
	})
	m := newModule(t, desktop.Options{Apps: apps})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "desktop.app.launch", `{"app":"text editor"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if argv := cmdline(pidOf(t, env)); strings.Join(argv, " ") != "sleep 302" {
		t.Fatalf("started %q, want the user's editor", argv)
	}
	env = p.Do(t, "desktop.app.launch", `{"app":"Mail Helper"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	pidOf(t, env)
	env = p.Do(t, "desktop.app.launch", `{"app":"kde-alpha"}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	pidOf(t, env)

	requireFailed(t, p.Do(t, "desktop.app.launch", `{"app":"gone"}`), "deleted")
	requireFailed(t, p.Do(t, "desktop.app.launch", `{"app":"mail"}`), "no installed application")
	requireFailed(t, p.Do(t, "desktop.app.launch", `{"app":"missing thing"}`), "TryExec")
	requireFailed(t, p.Do(t, "desktop.app.launch", `{"app":"web browser"}`), "several applications")
	requireFailed(t, p.Do(t, "desktop.app.launch", `{"app":"linky"}`), "not an application")
	requireFailed(t, p.Do(t, "desktop.app.launch", `{"app":"quantum flux capacitor"}`), "no installed application")
	p.Verify(t)
}

func TestAppLaunchRejectsBadTargets(t *testing.T) {
	m := newModule(t, desktop.Options{})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	for _, target := range []string{`{}`, `{"app":""}`, `{"app":["sleep","1"]}`, `{"app":"x","argv":["sh"]}`} {
		if err := validate(t, p, "desktop.app.launch", target); err == nil {
			t.Errorf("%s accepted", target)
		}
	}
}
