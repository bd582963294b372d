package desktop_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
)

// pipeWire is a private PipeWire daemon with WirePlumber and one null
// sink.
type pipeWire struct {
	Env []string
}

// nullSinkConf adds a null audio sink to PipeWire, which WirePlumber then
// makes the default output.
const nullSinkConf = `context.objects = [
  { factory = adapter
    args = {
      factory.name = support.null-audio-sink
      node.name = "noema_null"
      node.description = "Noema test sink"
      media.class = "Audio/Sink"
      audio.position = [ FL FR ]
      monitor.channel-volumes = true
    }
  }
]
`

// startPipeWire runs real pipewire and wireplumber daemons with their own
// runtime and config directories; WirePlumber needs a session bus, which
// is a private one.
func startPipeWire(t *testing.T) *pipeWire {
	t.Helper()
	for _, tool := range []string{"pipewire", "wireplumber", "wpctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian packages pipewire, pipewire-bin, wireplumber); skipping", tool)
		}
	}
	bus := dconftest.StartSessionBus(t)
	dir, err := os.MkdirTemp("", "noema-pw-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	confDir := filepath.Join(dir, "config", "pipewire", "pipewire.conf.d")
	for _, d := range []string{filepath.Join(dir, "run"), filepath.Join(dir, "home"), confDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(confDir, "noema-null.conf"), []byte(nullSinkConf), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := &pipeWire{Env: []string{
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"HOME=" + filepath.Join(dir, "home"),
		"DBUS_SESSION_BUS_ADDRESS=" + bus.Address,
		"PIPEWIRE_REMOTE=pipewire-0",
	}}
	for _, daemon := range []string{"pipewire", "wireplumber"} {
		cmd := exec.Command(daemon)
		cmd.Env = append(os.Environ(), pw.Env...)
		var stderr syncBuffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", daemon, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		if daemon == "pipewire" {
			sock := filepath.Join(dir, "run", "pipewire-0")
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if _, err := os.Stat(sock); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("pipewire did not listen within 20s:\n%s", stderr.String())
				}
			}
			continue
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if _, err := pw.wpctl("inspect", "@DEFAULT_AUDIO_SINK@"); err == nil {
				break
			}
			select {
			case <-exited:
				t.Fatalf("wireplumber exited:\n%s", stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no default sink within 20s:\n%s", stderr.String())
			}
		}
	}
	return pw
}

func (pw *pipeWire) wpctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wpctl", args...)
	cmd.Env = append(os.Environ(), pw.Env...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (pw *pipeWire) volume(t *testing.T) string {
	t.Helper()
	out, err := pw.wpctl("get-volume", "@DEFAULT_AUDIO_SINK@")
	if err != nil {
		t.Fatalf("wpctl get-volume: %v: %s", err, out)
	}
	return out
}

func TestVolumePipeWire(t *testing.T) {
	pw := startPipeWire(t)
	if _, err := pw.wpctl("set-volume", "@DEFAULT_AUDIO_SINK@", "0.45"); err != nil {
		t.Fatal(err)
	}
	// Backend left empty: wpctl answers, so it is chosen.
	m := newModule(t, desktop.Options{Audio: desktop.AudioOptions{Env: pw.Env}})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "desktop.volume.set", `{"percent":30}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if b := result(t, env)["backend"]; b != "wpctl" {
		t.Fatalf("backend = %v, want wpctl", b)
	}
	if v := pw.volume(t); v != "Volume: 0.30" {
		t.Fatalf("after set: %s", v)
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if v := pw.volume(t); v != "Volume: 0.45" {
		t.Fatalf("after undo: %s", v)
	}

	env = p.Do(t, "desktop.volume.set", `{"delta":-20}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if v := pw.volume(t); v != "Volume: 0.25" {
		t.Fatalf("after -20: %s", v)
	}

	mute := p.Do(t, "desktop.volume.mute", `{"muted":true}`)
	pipelinetest.RequireState(t, mute, action.Succeeded)
	if v := pw.volume(t); v != "Volume: 0.25 [MUTED]" {
		t.Fatalf("after mute: %s", v)
	}
	u = p.Undo(t, mute.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if v := pw.volume(t); v != "Volume: 0.25" {
		t.Fatalf("after unmute: %s", v)
	}
	u = p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if v := pw.volume(t); v != "Volume: 0.45" {
		t.Fatalf("after undo: %s", v)
	}
	p.Verify(t)
}

func TestVolumePipeWireGone(t *testing.T) {
	if _, err := exec.LookPath("wpctl"); err != nil {
		t.Skip("wpctl is not installed (Debian package wireplumber); skipping")
	}
	m := newModule(t, desktop.Options{Audio: desktop.AudioOptions{Backend: "wpctl",
		Env: []string{"XDG_RUNTIME_DIR=" + t.TempDir(), "PIPEWIRE_REMOTE=pipewire-0"}}})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	requireFailed(t, p.Do(t, "desktop.volume.set", `{"percent":40}`), "PipeWire")
	requireFailed(t, p.Do(t, "desktop.volume.mute", `{"muted":true}`), "PipeWire")
}
