package desktop

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
)

// TestLaunchedProbeAfterExit checks app.launched once the program is gone:
// a late exit with status 0 (a slow hand-off to a running instance) still
// proves the launch; any other status does not; app.process.gone agrees.
func TestLaunchedProbeAfterExit(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("sh is not installed")
	}
	home := t.TempDir()
	dir := filepath.Join(home, "applications")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "late.desktop"), []byte("[Desktop Entry]\nType=Application\nName=Late\nExec=sh -c \"sleep 0.3\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.desktop"), []byte("[Desktop Entry]\nType=Application\nName=Bad\nExec=sh -c \"sleep 0.3; exit 3\"\n"), 0o644)
	m := New(Options{Apps: AppOptions{DataHome: home, DataDirs: []string{}, Grace: 20 * time.Millisecond}})
	h := &appLaunch{m: m}
	for app, wantPass := range map[string]bool{"late": true, "bad": false} {
		out, err := h.Execute(t.Context(), &action.Request{Action: "desktop.app.launch", Target: json.RawMessage(`{"app":"` + app + `"}`)})
		if err != nil {
			t.Fatalf("%s: %v", app, err)
		}
		st := out.PreState.(launchState)
		args, _ := json.Marshal(ProcessArgs{PID: st.PID, Start: st.Start})
		if obs, err := m.probeLaunched(t.Context(), args); err != nil || !obs.Pass {
			t.Fatalf("%s while running: %+v %v", app, obs, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, ok := m.exits.lookup(ProcessArgs{PID: st.PID, Start: st.Start}); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: exit not recorded", app)
			}
			time.Sleep(20 * time.Millisecond)
		}
		obs, err := m.probeLaunched(t.Context(), args)
		if err != nil || obs.Pass != wantPass {
			t.Fatalf("%s after exit: %+v %v, want pass=%v", app, obs, err, wantPass)
		}
		if obs, err := probeGone(t.Context(), args); err != nil || !obs.Pass {
			t.Fatalf("%s: app.process.gone %+v %v", app, obs, err)
		}
	}
	// An unknown process that is not running proves nothing.
	args, _ := json.Marshal(ProcessArgs{PID: 1 << 30, Start: 1})
	if obs, err := m.probeLaunched(t.Context(), args); err == nil && obs.Pass {
		t.Fatal("a process never seen passed")
	}
}
