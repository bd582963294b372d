package system

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedFile adds a real file of this machine to a fuzz corpus when it can
// be read.
func seedFile(f *testing.F, path string) {
	if b, err := os.ReadFile(path); err == nil {
		f.Add(b)
	}
}

func FuzzParseStat(f *testing.F) {
	seedFile(f, "/proc/self/stat")
	seedFile(f, "/proc/1/stat")
	f.Add([]byte("4242 (we) (ird name) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 1 0 98765 1000000 321 1 1 1"))
	f.Add([]byte("1 () Z 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStat(b)
		if err != nil {
			return
		}
		if st.PID <= 0 {
			t.Fatalf("pid %d accepted", st.PID)
		}
		if strings.Count(string(b), ")") == 0 {
			t.Fatal("parsed without a command name")
		}
	})
}

func FuzzParseStatusUID(f *testing.F) {
	seedFile(f, "/proc/self/status")
	f.Add([]byte("Uid:\t0\t0\t0\t0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if uid, err := parseStatusUID(b); err == nil && uid < 0 {
			t.Fatalf("uid %d", uid)
		}
	})
}

func FuzzParseCmdline(f *testing.F) {
	seedFile(f, "/proc/self/cmdline")
	f.Add([]byte("a\x00\x00b\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, a := range parseCmdline(b) {
			if !utf8.ValidString(a) {
				t.Fatalf("invalid UTF-8 argument %q", a)
			}
		}
	})
}

func FuzzParseMeminfo(f *testing.F) {
	seedFile(f, "/proc/meminfo")
	f.Add([]byte("MemTotal: 18446744073709551615 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		mi, err := parseMeminfo(b)
		if err == nil && mi == nil {
			t.Fatal("nil map without error")
		}
	})
}

func FuzzParseProcNumbers(f *testing.F) {
	seedFile(f, "/proc/uptime")
	seedFile(f, "/proc/loadavg")
	f.Add([]byte("0.52 0.58 0.59 2/1234 56789\n"))
	f.Add([]byte("1e308 1e308 1e308 0/0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if u, err := parseUptime(b); err == nil && (u < 0 || u != u) {
			t.Fatalf("uptime %v", u)
		}
		if l, err := parseLoadAvg(b); err == nil && (l.Load1 < 0 || l.Running < 0 || l.Processes < 0) {
			t.Fatalf("load %+v", l)
		}
		parseBootID(b)
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	seedFile(f, "/proc/cpuinfo")
	f.Add([]byte("processor\t: 0\nHardware\t: X\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c := parseCPUInfo(b); c.Logical < 0 {
			t.Fatalf("%+v", c)
		}
	})
}

func FuzzParseOSRelease(f *testing.F) {
	seedFile(f, "/etc/os-release")
	seedFile(f, "/usr/lib/os-release")
	f.Add([]byte(`A="x \" y"` + "\nB='z'\nC=plain\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range parseOSRelease(b) {
			if !validEnvName(k) {
				t.Fatalf("key %q", k)
			}
		}
	})
}

// FuzzReadStanzas checks the deb822 reader never panics and that what it
// reads, written back out, reads the same.
func FuzzReadStanzas(f *testing.F) {
	f.Add([]byte(sampleStatus))
	f.Add([]byte("A: b\n c\n\n\n#x\nD:\n .\n"))
	if fh, err := os.Open(realStatus); err == nil {
		buf := make([]byte, 16<<10)
		n, _ := fh.Read(buf)
		fh.Close()
		f.Add(buf[:n])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var first []stanza
		if err := readStanzas(bytes.NewReader(b), func(s stanza) bool { first = append(first, s); return true }); err != nil {
			return
		}
		var out strings.Builder
		for _, s := range first {
			keys := make([]string, 0, len(s))
			for k := range s {
				if k == "" || strings.ContainsAny(k, " \t:") || k != strings.ToLower(k) {
					t.Fatalf("bad key %q", k)
				}
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				lines := strings.Split(s[k], "\n")
				fmt.Fprintf(&out, "%s: %s\n", k, lines[0])
				for _, l := range lines[1:] {
					fmt.Fprintf(&out, " %s\n", l)
				}
			}
			out.WriteString("\n")
		}
		var second []stanza
		if err := readStanzas(strings.NewReader(out.String()), func(s stanza) bool { second = append(second, s); return true }); err != nil {
			t.Fatalf("re-read: %v\n%q", err, out.String())
		}
		if fmt.Sprint(first) != fmt.Sprint(second) {
			t.Fatalf("round trip differs:\n%q\n%q", first, second)
		}
		for _, s := range first {
			packageFromStanza(s)
		}
	})
}

func FuzzParseAptSimulation(f *testing.F) {
	f.Add([]byte("Inst a (1 x [all])\nRemv b [2]\nInst c [1] (2 y)\nConf a (1)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, op := range parseAptSimulation(b) {
			if checkPackageName(op.Name) != nil {
				t.Fatalf("invalid name %q passed", op.Name)
			}
		}
		aptErrors(b)
	})
}

func FuzzNormalizeUnit(f *testing.F) {
	for _, s := range []string{"nginx", "getty@tty1.service", "a/b", "-x", "x\\x2d.mount"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := normalizeUnit(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(u, "/ \x00") || len(u) > 255 {
			t.Fatalf("%q normalised to %q", s, u)
		}
		if again, err := normalizeUnit(u); err != nil || again != u {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, u, again, err)
		}
	})
}
