package dconf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// pattern is a partially known type used while inferring the type of an
// unannotated value: a GVariant type in which '*' stands for any type, 'N'
// for any numeric type and 'S' for any string-like type.
//
// opt marks a bare value that may also stand for the same value wrapped in
// maybes, as 5 may stand for Just 5 where the siblings show a maybe type:
// [@mi 5, 6] is an array of mi.
type pattern struct {
	c    byte
	opt  bool
	kids []*pattern
}

func patternOf(t *typeInfo) *pattern {
	p := &pattern{c: t.kind}
	if t.elem != nil {
		p.kids = []*pattern{patternOf(t.elem)}
	}
	for _, f := range t.fields {
		p.kids = append(p.kids, patternOf(f))
	}
	return p
}

func nodePattern(n *node) (*pattern, error) {
	p, err := bareNodePattern(n)
	if err != nil {
		return nil, err
	}
	switch n.kind {
	case nNothing, nJust, nTyped:
	default:
		p.opt = true
	}
	return p, nil
}

func bareNodePattern(n *node) (*pattern, error) {
	switch n.kind {
	case nString:
		return &pattern{c: 'S'}, nil
	case nBytes:
		return &pattern{c: 'a', kids: []*pattern{{c: 'y'}}}, nil
	case nNumber:
		if isFloatToken(n.text) {
			return &pattern{c: 'd'}, nil
		}
		return &pattern{c: 'N'}, nil
	case nBool:
		return &pattern{c: 'b'}, nil
	case nNothing:
		return &pattern{c: 'm', kids: []*pattern{{c: '*'}}}, nil
	case nJust:
		k, err := nodePattern(n.kids[0])
		if err != nil {
			return nil, err
		}
		return &pattern{c: 'm', kids: []*pattern{k}}, nil
	case nVariant:
		return &pattern{c: 'v'}, nil
	case nTyped:
		t, err := parseType(n.text)
		if err != nil {
			return nil, err
		}
		return patternOf(t), nil
	case nArray:
		elem, err := commonPattern(n.kids, 1, 0)
		if err != nil {
			return nil, err
		}
		return &pattern{c: 'a', kids: []*pattern{elem}}, nil
	case nDict:
		key, err := commonPattern(n.kids, 2, 0)
		if err != nil {
			return nil, err
		}
		val, err := commonPattern(n.kids, 2, 1)
		if err != nil {
			return nil, err
		}
		return &pattern{c: 'a', kids: []*pattern{{c: '{', kids: []*pattern{key, val}}}}, nil
	case nTuple, nEntry:
		p := &pattern{c: '('}
		if n.kind == nEntry {
			p.c = '{'
		}
		for _, k := range n.kids {
			kp, err := nodePattern(k)
			if err != nil {
				return nil, err
			}
			p.kids = append(p.kids, kp)
		}
		return p, nil
	}
	return nil, fmt.Errorf("internal error: unknown node kind %d", n.kind)
}

// commonPattern unifies the patterns of kids[first], kids[first+stride], ...
func commonPattern(kids []*node, stride, first int) (*pattern, error) {
	acc := &pattern{c: '*'}
	for i := first; i < len(kids); i += stride {
		p, err := nodePattern(kids[i])
		if err != nil {
			return nil, err
		}
		u := unify(acc, p)
		if u == nil {
			return nil, &SyntaxError{Offset: kids[i].pos, Msg: "element has no type in common with the ones before it"}
		}
		acc = u
	}
	return acc, nil
}

// unify returns the most general pattern matching both a and b, or nil.
func unify(a, b *pattern) *pattern {
	if a.c == '*' {
		return b
	}
	if b.c == '*' {
		return a
	}
	if a.opt && b.c == 'm' && !b.opt {
		inner := unify(a, b.kids[0])
		if inner == nil {
			return nil
		}
		return &pattern{c: 'm', kids: []*pattern{inner}}
	}
	if b.opt && a.c == 'm' && !a.opt {
		return unify(b, a)
	}
	opt := a.opt && b.opt
	ac, bc := *a, *b
	ac.opt, bc.opt = false, false
	out := unifyExact(&ac, &bc)
	if out != nil {
		out.opt = opt
	}
	return out
}

// unifyExact is unify for patterns without the opt flag at the top.
func unifyExact(a, b *pattern) *pattern {
	if a.c == 'N' || a.c == 'S' {
		a, b = b, a
	}
	switch b.c {
	case 'N':
		if a.c == 'N' || strings.IndexByte("ynqiuxthd", a.c) >= 0 {
			return a
		}
		return nil
	case 'S':
		if a.c == 'S' || strings.IndexByte("sog", a.c) >= 0 {
			return a
		}
		return nil
	}
	if a.c != b.c || len(a.kids) != len(b.kids) {
		return nil
	}
	out := &pattern{c: a.c}
	for i := range a.kids {
		k := unify(a.kids[i], b.kids[i])
		if k == nil {
			return nil
		}
		out.kids = append(out.kids, k)
	}
	return out
}

// inferType picks the default type for an unannotated value, as GLib does:
// int32 for integers and s for strings.
func inferType(n *node) (string, error) {
	p, err := nodePattern(n)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := writePattern(&b, p); err != nil {
		return "", &SyntaxError{Offset: n.pos, Msg: err.Error()}
	}
	return b.String(), nil
}

func writePattern(b *strings.Builder, p *pattern) error {
	switch p.c {
	case '*':
		return errors.New("unable to infer type; add an annotation such as @as []")
	case 'N':
		b.WriteByte('i')
	case 'S':
		b.WriteByte('s')
	case '(', '{':
		b.WriteByte(p.c)
		for _, k := range p.kids {
			if err := writePattern(b, k); err != nil {
				return err
			}
		}
		if p.c == '(' {
			b.WriteByte(')')
		} else {
			b.WriteByte('}')
		}
	default:
		b.WriteByte(p.c)
		for _, k := range p.kids {
			if err := writePattern(b, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// isFloatToken reports whether a number token can only be a double.
func isFloatToken(s string) bool {
	return strings.Contains(s, ".") ||
		(!strings.HasPrefix(s, "0x") && strings.Contains(s, "e")) ||
		strings.Contains(s, "inf") || strings.Contains(s, "nan")
}

// quietNaN is the bit pattern strtod returns for "nan".
const quietNaN = 0x7ff8000000000000

// resolve converts a syntax tree to a value of type t.
func resolve(n *node, t *typeInfo, depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, &SyntaxError{Offset: n.pos, Msg: "value nested too deeply"}
	}
	typeErr := func() error {
		return &SyntaxError{Offset: n.pos, Msg: fmt.Sprintf("cannot parse as value of type %q", t.str)}
	}
	// A bare value is accepted where a maybe type is expected.
	if t.kind == 'm' && n.kind != nNothing && n.kind != nJust && !(n.kind == nTyped && n.text == t.str) {
		inner, err := resolve(n, t.elem, depth+1)
		if err != nil {
			return Value{}, err
		}
		return Value{t.str, []Value{inner}}, nil
	}
	switch n.kind {
	case nTyped:
		if n.text != t.str {
			return Value{}, &SyntaxError{Offset: n.pos, Msg: fmt.Sprintf("annotated type %q does not match %q", n.text, t.str)}
		}
		return resolve(n.kids[0], t, depth+1)
	case nString:
		if t.kind != 's' && t.kind != 'o' && t.kind != 'g' {
			return Value{}, typeErr()
		}
		if err := checkString(t.kind, n.text); err != nil {
			return Value{}, &SyntaxError{Offset: n.pos, Msg: err.Error()}
		}
		return Value{t.str, n.text}, nil
	case nBytes:
		if t.str != "ay" {
			return Value{}, typeErr()
		}
		elems := make([]Value, 0, len(n.text)+1)
		for i := 0; i < len(n.text); i++ {
			elems = append(elems, Byte(n.text[i]))
		}
		return Value{"ay", append(elems, Byte(0))}, nil
	case nBool:
		if t.kind != 'b' {
			return Value{}, typeErr()
		}
		return Bool(n.b), nil
	case nNumber:
		return resolveNumber(n, t)
	case nNothing:
		if t.kind != 'm' {
			return Value{}, typeErr()
		}
		return Value{t.str, []Value{}}, nil
	case nJust:
		if t.kind != 'm' {
			return Value{}, typeErr()
		}
		inner, err := resolve(n.kids[0], t.elem, depth+1)
		if err != nil {
			return Value{}, err
		}
		return Value{t.str, []Value{inner}}, nil
	case nVariant:
		if t.kind != 'v' {
			return Value{}, typeErr()
		}
		typ, err := inferType(n.kids[0])
		if err != nil {
			return Value{}, err
		}
		it, err := parseTypeDepth(typ, maxDepth-depth)
		if err != nil {
			return Value{}, &SyntaxError{Offset: n.pos, Msg: err.Error()}
		}
		inner, err := resolve(n.kids[0], it, depth+1)
		if err != nil {
			return Value{}, err
		}
		return Variant(inner), nil
	case nArray:
		if t.kind != 'a' {
			return Value{}, typeErr()
		}
		elems := make([]Value, 0, len(n.kids))
		for _, k := range n.kids {
			e, err := resolve(k, t.elem, depth+1)
			if err != nil {
				return Value{}, err
			}
			elems = append(elems, e)
		}
		return Value{t.str, elems}, nil
	case nDict:
		if t.kind != 'a' || t.elem.kind != '{' {
			return Value{}, typeErr()
		}
		entries := make([]Value, 0, len(n.kids)/2)
		for i := 0; i+1 < len(n.kids); i += 2 {
			k, err := resolve(n.kids[i], t.elem.fields[0], depth+2)
			if err != nil {
				return Value{}, err
			}
			v, err := resolve(n.kids[i+1], t.elem.fields[1], depth+2)
			if err != nil {
				return Value{}, err
			}
			entries = append(entries, Value{t.elem.str, []Value{k, v}})
		}
		return Value{t.str, entries}, nil
	case nTuple, nEntry:
		want := byte('(')
		if n.kind == nEntry {
			want = '{'
		}
		if t.kind != want || len(t.fields) != len(n.kids) {
			return Value{}, typeErr()
		}
		members := make([]Value, 0, len(n.kids))
		for i, k := range n.kids {
			m, err := resolve(k, t.fields[i], depth+1)
			if err != nil {
				return Value{}, err
			}
			members = append(members, m)
		}
		return Value{t.str, members}, nil
	}
	return Value{}, typeErr()
}

func resolveNumber(n *node, t *typeInfo) (Value, error) {
	tok := n.text
	bad := func(msg string) error { return &SyntaxError{Offset: n.pos, Msg: msg} }
	if t.kind == 'd' {
		// NaN is read as strtod does (quiet NaN, sign kept), so that the
		// bytes match what GLib stores for the same text.
		switch tok {
		case "nan", "+nan":
			return Double(math.Float64frombits(quietNaN)), nil
		case "-nan":
			return Double(math.Float64frombits(quietNaN | 1<<63)), nil
		}
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				return Value{}, bad("number too big for any type")
			}
			return Value{}, bad(fmt.Sprintf("invalid number %q", tok))
		}
		return Double(f), nil
	}
	if !strings.ContainsRune("ynqiuxth", rune(t.kind)) {
		return Value{}, bad(fmt.Sprintf("cannot parse number as value of type %q", t.str))
	}
	if isFloatToken(tok) {
		return Value{}, bad(fmt.Sprintf("%q is not an integer (type %q)", tok, t.str))
	}
	neg := strings.HasPrefix(tok, "-")
	digits := strings.TrimPrefix(strings.TrimPrefix(tok, "-"), "+")
	base := 10
	switch {
	case strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X"):
		base, digits = 16, digits[2:]
	case len(digits) > 1 && digits[0] == '0':
		base, digits = 8, digits[1:]
	}
	abs, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return Value{}, bad("integer too big for any type")
		}
		return Value{}, bad(fmt.Sprintf("invalid character in number %q", tok))
	}
	if abs == 0 {
		neg = false
	}
	fits := func(maxPos, maxNeg uint64) bool {
		if neg {
			return abs <= maxNeg
		}
		return abs <= maxPos
	}
	signed := func() int64 {
		if neg {
			return int64(-abs) // two's complement handles MinInt64
		}
		return int64(abs)
	}
	outOfRange := bad(fmt.Sprintf("number %s out of range for type %q", tok, t.str))
	switch t.kind {
	case 'y':
		if !fits(math.MaxUint8, 0) {
			return Value{}, outOfRange
		}
		return Byte(uint8(abs)), nil
	case 'n':
		if !fits(math.MaxInt16, -math.MinInt16) {
			return Value{}, outOfRange
		}
		return Int16(int16(signed())), nil
	case 'q':
		if !fits(math.MaxUint16, 0) {
			return Value{}, outOfRange
		}
		return Uint16(uint16(abs)), nil
	case 'i', 'h':
		if !fits(math.MaxInt32, -math.MinInt32) {
			return Value{}, outOfRange
		}
		return Value{t.str, int32(signed())}, nil
	case 'u':
		if !fits(math.MaxUint32, 0) {
			return Value{}, outOfRange
		}
		return Uint32(uint32(abs)), nil
	case 'x':
		if !fits(math.MaxInt64, 1<<63) {
			return Value{}, outOfRange
		}
		return Int64(signed()), nil
	case 't':
		if !fits(math.MaxUint64, 0) {
			return Value{}, outOfRange
		}
		return Uint64(abs), nil
	}
	return Value{}, outOfRange
}
