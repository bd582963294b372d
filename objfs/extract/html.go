package extract

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTML returns the visible text of an HTML document: the title and body
// text, entities decoded, with line breaks at block elements. Scripts,
// styles and templates are dropped.
func HTML(data []byte) (string, error) {
	z := html.NewTokenizer(bytes.NewReader(data))
	z.SetMaxBuf(16 << 20)
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return strings.TrimSpace(b.String()), nil
			}
			return strings.TrimSpace(b.String()), z.Err()
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg:
				if z.Token().Type == html.StartTagToken {
					skip++
				}
			case atom.Img:
				for {
					k, v, more := z.TagAttr()
					if string(k) == "alt" && skip == 0 {
						b.WriteString(" " + string(v) + " ")
					}
					if !more {
						break
					}
				}
			}
			if block[a] {
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg:
				if skip > 0 {
					skip--
				}
			}
			if block[a] {
				b.WriteByte('\n')
			}
		}
	}
}

// block elements end a line of text.
var block = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Tr: true, atom.Td: true, atom.Th: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Title: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Blockquote: true, atom.Pre: true, atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Dd: true, atom.Dt: true,
}
