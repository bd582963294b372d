package system

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and parentheses; fields count from
	// the last ')'.
	line := "4242 (we) (ird name) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 1 0 98765 1000000 321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{PID: 4242, Comm: "we) (ird name", State: 'S', PPID: 1, Flags: 4194560, UTime: 17, STime: 5, StartTicks: 98765, RSSPages: 321}
	if st != want {
		t.Errorf("got %+v\nwant %+v", st, want)
	}
	if st.Kernel() || st.Dead() {
		t.Error("flags misread")
	}
	kt := strings.Replace(line, "4194560", "2129984", 1) // PF_KTHREAD set
	if st, _ := parseStat([]byte(kt)); !st.Kernel() {
		t.Error("kernel thread not recognised")
	}
	for _, bad := range []string{"", "1 (x)", "x (y) S 1", "0 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0", "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err == nil {
		st, err := parseStat(self)
		if err != nil || st.PID != os.Getpid() || st.PPID != os.Getppid() {
			t.Errorf("own stat: %+v %v", st, err)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	mi, err := parseMeminfo([]byte("MemTotal:       16314024 kB\nMemFree:  100 kB\nMemAvailable: 8000000 kB\nHugePages_Total:       0\nbogus line\nSwapTotal: x kB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if mi["MemTotal"] != 16314024*1024 || mi["MemAvailable"] != 8000000*1024 || mi["HugePages_Total"] != 0 {
		t.Errorf("%v", mi)
	}
	if _, ok := mi["SwapTotal"]; ok {
		t.Error("unparsable value kept")
	}
	if _, err := parseMeminfo([]byte("MemFree: 1 kB\n")); err == nil {
		t.Error("meminfo without MemTotal accepted")
	}
}

func TestParseCPUInfo(t *testing.T) {
	x86 := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7\n\nprocessor\t: 1\nmodel name\t: Intel(R) Core(TM) i7\n"
	if c := parseCPUInfo([]byte(x86)); c.Logical != 2 || c.Model != "Intel(R) Core(TM) i7" {
		t.Errorf("x86: %+v", c)
	}
	arm := "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nprocessor\t: 1\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
	if c := parseCPUInfo([]byte(arm)); c.Logical != 2 || c.Model != "Raspberry Pi 4 Model B Rev 1.4" {
		t.Errorf("arm: %+v", c)
	}
}

func TestParseOSRelease(t *testing.T) {
	in := `# comment
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
PRETTY_NAME="Say \"hi\" \$HOME \\ \` + "`" + `x"
HOME_URL='https://www.debian.org/'
BAD="unterminated
ALSO BAD=1
SPACED=two words
EMPTY=
`
	got := parseOSRelease([]byte(in))
	want := map[string]string{
		"NAME": "Debian GNU/Linux", "VERSION_ID": "12", "ID": "debian",
		"PRETTY_NAME": "Say \"hi\" $HOME \\ `x", "HOME_URL": "https://www.debian.org/", "EMPTY": "",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestParseLoadAndUptime(t *testing.T) {
	l, err := parseLoadAvg([]byte("0.52 0.58 0.59 2/1234 56789\n"))
	if err != nil || l != (loadAvg{Load1: 0.52, Load5: 0.58, Load15: 0.59, Running: 2, Processes: 1234}) {
		t.Errorf("%+v %v", l, err)
	}
	for _, bad := range []string{"", "1 2 3", "a 1 1 1/1", "1 1 1 11", "-1 1 1 1/1", "NaN 1 1 1/1"} {
		if _, err := parseLoadAvg([]byte(bad)); err == nil {
			t.Errorf("parseLoadAvg(%q) accepted", bad)
		}
	}
	if u, err := parseUptime([]byte("350735.47 234388.90\n")); err != nil || u != 350735.47 {
		t.Errorf("%v %v", u, err)
	}
	for _, bad := range []string{"", "x", "-1 2", "NaN 1", "Inf 1"} {
		if _, err := parseUptime([]byte(bad)); err == nil {
			t.Errorf("parseUptime(%q) accepted", bad)
		}
	}
}

func TestParseStatusAndCmdline(t *testing.T) {
	if uid, err := parseStatusUID([]byte("Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t1\n")); err != nil || uid != 1000 {
		t.Errorf("%d %v", uid, err)
	}
	if _, err := parseStatusUID([]byte("Name:\tx\n")); err == nil {
		t.Error("status without Uid accepted")
	}
	if got := parseCmdline([]byte("sleep\x00600\x00\x00")); !reflect.DeepEqual(got, []string{"sleep", "600"}) {
		t.Errorf("%q", got)
	}
	if got := parseCmdline(nil); got != nil {
		t.Errorf("%q", got)
	}
}

func TestReadStanzas(t *testing.T) {
	var got []stanza
	err := readStanzas(strings.NewReader(sampleStatus), func(s stanza) bool { got = append(got, s); return true })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d stanzas", len(got))
	}
	if got[0]["description"] != "the first letter\nA longer text that\n.\nspans lines." || got[0]["installed-size"] != "120" {
		t.Errorf("%q", got[0])
	}
	if got[1]["conffiles"] != "\n/etc/beta.conf 0123456789abcdef0123456789abcdef" {
		t.Errorf("%q", got[1]["conffiles"])
	}
	// Stopping early.
	n := 0
	readStanzas(strings.NewReader(sampleStatus), func(stanza) bool { n++; return false })
	if n != 1 {
		t.Errorf("callback ran %d times after asking to stop", n)
	}
	for _, bad := range []string{" continuation first\n", "no colon here\n", "two words: x\n"} {
		if err := readStanzas(strings.NewReader(bad), func(stanza) bool { return true }); err == nil {
			t.Errorf("readStanzas(%q) accepted", bad)
		}
	}
}

func TestParseAptSimulation(t *testing.T) {
	out := `NOTE: This is only a simulation!
Reading package lists...
The following NEW packages will be installed:
  noema-test-app noema-test-lib
Inst noema-test-lib (1.0-1 localhost [all])
Inst libfoo:i386 [1.0] (1.1 Debian:12/stable [i386])
Remv old-thing [0.5]
Purg gone-thing [2]
Conf noema-test-lib (1.0-1 localhost [all])
Inst -oEvil (1 x)
`
	got := parseAptSimulation([]byte(out))
	want := []aptOp{
		{Op: "Inst", Name: "noema-test-lib", Version: "1.0-1"},
		{Op: "Inst", Name: "libfoo:i386", Version: "1.1"},
		{Op: "Remv", Name: "old-thing", Version: "0.5"},
		{Op: "Purg", Name: "gone-thing", Version: "2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestAptErrors(t *testing.T) {
	if got := aptErrors([]byte("Reading...\nE: Unable to locate package x\nmore\n")); got != "E: Unable to locate package x" {
		t.Errorf("%q", got)
	}
	if got := aptErrors([]byte("a\nb\nc\nd\n")); got != "b; c; d" {
		t.Errorf("%q", got)
	}
	if got := aptErrors(nil); got != "no output" {
		t.Errorf("%q", got)
	}
	tb := &tailBuffer{max: 4}
	tb.Write([]byte("abc"))
	tb.Write([]byte("defg"))
	if string(tb.Bytes()) != "defg" {
		t.Errorf("%q", tb.Bytes())
	}
}
