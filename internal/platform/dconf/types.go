package dconf

import (
	"errors"
	"fmt"
)

// maxDepth bounds the nesting of types and values. GLib applies the same
// limit (G_VARIANT_MAX_RECURSION_DEPTH); enforcing it here keeps hostile
// input from exhausting the stack and guarantees that anything this package
// writes can be read back by GLib.
const maxDepth = 128

// typeInfo is a parsed, definite GVariant type with the layout facts that
// the binary serialisation needs.
type typeInfo struct {
	str    string
	kind   byte        // first character of str
	elem   *typeInfo   // element type of arrays and maybes
	fields []*typeInfo // members of tuples and dict entries
	align  int         // alignment in bytes: 1, 2, 4 or 8
	size   int         // fixed size in bytes, or 0 for variable-size types
}

// errTypeDepth is reported for type strings nested deeper than maxDepth.
var errTypeDepth = errors.New("type nested too deeply")

// basicTypes lists the basic type codes, the only types allowed as
// dictionary keys.
const basicTypes = "bynqiuxthdsog"

func isBasic(c byte) bool {
	for i := 0; i < len(basicTypes); i++ {
		if basicTypes[i] == c {
			return true
		}
	}
	return false
}

// parseType parses a single complete definite type string such as "s",
// "as" or "a{smv}".
func parseType(s string) (*typeInfo, error) {
	return parseTypeDepth(s, maxDepth)
}

// parseTypeDepth is parseType with a nesting budget, so that type strings
// found inside variants count against the depth of the enclosing value.
func parseTypeDepth(s string, budget int) (*typeInfo, error) {
	if s == "" {
		return nil, errors.New("empty type string")
	}
	t, n, err := scanType(s, 0, budget)
	if err != nil {
		return nil, fmt.Errorf("type %q: %w", s, err)
	}
	if n != len(s) {
		return nil, fmt.Errorf("type %q: trailing characters after complete type %q", s, s[:n])
	}
	return t, nil
}

// scanType parses one complete type starting at s[i] and returns it with
// the index just past it.
func scanType(s string, i, budget int) (*typeInfo, int, error) {
	if budget <= 0 {
		return nil, 0, errTypeDepth
	}
	if i >= len(s) {
		return nil, 0, errors.New("unexpected end of type string")
	}
	start := i
	c := s[i]
	switch c {
	case 'b', 'y':
		return &typeInfo{str: s[i : i+1], kind: c, align: 1, size: 1}, i + 1, nil
	case 'n', 'q':
		return &typeInfo{str: s[i : i+1], kind: c, align: 2, size: 2}, i + 1, nil
	case 'i', 'u', 'h':
		return &typeInfo{str: s[i : i+1], kind: c, align: 4, size: 4}, i + 1, nil
	case 'x', 't', 'd':
		return &typeInfo{str: s[i : i+1], kind: c, align: 8, size: 8}, i + 1, nil
	case 's', 'o', 'g':
		return &typeInfo{str: s[i : i+1], kind: c, align: 1}, i + 1, nil
	case 'v':
		return &typeInfo{str: "v", kind: 'v', align: 8}, i + 1, nil
	case 'a', 'm':
		elem, j, err := scanType(s, i+1, budget-1)
		if err != nil {
			return nil, 0, err
		}
		return &typeInfo{str: s[start:j], kind: c, elem: elem, align: elem.align}, j, nil
	case '(':
		t := &typeInfo{kind: '(', align: 1}
		j := i + 1
		for {
			if j >= len(s) {
				return nil, 0, errors.New("unterminated tuple type")
			}
			if s[j] == ')' {
				j++
				break
			}
			f, k, err := scanType(s, j, budget-1)
			if err != nil {
				return nil, 0, err
			}
			t.fields = append(t.fields, f)
			j = k
		}
		t.str = s[start:j]
		layoutStruct(t)
		return t, j, nil
	case '{':
		if i+1 >= len(s) || !isBasic(s[i+1]) {
			return nil, 0, errors.New("dictionary entry key must be a basic type")
		}
		key, j, err := scanType(s, i+1, budget-1)
		if err != nil {
			return nil, 0, err
		}
		val, j, err := scanType(s, j, budget-1)
		if err != nil {
			return nil, 0, err
		}
		if j >= len(s) || s[j] != '}' {
			return nil, 0, errors.New("dictionary entry type must have exactly two members")
		}
		j++
		t := &typeInfo{str: s[start:j], kind: '{', fields: []*typeInfo{key, val}}
		layoutStruct(t)
		return t, j, nil
	case 'r', '*', '?':
		return nil, 0, fmt.Errorf("indefinite type code %q is not allowed here", c)
	default:
		return nil, 0, fmt.Errorf("invalid type code %q", c)
	}
}

// layoutStruct computes alignment and fixed size of a tuple or dict entry
// following the GVariant specification: the alignment is the largest member
// alignment, and the structure is fixed-size only if every member is, in
// which case its size is the padded member layout rounded up to the
// alignment (at least 1 byte, for the unit tuple).
func layoutStruct(t *typeInfo) {
	t.align = 1
	fixed := true
	off := 0
	for _, f := range t.fields {
		t.align = max(t.align, f.align)
		if f.size == 0 {
			fixed = false
			continue
		}
		off = alignUp(off, f.align) + f.size
	}
	if !fixed {
		t.size = 0
		return
	}
	off = alignUp(off, t.align)
	if off == 0 {
		off = 1
	}
	t.size = off
}

func alignUp(n, align int) int {
	return (n + align - 1) &^ (align - 1)
}

// validType reports whether s is a single complete definite type string.
func validType(s string) bool {
	_, err := parseType(s)
	return err == nil
}
