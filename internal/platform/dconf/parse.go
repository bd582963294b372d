package dconf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse reads a value in the GVariant text format, inferring its type the
// way g_variant_parse does when given no type: integers are int32, other
// numbers double, strings s, and annotations such as uint32 5 or @as []
// supply the rest. Use [ParseAs] when the type is known, as it is for a
// schema key.
func Parse(text string) (Value, error) {
	return parseText("", text)
}

// ParseAs reads a value of type typ in the GVariant text format, for
// example ParseAs("u", "5") or ParseAs("as", "['a', 'b']"). Bare values are
// accepted where typ is a maybe type, as in GLib.
func ParseAs(typ, text string) (Value, error) {
	if _, err := parseType(typ); err != nil {
		return Value{}, fmt.Errorf("gvariant: parse: %w", err)
	}
	return parseText(typ, text)
}

// A SyntaxError describes text that is not a valid GVariant text-format
// value of the requested type.
type SyntaxError struct {
	Text   string // the input
	Offset int    // byte offset of the problem in Text
	Msg    string
}

func (e *SyntaxError) Error() string {
	text := e.Text
	if len(text) > 80 {
		text = text[:80] + "..."
	}
	return fmt.Sprintf("gvariant: parse %q: at byte %d: %s", text, e.Offset, e.Msg)
}

func parseText(typ, text string) (Value, error) {
	p := &parser{src: text}
	n, err := p.value(0)
	if err == nil {
		p.skipSpace()
		if p.pos < len(p.src) {
			err = p.errorf("unexpected %q after value", p.src[p.pos:min(len(p.src), p.pos+10)])
		}
	}
	if err == nil && typ == "" {
		typ, err = inferType(n)
	}
	var v Value
	if err == nil {
		var t *typeInfo
		t, err = parseType(typ)
		if err == nil {
			v, err = resolve(n, t, 0)
		}
	}
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			se.Text = text
			return Value{}, se
		}
		return Value{}, &SyntaxError{Text: text, Msg: err.Error()}
	}
	return v, nil
}

type nodeKind int

const (
	nString nodeKind = iota
	nBytes
	nNumber
	nBool
	nNothing
	nJust
	nArray
	nTuple
	nDict  // {k: v, ...}; kids alternate key, value
	nEntry // {k, v}
	nVariant
	nTyped // @type child or keyword child; text holds the type
)

// node is the syntax tree of a text-format value. Types are assigned in a
// second pass, because an element's type may depend on its siblings, as in
// [uint32 1, 2].
type node struct {
	kind nodeKind
	pos  int
	text string // string contents, number token or type string
	b    bool
	kids []*node
}

type parser struct {
	src string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *parser) peek() byte {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) expect(c byte, what string) error {
	if p.peek() != c {
		if p.pos >= len(p.src) {
			return p.errorf("expected '%c' %s, found end of input", c, what)
		}
		return p.errorf("expected '%c' %s", c, what)
	}
	p.pos++
	return nil
}

// word reads an identifier made of ASCII letters and digits.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.src) && isAlnum(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// keywordType returns the type fixed by a keyword that may prefix a value,
// as in "uint32 5".
func keywordType(w string) (string, bool) {
	switch w {
	case "boolean":
		return "b", true
	case "byte":
		return "y", true
	case "int16":
		return "n", true
	case "uint16":
		return "q", true
	case "int32":
		return "i", true
	case "uint32":
		return "u", true
	case "handle":
		return "h", true
	case "int64":
		return "x", true
	case "uint64":
		return "t", true
	case "double":
		return "d", true
	case "string":
		return "s", true
	case "objectpath":
		return "o", true
	case "signature":
		return "g", true
	}
	return "", false
}

func (p *parser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errorf("value nested too deeply")
	}
	c := p.peek()
	start := p.pos
	switch {
	case c == 0:
		return nil, p.errorf("expected a value, found end of input")
	case c == '[':
		p.pos++
		n := &node{kind: nArray, pos: start}
		for i := 0; p.peek() != ']'; i++ {
			if i > 0 {
				if err := p.expect(',', "or ']' after array element"); err != nil {
					return nil, err
				}
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		p.pos++
		return n, nil
	case c == '(':
		p.pos++
		n := &node{kind: nTuple, pos: start}
		// A comma may follow the first member, making "(1,)" a one-tuple;
		// "(1)" is a one-tuple too.
		needComma := false
		for i := 0; p.peek() != ')'; i++ {
			if needComma {
				if err := p.expect(',', "or ')' after tuple member"); err != nil {
					return nil, err
				}
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
			needComma = true
			if i == 0 && p.peek() == ',' {
				p.pos++
				needComma = false
			}
		}
		p.pos++
		return n, nil
	case c == '{':
		return p.dict(depth)
	case c == '<':
		p.pos++
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect('>', "to close variant"); err != nil {
			return nil, err
		}
		return &node{kind: nVariant, pos: start, kids: []*node{k}}, nil
	case c == '@':
		p.pos++
		typ := p.typeToken()
		if _, err := parseType(typ); err != nil {
			return nil, &SyntaxError{Offset: start, Msg: "invalid type annotation: " + err.Error()}
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{kind: nTyped, pos: start, text: typ, kids: []*node{k}}, nil
	case c == '\'' || c == '"':
		s, err := p.stringLit(false)
		if err != nil {
			return nil, err
		}
		return &node{kind: nString, pos: start, text: s}, nil
	case c == 'b' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '\'' || p.src[p.pos+1] == '"'):
		p.pos++
		s, err := p.stringLit(true)
		if err != nil {
			return nil, err
		}
		return &node{kind: nBytes, pos: start, text: s}, nil
	case c == '-' || c == '+' || c == '.' || '0' <= c && c <= '9':
		for p.pos < len(p.src) {
			d := p.src[p.pos]
			if !isAlnum(d) && d != '-' && d != '+' && d != '.' {
				break
			}
			p.pos++
		}
		return &node{kind: nNumber, pos: start, text: p.src[start:p.pos]}, nil
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		w := p.word()
		switch w {
		case "true", "false":
			return &node{kind: nBool, pos: start, b: w == "true"}, nil
		case "nothing":
			return &node{kind: nNothing, pos: start}, nil
		case "inf", "nan":
			return &node{kind: nNumber, pos: start, text: w}, nil
		case "just":
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			return &node{kind: nJust, pos: start, kids: []*node{k}}, nil
		}
		if typ, ok := keywordType(w); ok {
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			return &node{kind: nTyped, pos: start, text: typ, kids: []*node{k}}, nil
		}
		p.pos = start
		return nil, p.errorf("unknown keyword %q", w)
	}
	return nil, p.errorf("unexpected character %q", c)
}

// typeToken reads the type after '@': it ends at a space, comma, colon,
// '>' or ']', or at a closing bracket that it did not open.
func (p *parser) typeToken() string {
	start := p.pos
	depth := 0
loop:
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v', ',', ':', '>', ']':
			break loop
		case '(', '{':
			depth++
		case ')', '}':
			if depth == 0 {
				break loop
			}
			depth--
		}
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *parser) dict(depth int) (*node, error) {
	start := p.pos
	p.pos++ // '{'
	if p.peek() == '}' {
		p.pos++
		return &node{kind: nDict, pos: start}, nil
	}
	key, err := p.value(depth + 1)
	if err != nil {
		return nil, err
	}
	if p.peek() == ',' {
		p.pos++
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect('}', "to close dictionary entry"); err != nil {
			return nil, err
		}
		return &node{kind: nEntry, pos: start, kids: []*node{key, val}}, nil
	}
	n := &node{kind: nDict, pos: start}
	for {
		if err := p.expect(':', "after dictionary key"); err != nil {
			return nil, err
		}
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, key, val)
		if p.peek() == '}' {
			p.pos++
			return n, nil
		}
		if err := p.expect(',', "or '}' after dictionary value"); err != nil {
			return nil, err
		}
		if key, err = p.value(depth + 1); err != nil {
			return nil, err
		}
	}
}

// stringLit reads a quoted string starting at p.pos. Text strings accept
// \uXXXX and \UXXXXXXXX escapes; byte strings accept octal escapes. Both
// accept the C escapes \a \b \f \n \r \t \v, a backslash-newline line
// continuation, and a backslash before any other character stands for that
// character.
func (p *parser) stringLit(bytestr bool) (string, error) {
	quote := p.src[p.pos]
	start := p.pos
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			p.pos = start
			return "", p.errorf("unterminated string constant")
		}
		c := p.src[p.pos]
		if c == quote {
			p.pos++
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.src) {
			p.pos = start
			return "", p.errorf("unterminated string constant")
		}
		e := p.src[p.pos]
		p.pos++
		switch e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\n':
		case 'u', 'U':
			if bytestr {
				b.WriteByte(e)
				continue
			}
			n := 4
			if e == 'U' {
				n = 8
			}
			if p.pos+n > len(p.src) {
				return "", p.errorf("invalid %d-character unicode escape", n)
			}
			r, err := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
			if err != nil || r == 0 || r > utf8.MaxRune || r >= 0xd800 && r < 0xe000 {
				return "", p.errorf("invalid %d-character unicode escape", n)
			}
			b.WriteRune(rune(r))
			p.pos += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			if !bytestr {
				b.WriteByte(e)
				continue
			}
			v := e - '0'
			for i := 0; i < 2 && p.pos < len(p.src) && '0' <= p.src[p.pos] && p.src[p.pos] <= '7'; i++ {
				v = v<<3 | (p.src[p.pos] - '0')
				p.pos++
			}
			b.WriteByte(v)
		default:
			b.WriteByte(e)
		}
	}
}
