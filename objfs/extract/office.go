package extract

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxZipMembers bounds the entries of an office document's archive.
const maxZipMembers = 10000

func openZip(data []byte) (*zip.Reader, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a readable zip archive: %w", err)
	}
	if len(zr.File) > maxZipMembers {
		return nil, fmt.Errorf("archive has %d members", len(zr.File))
	}
	return zr, nil
}

// member opens one archive member, failing when it inflates past limit.
func member(zr *zip.Reader, name string, limit int64) (io.Reader, func() error, error) {
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		return &limitedReader{r: rc, left: limit, name: name}, rc.Close, nil
	}
	return nil, nil, fmt.Errorf("%s is missing", name)
}

// limitedReader fails, rather than silently stopping, past its limit.
type limitedReader struct {
	r    io.Reader
	left int64
	name string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, fmt.Errorf("%s inflates to more than the limit", l.name)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func zipKind(data []byte) string {
	zr, err := openZip(data)
	if err != nil {
		return ""
	}
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			return KindDOCX
		case "mimetype":
			rc, err := f.Open()
			if err != nil {
				return ""
			}
			head, _ := io.ReadAll(io.LimitReader(rc, 100))
			rc.Close()
			if strings.HasPrefix(string(head), "application/vnd.oasis.opendocument.text") {
				return KindODT
			}
		}
	}
	return ""
}

// DOCX returns the text of a Word document's body: paragraphs on their
// own lines, tabs and breaks kept.
func DOCX(data []byte, lim Limits) (string, error) {
	lim = lim.withDefaults()
	zr, err := openZip(data)
	if err != nil {
		return "", err
	}
	r, closeFn, err := member(zr, "word/document.xml", lim.MaxInflate)
	if err != nil {
		return "", err
	}
	defer closeFn()
	return xmlText(r, lim.MaxText, func(el xml.StartElement, out *strings.Builder) {
		if el.Name.Space != wordNS && el.Name.Space != "" {
			return
		}
		switch el.Name.Local {
		case "tab":
			out.WriteByte('\t')
		case "br", "cr":
			out.WriteByte('\n')
		}
	}, func(el xml.EndElement, out *strings.Builder) {
		if el.Name.Local == "p" {
			out.WriteByte('\n')
		}
	}, func(stack []xml.Name) bool {
		return len(stack) > 0 && stack[len(stack)-1].Local == "t"
	})
}

const wordNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

// ODT returns the text of an OpenDocument text file.
func ODT(data []byte, lim Limits) (string, error) {
	lim = lim.withDefaults()
	zr, err := openZip(data)
	if err != nil {
		return "", err
	}
	r, closeFn, err := member(zr, "content.xml", lim.MaxInflate)
	if err != nil {
		return "", err
	}
	defer closeFn()
	return xmlText(r, lim.MaxText, func(el xml.StartElement, out *strings.Builder) {
		switch el.Name.Local {
		case "s":
			n := 1
			for _, a := range el.Attr {
				if a.Name.Local == "c" {
					if c, err := strconv.Atoi(a.Value); err == nil && c > 0 && c < 1000 {
						n = c
					}
				}
			}
			out.WriteString(strings.Repeat(" ", n))
		case "tab":
			out.WriteByte('\t')
		case "line-break":
			out.WriteByte('\n')
		}
	}, func(el xml.EndElement, out *strings.Builder) {
		switch el.Name.Local {
		case "p", "h", "list-item":
			out.WriteByte('\n')
		}
	}, func(stack []xml.Name) bool {
		// Text lives in the document body, not in styles or fonts.
		for _, n := range stack {
			if n.Local == "text" && (n.Space == odfOfficeNS || n.Space == "") {
				return true
			}
		}
		return false
	})
}

const odfOfficeNS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

// maxXMLDepth bounds element nesting.
const maxXMLDepth = 512

// xmlText streams an XML document, keeping character data where keep
// says so and letting start and end add separators.
func xmlText(r io.Reader, maxText int, start func(xml.StartElement, *strings.Builder), end func(xml.EndElement, *strings.Builder), keep func([]xml.Name) bool) (string, error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.Entity = xml.HTMLEntity
	var out strings.Builder
	var stack []xml.Name
	for out.Len() < maxText {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return strings.TrimSpace(out.String()), fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return "", errors.New("XML nested too deeply")
			}
			stack = append(stack, t.Name)
			start(t, &out)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			end(t, &out)
		case xml.CharData:
			if keep(stack) {
				out.Write(t)
			}
		}
	}
	return strings.TrimSpace(out.String()), nil
}
