package desktop

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseDesktopEntry(t *testing.T) {
	data := "\xef\xbb\xbf# comment\n[Desktop Entry]\r\nType=Application\nName = Firefox Web Browser\nName[de]=Firefox-Webbrowser\n" +
		"GenericName=Web Browser\nKeywords=Internet;WWW;Browser\\;Web;\nKeywords[fr]=Navigateur;\n" +
		"Exec=firefox-esr %u\nTryExec=firefox-esr\nIcon=firefox-esr\nTerminal=false\nNoDisplay=true\n" +
		"OnlyShowIn=GNOME;Unity;\nComment=line\\sone\\ntwo\nName=ignored duplicate\n" +
		"[Desktop Action new-window]\nName=New Window\nExec=firefox-esr --new-window\n"
	e, err := parseDesktopEntry([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := &desktopEntry{
		Type: "Application", Name: "Firefox Web Browser", Names: []string{"Firefox Web Browser", "Firefox-Webbrowser"},
		GenericNames: []string{"Web Browser"}, Keywords: []string{"Internet", "WWW", "Browser;Web", "Navigateur"},
		Exec: "firefox-esr %u", TryExec: "firefox-esr", Icon: "firefox-esr", NoDisplay: true,
		OnlyShowIn: []string{"GNOME", "Unity"},
	}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("got  %+v\nwant %+v", e, want)
	}
	for _, bad := range []string{
		"", "Type=Application\nName=x\n", "[Desktop Entry]\nName=x\n", "[Desktop Entry]\nType=Application\n",
		"[Desktop Entry]\nType=Application\nName=x\n[Desktop Entry]\n", "[Desktop Entry\nType=Application\n", "\xff\xfe",
	} {
		if _, err := parseDesktopEntry([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestSplitExec(t *testing.T) {
	x := execContext{Icon: "app-icon", Name: "My App", Path: "/usr/share/applications/my.desktop"}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"firefox %u", []string{"firefox"}},
		{"gimp-2.10 %U", []string{"gimp-2.10"}},
		{"app --file=%f --x", []string{"app", "--file=", "--x"}},
		{"app %i %c %k", []string{"app", "--icon", "app-icon", "My App", "/usr/share/applications/my.desktop"}},
		{`"/opt/My App/bin/app" --flag`, []string{"/opt/My App/bin/app", "--flag"}},
		{"sh -c \"echo \\\"hi\\\" \\$HOME \\\\ \\` done\"", []string{"sh", "-c", "echo \"hi\" $HOME \\ ` done"}},
		{`sh -c 'sleep 1 && echo ok'`, []string{"sh", "-c", "sleep 1 && echo ok"}},
		{`app "" end`, []string{"app", "", "end"}},
		{"app 100%%", []string{"app", "100%"}},
		{"app %z", []string{"app", "%z"}},
		{"app   spaced\targs", []string{"app", "spaced", "args"}},
		{`app with\ space`, []string{"app", "with space"}},
		{"env FOO=1 app %F", []string{"env", "FOO=1", "app"}},
		{`"app"%f`, []string{"app"}},
		{"app %", []string{"app", "%"}},
	} {
		got, err := splitExec(c.in, x)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
	if got, _ := splitExec("app %i", execContext{}); !reflect.DeepEqual(got, []string{"app"}) {
		t.Errorf("%%i without an icon: %q", got)
	}
	for _, bad := range []string{"", "   ", "%U", `"unterminated`, "'open", `trailing\`, `"" %f`} {
		if got, err := splitExec(bad, x); err == nil {
			t.Errorf("%q split into %q", bad, got)
		}
	}
}

func TestUnescapeAndLists(t *testing.T) {
	if got := unescapeString(`a\sb\tc\\d\;e\`); got != "a b\tc\\d\\;e\\" {
		t.Errorf("unescape: %q", got)
	}
	if got := splitList(`a;b\;c;;  d ;`); !reflect.DeepEqual(got, []string{"a", "b;c", "d"}) {
		t.Errorf("list: %q", got)
	}
}

func entry(id, data string) *desktopEntry {
	e, err := parseDesktopEntry([]byte("[Desktop Entry]\nType=Application\n" + data))
	if err != nil {
		panic(err)
	}
	e.ID = id
	return e
}

func TestFindApp(t *testing.T) {
	entries := []*desktopEntry{
		entry("firefox-esr.desktop", "Name=Firefox ESR\nGenericName=Web Browser\nKeywords=Internet;WWW;\nExec=/usr/lib/firefox-esr/firefox-esr %u\n"),
		entry("org.gnome.Nautilus.desktop", "Name=Files\nKeywords=folder;manager;explore;\nExec=nautilus --new-window %U\n"),
		entry("org.gnome.TextEditor.desktop", "Name=Text Editor\nGenericName=Text Editor\nExec=gnome-text-editor %U\n"),
		entry("vim.desktop", "Name=Vim\nGenericName=Text Editor\nExec=vim %F\nTerminal=true\n"),
		entry("kde-konsole.desktop", "Name=Konsole\nGenericName=Terminal\nOnlyShowIn=KDE;\nExec=konsole\n"),
		entry("org.gnome.Terminal.desktop", "Name=Terminal\nExec=gnome-terminal\n"),
		entry("xterm.desktop", "Name=XTerm\nGenericName=Terminal\nNotShowIn=GNOME;\nExec=xterm\n"),
		entry("handler.desktop", "Name=URL Handler\nNoDisplay=true\nExec=handler %u\n"),
	}
	for q, want := range map[string]string{
		"firefox":             "firefox-esr.desktop",
		"Firefox":             "firefox-esr.desktop",
		"firefox web browser": "firefox-esr.desktop",
		"web browser":         "firefox-esr.desktop",
		"browser":             "firefox-esr.desktop",
		"files":               "org.gnome.Nautilus.desktop",
		"nautilus":            "org.gnome.Nautilus.desktop",
		"file manager":        "",
		"explore":             "org.gnome.Nautilus.desktop",
		"text editor":         "org.gnome.TextEditor.desktop",
		"vim":                 "vim.desktop",
		"terminal":            "org.gnome.Terminal.desktop",
		"konsole":             "kde-konsole.desktop",
		"kde-konsole.desktop": "kde-konsole.desktop",
		"url handler":         "handler.desktop",
		"handler":             "handler.desktop", // its desktop id
		"url":                 "",
		"":                    "",
	} {
		e, err := findApp(entries, q, []string{"gnome"})
		got := ""
		if err == nil {
			got = e.ID
		}
		if got != want {
			t.Errorf("%q: got %q (%v), want %q", q, got, err, want)
		}
	}
}

func TestLoadEntriesPrecedence(t *testing.T) {
	home, sys := t.TempDir(), t.TempDir()
	write := func(dir, rel, data string) {
		p := filepath.Join(dir, "applications", rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(home, "a.desktop", "[Desktop Entry]\nType=Application\nName=Home A\nExec=a\n")
	write(sys, "a.desktop", "[Desktop Entry]\nType=Application\nName=System A\nExec=a\n")
	write(sys, "vendor/b.desktop", "[Desktop Entry]\nType=Application\nName=B\nExec=b\n")
	write(sys, "broken.desktop", "not a desktop file")
	write(sys, "notes.txt", "[Desktop Entry]\nType=Application\nName=Txt\nExec=t\n")
	got, err := loadEntries(t.Context(), AppOptions{DataHome: home, DataDirs: []string{sys}}.applicationDirs())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID+"="+e.Name)
	}
	if want := []string{"a.desktop=Home A", "vendor-b.desktop=B"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("entries %q, want %q", ids, want)
	}
}

func TestParsePactl(t *testing.T) {
	info := parsePactlInfo([]byte("Server String: /run/user/1000/pulse/native\nServer Name: PulseAudio (on PipeWire 0.3.65)\nDefault Sink: alsa_output.pci-0000_00_1f.3.analog-stereo\nDefault Source: x\n"))
	if info["Default Sink"] != "alsa_output.pci-0000_00_1f.3.analog-stereo" || info["Server Name"] != "PulseAudio (on PipeWire 0.3.65)" {
		t.Fatalf("info %v", info)
	}
	sinks, err := parsePactlSinks([]byte(pactlSample))
	if err != nil {
		t.Fatal(err)
	}
	want := []pactlSink{
		{Index: 0, Name: "noema_test", Channels: []uint32{19661, 30000}},
		{Index: 7, Name: "mono_out", Muted: true, Channels: []uint32{0}},
	}
	if !reflect.DeepEqual(sinks, want) {
		t.Fatalf("got %+v\nwant %+v", sinks, want)
	}
	for _, bad := range []string{
		"Sink #x\n\tName: a\n",
		"Sink #0\n\tName: a\n",
		"Sink #0\n\tName: a\n\tMute: maybe\n\tVolume: mono: 1 / 0%\n",
		"Sink #0\n\tName: a\n\tVolume: mono: -1 / 0%\n",
		"Sink #0\n\tName: a\n\tVolume: garbage\n",
	} {
		if got, err := parsePactlSinks([]byte(bad)); err == nil {
			t.Errorf("%q parsed as %+v", bad, got)
		}
	}
	if s, err := parsePactlSinks(nil); err != nil || len(s) != 0 {
		t.Errorf("empty list: %v %v", s, err)
	}
}

const pactlSample = `Sink #0
	State: IDLE
	Name: noema_test
	Description: Null Output
	Driver: module-null-sink.c
	Sample Specification: s16le 2ch 44100Hz
	Channel Map: front-left,front-right
	Owner Module: 0
	Mute: no
	Volume: front-left: 19661 /  30% / -31.37 dB,   front-right: 30000 /  46% / -20.36 dB
	        balance 0.34
	Base Volume: 65536 / 100% / 0.00 dB
	Monitor Source: noema_test.monitor
	Latency: 19613 usec, configured 2000000 usec
	Flags: DECIBEL_VOLUME LATENCY SET_FORMATS
	Properties:
		device.description = "Null Output"
		Name: not-this-one
		Mute: yes
	Formats:
		pcm

Sink #7
	State: SUSPENDED
	Name: mono_out
	Mute: yes
	Volume: mono: 0 /   0%
	        balance 0.00
`

func TestParseWpctl(t *testing.T) {
	for in, want := range map[string]struct {
		vol   float64
		muted bool
	}{
		"Volume: 0.40\n":         {0.40, false},
		"Volume: 1.00 [MUTED]\n": {1, true},
		"  Volume: 0.05  \n":     {0.05, false},
		"Volume: 1.25":           {1.25, false},
	} {
		v, m, err := parseWpctlVolume([]byte(in))
		if err != nil || v != want.vol || m != want.muted {
			t.Errorf("%q: %v %v %v", in, v, m, err)
		}
	}
	for _, bad := range []string{"", "Volume:", "Volume: loud", "Volume: -1", "Volume: NaN", "Volume: 1e9"} {
		if _, _, err := parseWpctlVolume([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	id, typ, err := parseWpctlInspect([]byte("id 46, type PipeWire:Interface:Node\n    alsa.card = \"0\"\n  * node.name = \"alsa_output.pci\"\n"))
	if err != nil || id != 46 || typ != "PipeWire:Interface:Node" {
		t.Fatalf("inspect: %d %q %v", id, typ, err)
	}
	for _, bad := range []string{"", "Object not found", "id x, type y", "id 4294967296, type Node"} {
		if _, _, err := parseWpctlInspect([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	st, err := parseProcStat([]byte("4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Comm != "my (odd) prog" || st.State != 'S' || st.PGID != 4242 || st.Start != 987654 {
		t.Fatalf("%+v", st)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	self, ok, err := readProcStat(os.Getpid())
	if err != nil || !ok || !self.alive() || self.Start == 0 {
		t.Fatalf("own stat: %+v %v %v", self, ok, err)
	}
}

func TestBacklightMath(t *testing.T) {
	for _, c := range []struct {
		percent int
		max     uint32
		want    uint32
	}{
		{0, 1000, 10}, {1, 1000, 10}, {30, 1000, 300}, {100, 1000, 1000}, {0, 7, 1}, {50, 7, 4}, {100, 7, 7}, {0, 1, 1}, {0, 120000, 1200},
	} {
		if got := percentToRaw(c.percent, c.max); got != c.want {
			t.Errorf("percentToRaw(%d, %d) = %d, want %d", c.percent, c.max, got, c.want)
		}
	}
	for _, c := range []struct {
		raw, max uint32
		delta    int
		want     uint32
	}{
		{500, 1000, -10, 400}, {500, 1000, 10, 600}, {3, 7, 1, 4}, {3, 7, -1, 2}, {1, 7, -50, 1}, {990, 1000, 20, 1000}, {5, 1000, 0, 10},
	} {
		if got := deltaToRaw(backlightState{Raw: c.raw, Max: c.max}, c.delta); got != c.want {
			t.Errorf("deltaToRaw(%d/%d, %d) = %d, want %d", c.raw, c.max, c.delta, got, c.want)
		}
	}
}

func TestFindBacklightPrefersFirmware(t *testing.T) {
	root := t.TempDir()
	for dev, typ := range map[string]string{"intel_backlight": "raw", "acpi_video0": "firmware", "nv_backlight": "platform", "broken": ""} {
		dir := filepath.Join(root, "class", "backlight", dev)
		os.MkdirAll(dir, 0o755)
		if typ == "" {
			continue // no max_brightness: not usable
		}
		os.WriteFile(filepath.Join(dir, "type"), []byte(typ+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "max_brightness"), []byte("100\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "brightness"), []byte("50\n"), 0o644)
	}
	m := New(Options{SysfsRoot: root})
	b, err := m.findBacklight("")
	if err != nil || b.Name != "acpi_video0" {
		t.Fatalf("picked %q (%v)", b.Name, err)
	}
	if b, err := m.findBacklight("intel_backlight"); err != nil || b.Name != "intel_backlight" {
		t.Fatalf("named: %q (%v)", b.Name, err)
	}
	for _, bad := range []string{"../x", "..", "broken", "nope"} {
		if _, err := m.findBacklight(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !strings.Contains(func() string { _, err := New(Options{SysfsRoot: t.TempDir()}).findBacklight(""); return err.Error() }(), "no backlight") {
		t.Error("missing class directory not explained")
	}
}
