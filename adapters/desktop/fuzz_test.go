package desktop

import (
	"reflect"
	"strings"
	"testing"
)

var desktopSeeds = []string{
	"[Desktop Entry]\nType=Application\nName=Firefox\nName[de]=Feuerfuchs\nGenericName=Web Browser\nKeywords=web;www;\nExec=firefox %u\nTryExec=firefox\n",
	"[Desktop Entry]\nType=Application\nName=Sh\nExec=sh -c \"echo \\\\\"x\\\\\" \\\\$HOME\" %F\nTerminal=true\nOnlyShowIn=GNOME;\n",
	"\xef\xbb\xbf[Desktop Entry]\r\nType=Link\r\nName=L\r\nURL=x\r\n[Other]\nName=y\n",
	"[Desktop Entry]\nType=Application\nName=x\nHidden=true\nNoDisplay=1\nExec='a b' c\\ d %i %c %k %%\n",
	"[Desktop Entry\n",
	"",
}

func FuzzParseDesktopEntry(f *testing.F) {
	for _, s := range desktopSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseDesktopEntry(data)
		if err != nil {
			return
		}
		if e.Type == "" || e.Name == "" || len(e.Names) == 0 {
			t.Fatalf("accepted an entry without Type or Name: %+v", e)
		}
		for _, k := range e.Keywords {
			if k == "" || strings.TrimSpace(k) != k {
				t.Fatalf("keyword %q not trimmed", k)
			}
		}
		if argv, err := splitExec(e.Exec, execContext{Icon: e.Icon, Name: e.Name, Path: "/x.desktop"}); err == nil && (len(argv) == 0 || argv[0] == "") {
			t.Fatalf("Exec %q gave argv %q", e.Exec, argv)
		}
	})
}

// quoteExec writes argv the way the Desktop Entry spec asks Exec
// arguments to be quoted.
func quoteExec(argv []string) string {
	var parts []string
	for _, a := range argv {
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(a); i++ {
			switch a[i] {
			case '"', '`', '$', '\\':
				b.WriteByte('\\')
			case '%':
				b.WriteByte('%')
			}
			b.WriteByte(a[i])
		}
		b.WriteByte('"')
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " ")
}

func FuzzSplitExec(f *testing.F) {
	for _, s := range []string{
		"firefox %u", `"/opt/My App/app" --x=%f`, `sh -c 'a b' "c \"d\" \$e \\ \x60"`, "app %i %c %k %% %z", `a\ b`, `"" x`, "%U", `"open`, "'open", `x\`,
	} {
		f.Add(s)
	}
	x := execContext{Icon: "icon", Name: "Name", Path: "/p.desktop"}
	f.Fuzz(func(t *testing.T, s string) {
		argv, err := splitExec(s, x)
		if err != nil {
			return
		}
		if len(argv) == 0 || argv[0] == "" {
			t.Fatalf("%q gave argv %q", s, argv)
		}
		// Whatever came out survives quoting by the spec's rules.
		again, err := splitExec(quoteExec(argv), execContext{})
		if err != nil {
			t.Fatalf("requoted %q: %v", quoteExec(argv), err)
		}
		if !reflect.DeepEqual(again, argv) {
			t.Fatalf("%q → %q → %q → %q", s, argv, quoteExec(argv), again)
		}
	})
}

func FuzzFindApp(f *testing.F) {
	for _, s := range desktopSeeds {
		f.Add([]byte(s), "firefox")
	}
	f.Add([]byte(desktopSeeds[0]), "web browser")
	f.Fuzz(func(t *testing.T, data []byte, q string) {
		e, err := parseDesktopEntry(data)
		if err != nil {
			return
		}
		e.ID = "fuzz.desktop"
		other := &desktopEntry{ID: "other.desktop", Type: "Application", Name: q, Names: []string{q}, Exec: "other"}
		got, err := findApp([]*desktopEntry{e, other}, q, []string{"gnome"})
		if err == nil && got != e && got != other {
			t.Fatalf("found an entry that was not offered")
		}
	})
}

func FuzzParsePactlSinks(f *testing.F) {
	f.Add([]byte(pactlSample))
	f.Add([]byte("Sink #0\n\tName: a\n\tMute: no\n\tVolume: mono: 65536 / 100%\n"))
	f.Add([]byte("Sink #1\n\tName: b\n\tVolume: front-left: 1 / 0% / -inf dB, front-right: 2 / 0% / -inf dB\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sinks, err := parsePactlSinks(data)
		if err != nil {
			return
		}
		for _, s := range sinks {
			if s.Name == "" || len(s.Channels) == 0 || len(s.Channels) > 32 {
				t.Fatalf("accepted sink %+v", s)
			}
			for _, c := range s.Channels {
				if c > pulseMax {
					t.Fatalf("channel volume %d out of range", c)
				}
			}
		}
	})
}

func FuzzParsePactlInfo(f *testing.F) {
	f.Add([]byte("Server Name: pulseaudio\nDefault Sink: noema_test\n"))
	f.Add([]byte("Default Sink:\n::\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k, v := range parsePactlInfo(data) {
			if strings.TrimSpace(k) != k || strings.TrimSpace(v) != v {
				t.Fatalf("untrimmed %q: %q", k, v)
			}
		}
	})
}

func FuzzParseWpctl(f *testing.F) {
	f.Add([]byte("Volume: 0.40 [MUTED]\n"))
	f.Add([]byte("id 46, type PipeWire:Interface:Node\n  * node.name = \"x\"\n"))
	f.Add([]byte("Volume: 1e308"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, _, err := parseWpctlVolume(data); err == nil && (v < 0 || v > 10 || v != v) {
			t.Fatalf("volume %v accepted", v)
		}
		parseWpctlInspect(data)
	})
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10\n"))
	f.Add([]byte("1 ()) Z 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseProcStat(data)
		if err == nil && !strings.Contains(string(data), "("+st.Comm+")") {
			t.Fatalf("comm %q is not what the parentheses hold", st.Comm)
		}
	})
}

func FuzzParseSysfsUint(f *testing.F) {
	f.Add([]byte("1000\n"))
	f.Add([]byte(" 7 "))
	f.Add([]byte("4294967296"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseSysfsUint(data)
	})
}
