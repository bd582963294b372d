package trash

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseInfo(t *testing.T) {
	date := time.Date(2004, 8, 31, 22, 32, 8, 0, time.Local)
	tests := []struct {
		name, in, base string
		wantPath       string
	}{
		{"basic", "[Trash Info]\nPath=/home/u/a.txt\nDeletionDate=2004-08-31T22:32:08\n", "", "/home/u/a.txt"},
		{"crlf and no final newline", "[Trash Info]\r\nPath=/a\r\nDeletionDate=2004-08-31T22:32:08", "", "/a"},
		{"compact date from the spec example", "[Trash Info]\nPath=/a\nDeletionDate=20040831T22:32:08\n", "", "/a"},
		{"comments, blanks, spaces around =", "# c\n\n[Trash Info]\n# c\n Path = /a \nDeletionDate= 2004-08-31T22:32:08\n", "", "/a"},
		{"unknown keys and later groups ignored", "[Trash Info]\nPath=/a\nX-Foo=bar\nDeletionDate=2004-08-31T22:32:08\n[Other]\nPath=/b\nnot a key=\n", "", "/a"},
		{"percent-encoding", "[Trash Info]\nPath=/a%20b/%C3%BC%25%2b+\nDeletionDate=2004-08-31T22:32:08\n", "", "/a b/ü%++"},
		{"lowercase hex", "[Trash Info]\nPath=/%c3%a4\nDeletionDate=2004-08-31T22:32:08\n", "", "/ä"},
		{"relative with base", "[Trash Info]\nPath=dir/f\nDeletionDate=2004-08-31T22:32:08\n", "/media/usb", "/media/usb/dir/f"},
		{"absolute ignores base", "[Trash Info]\nPath=/x/f\nDeletionDate=2004-08-31T22:32:08\n", "/media/usb", "/x/f"},
		{"cleaned", "[Trash Info]\nPath=/x//y/./f/\nDeletionDate=2004-08-31T22:32:08\n", "", "/x/y/f"},
		{"non-UTF-8 bytes", "[Trash Info]\nPath=/%FF%FE\nDeletionDate=2004-08-31T22:32:08\n", "", "/\xff\xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseInfo([]byte(tt.in), tt.base)
			if err != nil {
				t.Fatalf("ParseInfo: %v", err)
			}
			if info.Path != tt.wantPath {
				t.Errorf("Path = %q, want %q", info.Path, tt.wantPath)
			}
			if !info.DeletionDate.Equal(date) {
				t.Errorf("DeletionDate = %v, want %v", info.DeletionDate, date)
			}
		})
	}
}

func TestParseInfoErrors(t *testing.T) {
	const date = "DeletionDate=2004-08-31T22:32:08\n"
	tests := []struct {
		name, in, base, wantMsg string
	}{
		{"empty", "", "", "missing [Trash Info] group"},
		{"no group", "Path=/a\n" + date, "", "key outside of any group"},
		{"wrong first group", "[Desktop Entry]\n[Trash Info]\nPath=/a\n" + date, "", "first group"},
		{"duplicate group", "[Trash Info]\nPath=/a\n" + date + "[Trash Info]\n", "", "duplicate [Trash Info]"},
		{"unterminated group", "[Trash Info\nPath=/a\n" + date, "", "unterminated group header"},
		{"missing Path", "[Trash Info]\n" + date, "", "missing Path"},
		{"missing date", "[Trash Info]\nPath=/a\n", "", "missing DeletionDate"},
		{"Path in other group only", "[Trash Info]\n" + date + "[X]\nPath=/a\n", "", "missing Path"},
		{"duplicate Path", "[Trash Info]\nPath=/a\nPath=/b\n" + date, "", "duplicate Path"},
		{"duplicate date", "[Trash Info]\nPath=/a\n" + date + date, "", "duplicate DeletionDate"},
		{"no equals", "[Trash Info]\nPath /a\n" + date, "", "expected Key=Value"},
		{"empty Path", "[Trash Info]\nPath=\n" + date, "", "empty Path"},
		{"truncated escape", "[Trash Info]\nPath=/a%2\n" + date, "", "truncated percent-encoding"},
		{"bad escape", "[Trash Info]\nPath=/a%zz\n" + date, "", "invalid percent-encoding"},
		{"lone percent", "[Trash Info]\nPath=/100%\n" + date, "", "truncated percent-encoding"},
		{"NUL", "[Trash Info]\nPath=/a%00b\n" + date, "", "NUL"},
		{"relative without base", "[Trash Info]\nPath=a/b\n" + date, "", "relative Path"},
		{"dotdot relative", "[Trash Info]\nPath=a/../../etc\n" + date, "/media/usb", `".." element`},
		{"dotdot absolute", "[Trash Info]\nPath=/home/u/../../etc/passwd\n" + date, "", `".." element`},
		{"encoded dotdot", "[Trash Info]\nPath=a/%2E%2E/b\n" + date, "/m", `".." element`},
		{"root", "[Trash Info]\nPath=/\n" + date, "", "root directory"},
		{"root via base", "[Trash Info]\nPath=.\n" + date, "/", "root directory"},
		{"bad date", "[Trash Info]\nPath=/a\nDeletionDate=yesterday\n", "", "invalid DeletionDate"},
		{"date with zone", "[Trash Info]\nPath=/a\nDeletionDate=2004-08-31T22:32:08Z\n", "", "invalid DeletionDate"},
		{"impossible date", "[Trash Info]\nPath=/a\nDeletionDate=2004-02-30T22:32:08\n", "", "invalid DeletionDate"},
		{"huge line", "[Trash Info]\nPath=/" + strings.Repeat("a", maxInfoLine) + "\n" + date, "", "line longer than"},
		{"huge file", "[Trash Info]\n" + strings.Repeat("#\n", MaxInfoSize), "", "larger than"},
		{"path too long", "[Trash Info]\nPath=/" + strings.Repeat("%41", maxPathLen) + "\n" + date, "", "Path longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseInfo([]byte(tt.in), tt.base)
			if err == nil {
				t.Fatalf("ParseInfo succeeded with %+v, want error containing %q", info, tt.wantMsg)
			}
			if !errors.Is(err, ErrMalformedInfo) {
				t.Errorf("error %v does not wrap ErrMalformedInfo", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error message is %d bytes long; hostile input must not be echoed in full", len(err.Error()))
			}
		})
	}
}

func TestParseInfoRelativeBase(t *testing.T) {
	if _, err := ParseInfo([]byte("[Trash Info]\nPath=a\nDeletionDate=2004-08-31T22:32:08\n"), "rel"); err == nil || errors.Is(err, ErrMalformedInfo) {
		t.Errorf("relative base: got %v, want a non-ErrMalformedInfo error", err)
	}
}

func TestEscapePathRoundTrip(t *testing.T) {
	for _, p := range []string{"/plain/file.txt", "/with space", "/100%", "/ü日本", "/a+b=c&d#e?f;g", "/new\nline", "/\xff", "/~user/-_."} {
		esc := escapePath(p)
		for i := 0; i < len(esc); i++ {
			if c := esc[i]; c != '%' && c != '/' && !isUnreserved(c) {
				t.Errorf("escapePath(%q) = %q leaves %q unescaped", p, esc, c)
			}
		}
		got, err := unescapePath(esc)
		if err != nil || got != p {
			t.Errorf("unescapePath(escapePath(%q)) = %q, %v", p, got, err)
		}
	}
	if got, want := escapePath("/a b/100%/ü"), "/a%20b/100%25/%C3%BC"; got != want {
		t.Errorf("escapePath = %q, want %q", got, want)
	}
}

func FuzzParseInfo(f *testing.F) {
	seeds := []string{
		"[Trash Info]\nPath=/home/u/a.txt\nDeletionDate=2004-08-31T22:32:08\n",
		"[Trash Info]\nPath=foo/bar/meow.bow-wow\nDeletionDate=20040831T22:32:08\n",
		"[Trash Info]\r\nPath=/a%20b%C3%BC\r\nDeletionDate=2004-08-31T22:32:08\r\n",
		"# comment\n[Trash Info]\nPath = /x\nDeletionDate = 2004-08-31T22:32:08\n[Other]\nk=v\n",
		"[Trash Info]\nPath=/a%zz\nDeletionDate=2004-08-31T22:32:08\n",
		"[Trash Info]\nPath=a/../b\nDeletionDate=2004-08-31T22:32:08\n",
		"[Trash Info]\nPath=/a\nPath=/b\n",
		"[Trash Info",
		"",
		"[Trash Info]\nPath=%",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, withBase bool) {
		base := ""
		if withBase {
			base = "/media/usb"
		}
		info, err := ParseInfo(data, base)
		if err != nil {
			if !errors.Is(err, ErrMalformedInfo) {
				t.Fatalf("error does not wrap ErrMalformedInfo: %v", err)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("error message is %d bytes long", len(err.Error()))
			}
			return
		}
		p := info.Path
		if !filepath.IsAbs(p) || filepath.Clean(p) != p || p == "/" {
			t.Fatalf("Path %q is not a clean absolute non-root path", p)
		}
		if strings.IndexByte(p, 0) >= 0 || len(p) >= maxPathLen {
			t.Fatalf("Path %q contains NUL or is too long", p)
		}
		for _, elem := range strings.Split(p, "/") {
			if elem == ".." {
				t.Fatalf("Path %q contains ..", p)
			}
		}
		// What we accept, we must be able to write back identically.
		again, err := ParseInfo(encodeInfo(p, info.DeletionDate), "")
		if err != nil {
			t.Fatalf("re-parsing encoded info for %q: %v", p, err)
		}
		if again.Path != p {
			t.Fatalf("round trip changed Path %q to %q", p, again.Path)
		}
		if a, b := again.DeletionDate.Format(dateLayout), info.DeletionDate.Format(dateLayout); a != b {
			t.Fatalf("round trip changed DeletionDate %s to %s", b, a)
		}
		if !bytes.HasPrefix(encodeInfo(p, info.DeletionDate), []byte("[Trash Info]\nPath=/")) {
			t.Fatalf("encoded info has unexpected shape")
		}
	})
}
