package extract

import (
	"fmt"
	"testing"
	"time"
	"unicode/utf8"
)

func addSamples(f *testing.F) {
	for _, name := range []string{"sample.pdf", "sample.docx", "sample.odt"} {
		f.Add(mustRead(f, name))
	}
	f.Add([]byte("<html><body><p>x</p></body></html>"))
	f.Add([]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"))
}

// watchdog fails the fuzz run when one input takes too long, so a hang is
// reported (and its input kept) like a crash.
func watchdog(data []byte) func() bool {
	t := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("extraction of %d bytes took over 10s", len(data))) })
	return t.Stop
}

func checkText(t *testing.T, s string, lim Limits) {
	if len(s) > lim.withDefaults().MaxText+utf8.UTFMax {
		t.Fatalf("text of %d bytes over the limit", len(s))
	}
}

func FuzzPDF(f *testing.F) {
	addSamples(f)
	lim := Limits{MaxText: 1 << 16, MaxPages: 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		s, err := PDF(data, lim)
		if err == nil {
			checkText(t, s, lim)
		}
	})
}

func FuzzDOCX(f *testing.F) {
	addSamples(f)
	lim := Limits{MaxText: 1 << 16, MaxInflate: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		s, err := DOCX(data, lim)
		if err == nil {
			checkText(t, s, lim)
		}
	})
}

func FuzzODT(f *testing.F) {
	addSamples(f)
	lim := Limits{MaxText: 1 << 16, MaxInflate: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		s, err := ODT(data, lim)
		if err == nil {
			checkText(t, s, lim)
		}
	})
}

func FuzzHTML(f *testing.F) {
	addSamples(f)
	f.Add([]byte("<script><script></script><p>&amp;&#xffffff;</p><img alt=\"\xff\">"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		HTML(data)
	})
}

func FuzzExtract(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		for _, name := range []string{"a.txt", "a.pdf", "a.docx", "a.odt", "a.html", "a.md", "a"} {
			lim := Limits{MaxText: 1 << 16, MaxInflate: 1 << 20, MaxPages: 20}
			res, err := Extract(name, data, lim)
			if err == nil {
				checkText(t, res.Text, lim)
				if res.Raw && res.Text != string(data) {
					t.Fatal("raw text differs from the content")
				}
			}
		}
	})
}
