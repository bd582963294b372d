package dconf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns v in the GVariant text format with type annotations where
// the type could not otherwise be inferred, exactly as "gsettings get" and
// "dconf read" print values (g_variant_print with type_annotate), for
// example 'prefer-dark', uint32 5, ['a', 'b'] or @as []. [ParseAs] and
// [Parse] read the result back.
func (v Value) String() string {
	return v.Print(true)
}

// Print returns v in the GVariant text format. With typeAnnotate false,
// types that the text cannot express are left out (uint32 5 prints as 5),
// which reads better but only parses back with [ParseAs].
func (v Value) Print(typeAnnotate bool) string {
	if !v.IsValid() {
		return "<invalid>"
	}
	var b strings.Builder
	printValue(&b, v, typeAnnotate)
	return b.String()
}

func printValue(b *strings.Builder, v Value, annotate bool) {
	if !v.IsValid() {
		// Only reachable through containers built around a zero Value,
		// which Marshal rejects.
		b.WriteString("<invalid>")
		return
	}
	switch v.typ[0] {
	case 'm':
		if annotate {
			fmt.Fprintf(b, "@%s ", v.typ)
		}
		kids := v.kids()
		if len(kids) == 0 {
			b.WriteString("nothing")
			return
		}
		// "just" is needed only where dropping it would be ambiguous,
		// which is exactly when the inner value prints as "...nothing".
		inner := kids[0].Print(false)
		if strings.HasSuffix(inner, "nothing") {
			b.WriteString("just ")
		}
		b.WriteString(inner)
	case 'a':
		kids := v.kids()
		if v.typ == "ay" {
			if s, ok := bytestring(kids); ok {
				b.WriteString(s)
				return
			}
		}
		dict := v.typ[1] == '{'
		if len(kids) == 0 {
			if annotate {
				fmt.Fprintf(b, "@%s ", v.typ)
			}
			if dict {
				b.WriteString("{}")
			} else {
				b.WriteString("[]")
			}
			return
		}
		if dict {
			b.WriteByte('{')
		} else {
			b.WriteByte('[')
		}
		for i, k := range kids {
			if i > 0 {
				b.WriteString(", ")
			}
			if dict {
				entry := k.kids()
				printValue(b, entry[0], annotate)
				b.WriteString(": ")
				printValue(b, entry[1], annotate)
			} else {
				printValue(b, k, annotate)
			}
			// Only the first element carries annotations; the parser
			// unifies the rest with it.
			annotate = false
		}
		if dict {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
	case '(':
		kids := v.kids()
		b.WriteByte('(')
		for i, k := range kids {
			if i > 0 {
				b.WriteString(", ")
			}
			printValue(b, k, annotate)
		}
		if len(kids) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case '{':
		kids := v.kids()
		b.WriteByte('{')
		printValue(b, kids[0], annotate)
		b.WriteString(", ")
		printValue(b, kids[1], annotate)
		b.WriteByte('}')
	case 'v':
		// The contents of a variant can have any type, so they are always
		// annotated.
		b.WriteByte('<')
		printValue(b, v.kids()[0], true)
		b.WriteByte('>')
	case 'b':
		if v.val.(bool) {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case 's':
		quoteString(b, v.val.(string))
	case 'o', 'g':
		if annotate {
			if v.typ == "o" {
				b.WriteString("objectpath ")
			} else {
				b.WriteString("signature ")
			}
		}
		fmt.Fprintf(b, "'%s'", v.val.(string))
	case 'y':
		if annotate {
			b.WriteString("byte ")
		}
		fmt.Fprintf(b, "0x%02x", v.val.(uint8))
	case 'i':
		// int32 is the default type of integer literals, so never
		// annotated.
		b.WriteString(strconv.FormatInt(int64(v.val.(int32)), 10))
	case 'n', 'q', 'u', 'x', 't', 'h':
		if annotate {
			b.WriteString(intKeyword(v.typ[0]))
			b.WriteByte(' ')
		}
		n, ok := v.Int()
		if ok {
			b.WriteString(strconv.FormatInt(n, 10))
		} else {
			b.WriteString(strconv.FormatUint(v.val.(uint64), 10))
		}
	case 'd':
		b.WriteString(formatDouble(v.val.(float64)))
	}
}

// intKeyword returns the text-format keyword that fixes an integer type.
func intKeyword(c byte) string {
	switch c {
	case 'n':
		return "int16"
	case 'q':
		return "uint16"
	case 'u':
		return "uint32"
	case 'x':
		return "int64"
	case 't':
		return "uint64"
	}
	return "handle"
}

// formatDouble matches g_ascii_dtostr (%.17g) followed by GLib's rule of
// appending ".0" when the result would otherwise look like an integer.
func formatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f) && math.Signbit(f):
		return "-nan"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'g', 17, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// quoteString quotes s the way g_variant_print does: single quotes unless s
// contains one, backslash escapes for the quote and backslash, and C or
// \u escapes for unprintable characters.
func quoteString(b *strings.Builder, s string) {
	quote := '\''
	if strings.ContainsRune(s, '\'') {
		quote = '"'
	}
	b.WriteRune(quote)
	for _, r := range s {
		if r == quote || r == '\\' {
			b.WriteByte('\\')
		}
		if isPrint(r) {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('\\')
		switch r {
		case '\a':
			b.WriteByte('a')
		case '\b':
			b.WriteByte('b')
		case '\f':
			b.WriteByte('f')
		case '\n':
			b.WriteByte('n')
		case '\r':
			b.WriteByte('r')
		case '\t':
			b.WriteByte('t')
		case '\v':
			b.WriteByte('v')
		default:
			if r < 0x10000 {
				fmt.Fprintf(b, "u%04x", r)
			} else {
				fmt.Fprintf(b, "U%08x", r)
			}
		}
	}
	b.WriteRune(quote)
}

// isPrint mirrors g_unichar_isprint: everything except control, format,
// surrogate and unassigned code points.
func isPrint(r rune) bool {
	if r == utf8.RuneError {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Co)
}

// bytestring renders a byte array as b'...' when, as in GLib, its only NUL
// byte is the last one.
func bytestring(kids []Value) (string, bool) {
	n := len(kids)
	if n == 0 || kids[n-1].val.(uint8) != 0 {
		return "", false
	}
	for _, k := range kids[:n-1] {
		if k.val.(uint8) == 0 {
			return "", false
		}
	}
	raw := make([]byte, n-1)
	for i, k := range kids[:n-1] {
		raw[i] = k.val.(uint8)
	}
	quote := byte('\'')
	if strings.IndexByte(string(raw), '\'') >= 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte('b')
	b.WriteByte(quote)
	// g_strescape: C escapes for the usual controls, backslash and double
	// quote; octal for every other byte outside printable ASCII.
	for _, c := range raw {
		switch c {
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		default:
			if c < 0x20 || c >= 0x7f {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte(quote)
	return b.String(), true
}
