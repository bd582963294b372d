package extract

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/ledongthuc/pdf"
)

// PDF returns the text of a PDF's pages. Text-showing operators are read
// from each page's content stream and decoded with the page's fonts.
// Word breaks are inferred from geometry, since many producers position
// words rather than print spaces: the advance of shown text is computed
// from the fonts' glyph widths, and a move (Td, Tm, or a TJ adjustment)
// that leaves a gap wider than a fraction of an em starts a new word; a
// move to another line starts a new line. Encrypted PDFs and scanned
// pages without a text layer give no text.
func PDF(data []byte, lim Limits) (text string, err error) {
	lim = lim.withDefaults()
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("malformed PDF (%v)", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("unreadable PDF: %w", err)
	}
	pages := r.NumPage()
	if pages <= 0 {
		return "", errors.New("PDF has no pages")
	}
	var out strings.Builder
	for i := 1; i <= pages && i <= lim.MaxPages && out.Len() < lim.MaxText; i++ {
		pageText(r.Page(i), &out)
		out.WriteByte('\n')
	}
	text = dehyphen.ReplaceAllString(out.String(), "$1$2")
	return strings.TrimSpace(ligatures.Replace(text)), nil
}

// ligatures spells out the typographic ligatures fonts map glyphs to, so
// "ﬂour" reads, and is found, as "flour".
var ligatures = strings.NewReplacer("ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st")

// dehyphen rejoins words hyphenated across a line break.
var dehyphen = regexp.MustCompile(`(\p{Ll})-\s*\n\s*(\p{Ll})`)

// Geometry thresholds, in ems of the current font size.
const (
	wordGapEm  = 0.15 // a horizontal gap this wide is a space
	lineMoveEm = 0.5  // a vertical move this far is a new line
	defaultEm  = 0.5  // assumed glyph width when the font gives none
)

// textState follows the text position through a content stream.
type textState struct {
	out   *strings.Builder
	fonts map[string]*pdfFont
	font  *pdfFont
	size  float64 // font size
	scale float64 // text matrix scale
	tc    float64 // character spacing
	tw    float64 // word spacing
	th    float64 // horizontal scaling, as a fraction
	lineX float64 // start of the current line (user space)
	lineY float64
	x     float64 // current point after the last glyph
	shown bool    // text was shown since the last break
}

type pdfFont struct {
	enc     pdf.TextEncoding
	f       pdf.Font
	twoByte bool
	widths  bool
}

func (st *textState) em() float64 { return math.Abs(st.size * st.scale) }

func (st *textState) space() {
	s := st.out.String()
	if len(s) > 0 && s[len(s)-1] != ' ' && s[len(s)-1] != '\n' {
		st.out.WriteByte(' ')
	}
}

func (st *textState) newline() {
	s := st.out.String()
	if len(s) > 0 && s[len(s)-1] != '\n' {
		st.out.WriteByte('\n')
	}
}

// moveTo goes to a new text position, breaking words or lines by the gap.
func (st *textState) moveTo(x, y float64) {
	em := st.em()
	if em == 0 {
		em = 1
	}
	switch {
	case math.Abs(y-st.lineY) > lineMoveEm*em:
		if st.shown {
			st.newline()
		}
	case x-st.x > wordGapEm*em || x < st.x-4*em:
		if st.shown {
			st.space()
		}
	}
	st.lineX, st.lineY, st.x = x, y, x
}

// show writes a string's text and advances the current point by its width.
func (st *textState) show(raw string) {
	if st.font == nil {
		st.out.WriteString(raw)
		st.x += float64(len(raw)) * defaultEm * st.em()
		st.shown = true
		return
	}
	st.out.WriteString(st.font.enc.Decode(raw))
	step := 1
	if st.font.twoByte {
		step = 2
	}
	adv := 0.0
	for i := 0; i+step <= len(raw); i += step {
		code := int(raw[i])
		if step == 2 {
			code = code<<8 | int(raw[i+1])
		}
		w := 0.0
		if st.font.widths && step == 1 {
			w = st.font.f.Width(code)
		}
		if w <= 0 {
			w = defaultEm * 1000
		}
		adv += w/1000*st.size + st.tc
		if step == 1 && code == ' ' {
			adv += st.tw
		}
	}
	st.x += adv * st.th * math.Abs(st.scale)
	st.shown = true
}

func pageText(p pdf.Page, out *strings.Builder) {
	defer func() { recover() }() // a broken page loses its own text only
	if p.V.IsNull() {
		return
	}
	contents := p.V.Key("Contents")
	if contents.Kind() == pdf.Null {
		return
	}
	st := &textState{out: out, fonts: make(map[string]*pdfFont), scale: 1, th: 1, size: 10}
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].Float64()
			}
			return 0
		}
		switch op {
		case "BT":
			st.lineX, st.lineY, st.x, st.scale = 0, 0, 0, 1
			st.space()
		case "Tf":
			if len(args) != 2 {
				return
			}
			name := args[0].Name()
			f, ok := st.fonts[name]
			if !ok {
				pf := p.Font(name)
				f = &pdfFont{f: pf, enc: pf.Encoder(), twoByte: pf.V.Key("Subtype").Name() == "Type0", widths: pf.V.Key("Widths").Len() > 0}
				st.fonts[name] = f
			}
			st.font, st.size = f, num(1)
		case "Tc":
			st.tc = num(0)
		case "Tw":
			st.tw = num(0)
		case "Tz":
			st.th = num(0) / 100
		case "Td", "TD":
			st.moveTo(st.lineX+num(0)*st.scale, st.lineY+num(1)*st.scale)
		case "Tm":
			if len(args) == 6 {
				st.scale = math.Hypot(num(0), num(1))
				if st.scale == 0 {
					st.scale = 1
				}
				st.moveTo(num(4), num(5))
			}
		case "T*":
			st.newline()
			st.shown = false
		case "'", "\"":
			st.newline()
			if len(args) > 0 {
				st.show(args[len(args)-1].RawString())
			}
		case "Tj":
			if len(args) > 0 {
				st.show(args[len(args)-1].RawString())
			}
		case "TJ":
			if len(args) != 1 {
				return
			}
			v := args[0]
			for i := 0; i < v.Len(); i++ {
				x := v.Index(i)
				switch x.Kind() {
				case pdf.String:
					st.show(x.RawString())
				case pdf.Integer, pdf.Real:
					shift := -x.Float64() / 1000 * st.size * math.Abs(st.scale) * st.th
					if shift > wordGapEm*st.em() {
						st.space()
					}
					st.x += shift
				}
			}
		}
	})
}
