package desktop_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
)

func (p *pulse) volume(t *testing.T) string {
	t.Helper()
	out := p.mustPactl(t, "get-sink-volume", p.Sink)
	line, _, _ := strings.Cut(out, "\n")
	return strings.Join(strings.Fields(line), " ")
}

func (p *pulse) mute(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(p.mustPactl(t, "get-sink-mute", p.Sink))
}

func TestVolumeSetAndUndo(t *testing.T) {
	pa := startPulse(t)
	// An unbalanced sink: undo must bring back both channels exactly.
	pa.mustPactl(t, "set-sink-volume", pa.Sink, "30000", "40000")
	before := pa.volume(t)

	// Backend left empty: the module picks the tool that answers.
	m := newModule(t, desktop.Options{Audio: desktop.AudioOptions{Env: pa.Env}})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)

	env := p.Do(t, "desktop.volume.set", `{"percent":30}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	requirePreview(t, env, "61%", "30%")
	if v := pa.volume(t); strings.Count(v, " 30% ") != 2 {
		t.Fatalf("volume after set: %s, want 30%% on both channels", v)
	}
	if b := result(t, env)["backend"]; b != "pactl" {
		t.Fatalf("backend = %v", b)
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if v := pa.volume(t); v != before {
		t.Fatalf("after undo: %s, want %s", v, before)
	}

	// Relative: the loudest channel (40000 ≈ 61 %) goes up 15 points.
	env = p.Do(t, "desktop.volume.set", `{"delta":15}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if v := pa.volume(t); strings.Count(v, " 76% ") != 2 {
		t.Fatalf("volume after +15: %s, want 76%%", v)
	}
	u = p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if v := pa.volume(t); v != before {
		t.Fatalf("after undo: %s, want %s", v, before)
	}

	// Relative steps stop at 0 and 100.
	env = p.Do(t, "desktop.volume.set", `{"delta":90}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if v := pa.volume(t); strings.Count(v, " 100% ") != 2 {
		t.Fatalf("volume after +90: %s, want 100%%", v)
	}
	env = p.Do(t, "desktop.volume.set", `{"delta":-100}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if v := pa.volume(t); strings.Count(v, " 0% ") != 2 {
		t.Fatalf("volume after -100: %s, want 0%%", v)
	}
	p.Verify(t)
}

func TestVolumeMuteAndUndo(t *testing.T) {
	pa := startPulse(t)
	m := newModule(t, desktop.Options{Audio: desktop.AudioOptions{Backend: "pactl", Env: pa.Env}})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	if got := pa.mute(t); got != "Mute: no" {
		t.Fatalf("initial %s", got)
	}
	env := p.Do(t, "desktop.volume.mute", `{"muted":true}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	requirePreview(t, env, "false", "true")
	if got := pa.mute(t); got != "Mute: yes" {
		t.Fatalf("after mute: %s", got)
	}
	// Setting the volume while muted keeps it muted and says so.
	vol := p.Do(t, "desktop.volume.set", `{"percent":55}`)
	pipelinetest.RequireState(t, vol, action.Succeeded)
	if got := pa.mute(t); got != "Mute: yes" {
		t.Fatalf("volume.set changed mute: %s", got)
	}
	if note, _ := result(t, vol)["note"].(string); !strings.Contains(note, "muted") {
		t.Fatalf("result does not mention mute: %s", vol.Execution.Result)
	}
	u := p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := pa.mute(t); got != "Mute: no" {
		t.Fatalf("after undo: %s", got)
	}
	// Unmuting an unmuted output succeeds and undoes to unmuted.
	env = p.Do(t, "desktop.volume.mute", `{"muted":false}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	u = p.Undo(t, env.Identity.ActionID)
	pipelinetest.RequireState(t, u, action.Succeeded)
	if got := pa.mute(t); got != "Mute: no" {
		t.Fatalf("after undo: %s", got)
	}
	p.Verify(t)
}

func TestVolumeNamedSink(t *testing.T) {
	pa := startPulse(t)
	pa.mustPactl(t, "load-module", "module-null-sink", "sink_name=second")
	m := newModule(t, desktop.Options{Audio: desktop.AudioOptions{Backend: "pactl", Env: pa.Env, Sink: "second"}})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	before := pa.volume(t)
	env := p.Do(t, "desktop.volume.set", `{"percent":20}`)
	pipelinetest.RequireState(t, env, action.Succeeded)
	if v := pa.volume(t); v != before {
		t.Fatalf("default sink changed: %s", v)
	}
	if out := pa.mustPactl(t, "get-sink-volume", "second"); strings.Count(out, " 20% ") != 2 {
		t.Fatalf("second sink: %s", out)
	}
}

func TestVolumeWithoutSoundServerFails(t *testing.T) {
	if _, err := exec.LookPath("pactl"); err != nil {
		t.Skip("pactl is not installed (Debian package pulseaudio-utils); skipping")
	}
	m := newModule(t, desktop.Options{Audio: desktop.AudioOptions{Backend: "pactl",
		Env: []string{"PULSE_SERVER=unix:/nonexistent/noema-pulse"}}})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	requireFailed(t, p.Do(t, "desktop.volume.set", `{"percent":40}`), "not answering")
	requireFailed(t, p.Do(t, "desktop.volume.set", `{"delta":-5}`), "not answering")
	requireFailed(t, p.Do(t, "desktop.volume.mute", `{"muted":true}`), "not answering")
	p.Verify(t)
}

func TestVolumeRejectsBadTargets(t *testing.T) {
	m := newModule(t, desktop.Options{})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	for _, c := range []struct{ name, target string }{
		{"desktop.volume.set", `{}`},
		{"desktop.volume.set", `{"percent":101}`},
		{"desktop.volume.set", `{"percent":10,"delta":1}`},
		{"desktop.volume.set", `{"delta":1.5}`},
		{"desktop.volume.mute", `{}`},
		{"desktop.volume.mute", `{"muted":"yes"}`},
	} {
		if err := validate(t, p, c.name, c.target); err == nil {
			t.Errorf("%s %s accepted", c.name, c.target)
		}
	}
}
