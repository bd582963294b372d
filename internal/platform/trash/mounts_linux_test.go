package trash

import (
	"fmt"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	data := []byte(`22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:5 / /proc rw - proc proc rw
24 22 8:2 / /media/my\040usb rw shared:2 master:1 - vfat /dev/sdb1 rw
25 22 0:30 / /home/u/back\134slash rw - tmpfs tmpfs rw
short line
`)
	got := parseMountinfo(data)
	want := []string{"/", "/media/my usb", `/home/u/back\slash`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseMountinfo = %q, want %q", got, want)
	}
}
