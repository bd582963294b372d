package fusefs

import (
	"slices"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	in := `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
garbage line
90 22 0:50 / /home/u/my\040view rw,nosuid,nodev,relatime shared:1 master:2 - fuse.noema noema ro,user_id=0
91 22 0:51 / /tmp/tab\011and\134slash rw - fuse.sshfs host:/x rw
`
	got := parseMountinfo(strings.NewReader(in))
	want := []mountEntry{
		{"/proc", "proc", "proc"},
		{"/mnt2", "ext3", "/dev/root"},
		{"/home/u/my view", "fuse.noema", "noema"},
		{"/tmp/tab\tand\\slash", "fuse.sshfs", "host:/x"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`a\040b`: "a b", `\134`: `\`, `a\`: `a\`, `\04`: `\04`, `\999`: `\999`, `plain`: "plain",
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseMountinfo: no input makes the parser fail or panic, and
// every entry it returns has a mount point and a type.
func FuzzParseMountinfo(f *testing.F) {
	f.Add("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw\n")
	f.Add("1 2 3 4 5 6 - \n- - - - - - - -\n\\")
	f.Add("90 22 0:50 / /a\\040b rw - fuse.noema noema ro")
	f.Fuzz(func(t *testing.T, in string) {
		for _, m := range parseMountinfo(strings.NewReader(in)) {
			if m.mountPoint == "" || m.fsType == "" {
				t.Fatalf("empty field in %+v", m)
			}
		}
	})
}
