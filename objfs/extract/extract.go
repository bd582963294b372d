// Package extract pulls searchable text out of the files people keep:
// plain text, Markdown, HTML, source code, PDF, DOCX and ODT, in pure Go.
// Every extractor reads untrusted bytes, so each one bounds what it
// decompresses and produces, and turns a panic deep in a parser into an
// error: a broken file is skipped with a reason, never a crash.
package extract

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Kinds of document.
const (
	KindText     = "text"
	KindMarkdown = "markdown"
	KindHTML     = "html"
	KindCode     = "code"
	KindPDF      = "pdf"
	KindDOCX     = "docx"
	KindODT      = "odt"
)

// Limits bound the work and output of one extraction.
type Limits struct {
	// MaxText caps the text returned (default 8 MiB); the rest is cut.
	MaxText int
	// MaxInflate caps what is decompressed from a zip member or PDF
	// stream (default 64 MiB), against decompression bombs.
	MaxInflate int64
	// MaxPages caps the PDF pages read (default 2,000).
	MaxPages int
}

func (l Limits) withDefaults() Limits {
	if l.MaxText <= 0 {
		l.MaxText = 8 << 20
	}
	if l.MaxInflate <= 0 {
		l.MaxInflate = 64 << 20
	}
	if l.MaxPages <= 0 {
		l.MaxPages = 2000
	}
	return l
}

// Result is the text of one file.
type Result struct {
	Kind string
	Text string
	// Raw is set when Text is the file's own bytes (plain text, Markdown,
	// code), so a store need not keep it twice.
	Raw bool
}

// ErrNotText is returned for content that holds no text to index
// (images, archives, executables).
var ErrNotText = errors.New("extract: not a text document")

// Extract returns the text of a file named name with content data.
func Extract(name string, data []byte, lim Limits) (res Result, err error) {
	lim = lim.withDefaults()
	defer func() {
		if r := recover(); r != nil {
			res, err = Result{}, fmt.Errorf("extract %s: malformed document (%v)", filepath.Base(name), r)
		}
	}()
	kind := Detect(name, data)
	res.Kind = kind
	switch kind {
	case KindText, KindCode:
		res.Text, res.Raw = plain(data)
	case KindMarkdown:
		res.Text, res.Raw = plain(data)
	case KindHTML:
		res.Text, err = HTML(data)
	case KindPDF:
		res.Text, err = PDF(data, lim)
	case KindDOCX:
		res.Text, err = DOCX(data, lim)
	case KindODT:
		res.Text, err = ODT(data, lim)
	default:
		return Result{}, ErrNotText
	}
	if err != nil {
		return Result{Kind: kind}, err
	}
	if len(res.Text) > lim.MaxText {
		res.Text, res.Raw = cutUTF8(res.Text, lim.MaxText), false
	}
	return res, nil
}

// plain returns text content as is when it is valid UTF-8, and with
// invalid bytes replaced (Latin-1 read as such) otherwise.
func plain(data []byte) (string, bool) {
	if utf8.Valid(data) {
		return string(data), true
	}
	var b strings.Builder
	b.Grow(len(data))
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		if r == utf8.RuneError && n == 1 {
			r = rune(data[0]) // most invalid text is Latin-1
		}
		b.WriteRune(r)
		data = data[n:]
	}
	return b.String(), false
}

var codeExts = map[string]bool{
	".go": true, ".py": true, ".js": true, ".mjs": true, ".ts": true, ".tsx": true, ".jsx": true,
	".c": true, ".h": true, ".cc": true, ".cpp": true, ".hpp": true, ".rs": true, ".java": true,
	".kt": true, ".swift": true, ".rb": true, ".php": true, ".pl": true, ".lua": true, ".sh": true,
	".bash": true, ".zsh": true, ".fish": true, ".sql": true, ".r": true, ".scala": true, ".cs": true,
	".css": true, ".scss": true, ".el": true, ".lisp": true, ".hs": true, ".ml": true, ".ex": true,
	".exs": true, ".erl": true, ".clj": true, ".dart": true, ".zig": true, ".nim": true, ".vim": true,
	".json": true, ".yaml": true, ".yml": true, ".toml": true, ".ini": true, ".cfg": true, ".xml": true,
	".proto": true, ".graphql": true, ".tf": true, ".mk": true, ".cmake": true, ".gradle": true,
}

var textExts = map[string]bool{
	".txt": true, ".text": true, ".log": true, ".csv": true, ".tsv": true, ".rst": true, ".org": true,
	".tex": true, ".adoc": true, ".asciidoc": true, ".srt": true, ".vtt": true, ".nfo": true,
}

// sniffLen is how much of a file Detect looks at.
const sniffLen = 8 << 10

// Detect names the kind of a file from its name and first bytes; "" means
// it holds no text Noema can extract.
func Detect(name string, data []byte) string {
	ext := strings.ToLower(filepath.Ext(name))
	head := data[:min(len(data), sniffLen)]
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return KindPDF
	case ext == ".pdf":
		return KindPDF
	case ext == ".docx":
		return KindDOCX
	case ext == ".odt":
		return KindODT
	case ext == ".md" || ext == ".markdown" || ext == ".mdown":
		return KindMarkdown
	case ext == ".html" || ext == ".htm" || ext == ".xhtml":
		return KindHTML
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return zipKind(data)
	}
	if !looksText(head) {
		return ""
	}
	switch {
	case codeExts[ext] || strings.HasPrefix(string(head), "#!"):
		return KindCode
	case textExts[ext] || ext == "":
		if looksHTML(head) {
			return KindHTML
		}
		return KindText
	case looksHTML(head):
		return KindHTML
	}
	return KindText
}

// looksText reports whether bytes are text: no NUL, and mostly valid
// UTF-8 or printable Latin-1 (fewer than one byte in twenty is a control
// character).
func looksText(head []byte) bool {
	if len(head) == 0 {
		return true
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	bad := 0
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n == 1 {
			// Latin-1 letters are text; C1 controls are not. A cut
			// multi-byte sequence at the end of the sample is neither.
			if head[i] < 0xa0 && len(head)-i >= utf8.UTFMax {
				bad++
			}
		} else if r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\f' && r != 0x1b {
			bad++
		}
		i += n
	}
	return bad*20 < len(head)
}

func looksHTML(head []byte) bool {
	h := bytes.ToLower(bytes.TrimSpace(head[:min(len(head), 512)]))
	return bytes.HasPrefix(h, []byte("<!doctype html")) || bytes.HasPrefix(h, []byte("<html"))
}

func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
