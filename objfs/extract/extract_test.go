package extract

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func expect(t *testing.T, name string, data []byte, kind string, phrases ...string) {
	t.Helper()
	res, err := Extract(name, data, Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.Kind != kind {
		t.Fatalf("%s: kind %q, want %q", name, res.Kind, kind)
	}
	for _, p := range phrases {
		if !strings.Contains(res.Text, p) {
			t.Fatalf("%s: %q not in %q", name, p, res.Text)
		}
	}
}

// The samples in testdata were written by python-docx, odfpy and groff
// (gropdf): real producers, not hand-made files.
func TestSamples(t *testing.T) {
	expect(t, "sample.docx", mustRead(t, "sample.docx"), KindDOCX, "Quarterly garden report", "ripened early this year.\tBasil", "twelve kilograms")
	expect(t, "sample.odt", mustRead(t, "sample.odt"), KindODT, "Bicycle maintenance", "every  two hundred", "pressure\tweekly")
	// gropdf kerns inside words with Td moves and hyphenates across lines.
	expect(t, "sample.pdf", mustRead(t, "sample.pdf"), KindPDF, "Notes on sourdough starters", "flour and water. A warm kitchen", "considerably")
	// Content sniffing: the extension is not needed.
	expect(t, "noext", mustRead(t, "sample.pdf"), KindPDF, "sourdough")
	expect(t, "noext", mustRead(t, "sample.docx"), KindDOCX, "garden")
	expect(t, "noext", mustRead(t, "sample.odt"), KindODT, "Bicycle")
}

// TestProducedByRealTools writes fresh documents with the same producers,
// when they are installed, and extracts them.
func TestProducedByRealTools(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("needs /usr/bin/python3 with python3-docx and python3-odf")
	}
	if err := exec.Command(py, "-c", "import docx, odf").Run(); err != nil {
		t.Skip("needs the Debian packages python3-docx and python3-odf")
	}
	dir := t.TempDir()
	script := `
import sys, docx
from odf.opendocument import OpenDocumentText
from odf.text import P
d = docx.Document(); d.add_paragraph("Lanterns glowed over the quiet canal."); d.save(sys.argv[1] + "/a.docx")
o = OpenDocumentText(); o.text.addElement(P(text="Herons waited by the sluice gate.")); o.save(sys.argv[1] + "/a.odt")
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("producing documents: %v: %s", err, out)
	}
	expect(t, "a.docx", readFile(t, dir, "a.docx"), KindDOCX, "Lanterns glowed over the quiet canal.")
	expect(t, "a.odt", readFile(t, dir, "a.odt"), KindODT, "Herons waited by the sluice gate.")
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("needs groff (Debian package groff) for PDF")
	}
	cmd := exec.Command("groff", "-ms", "-Tpdf")
	cmd.Stdin = strings.NewReader(".PP\nMilling flour by the river took patience and a steady wheel.\n")
	pdf, err := cmd.Output()
	if err != nil {
		t.Skipf("groff cannot write PDF here: %v", err)
	}
	expect(t, "a.pdf", pdf, KindPDF, "Milling flour by the river took patience and a steady wheel.")
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHTMLAndPlain(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>Tide tables</title><style>p{color:red}</style>
<script>document.write("nope")</script></head><body><p>High water at 06:12 &amp; 18:40</p>
<img src="x.png" alt="harbour map"><noscript>enable scripts</noscript><svg><text>svg text</text></svg></body></html>`
	res, err := Extract("tides.html", []byte(page), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Tide tables", "High water at 06:12 & 18:40", "harbour map"} {
		if !strings.Contains(res.Text, want) {
			t.Fatalf("%q missing from %q", want, res.Text)
		}
	}
	for _, bad := range []string{"color:red", "nope", "enable scripts", "svg text"} {
		if strings.Contains(res.Text, bad) {
			t.Fatalf("%q leaked into %q", bad, res.Text)
		}
	}
	if res, _ := Extract("page", []byte("<html><body>x</body></html>"), Limits{}); res.Kind != KindHTML {
		t.Fatalf("sniffed HTML as %q", res.Kind)
	}
	res, err = Extract("latin1.txt", []byte("caf\xe9 cr\xe8me"), Limits{})
	if err != nil || res.Text != "café crème" || res.Raw {
		t.Fatalf("latin-1: %+v %v", res, err)
	}
	if res, _ := Extract("main.go", []byte("package main\n"), Limits{}); res.Kind != KindCode || !res.Raw {
		t.Fatalf("code: %+v", res)
	}
	if res, _ := Extract("script", []byte("#!/bin/sh\necho hi\n"), Limits{}); res.Kind != KindCode {
		t.Fatalf("shebang: %+v", res)
	}
	if _, err := Extract("photo.jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), Limits{}); err != ErrNotText {
		t.Fatalf("binary: %v", err)
	}
	res, _ = Extract("big.txt", bytes.Repeat([]byte("é"), 100), Limits{MaxText: 51})
	if len(res.Text) != 50 || res.Raw {
		t.Fatalf("cut text: %d bytes raw=%v", len(res.Text), res.Raw)
	}
}

// zipWith builds a zip archive with the given members.
func zipWith(t testing.TB, members map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

func TestOfficeLimitsAndDamage(t *testing.T) {
	body := `<w:document xmlns:w="` + wordNS + `"><w:body><w:p><w:r><w:t>` + strings.Repeat("a", 5000) + `</w:t></w:r></w:p></w:body></w:document>`
	doc := zipWith(t, map[string]string{"word/document.xml": body})
	if _, err := DOCX(doc, Limits{MaxInflate: 1000}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("inflation past the limit: %v", err)
	}
	if _, err := DOCX(zipWith(t, map[string]string{"other.xml": "x"}), Limits{}); err == nil {
		t.Fatal("DOCX without a body accepted")
	}
	if _, err := DOCX([]byte("PK\x03\x04garbage"), Limits{}); err == nil {
		t.Fatal("broken zip accepted")
	}
	deep := `<w:document xmlns:w="` + wordNS + `">` + strings.Repeat("<w:p>", 600) + `</w:document>`
	if _, err := DOCX(zipWith(t, map[string]string{"word/document.xml": deep}), Limits{}); err == nil {
		t.Fatal("deep nesting accepted")
	}
	if _, err := Extract("x.pdf", []byte("%PDF-1.7\n garbage"), Limits{}); err == nil {
		t.Fatal("broken PDF accepted")
	}
}
