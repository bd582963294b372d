package dconf

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Value is a GVariant value: a type string together with its Go
// representation. Values are immutable; build them with the constructors in
// this file, [Parse], [ParseAs] or [Unmarshal]. The zero Value is invalid and
// is used by [Change] to mean "reset".
//
// The Go representation (see [Value.Interface]) is:
//
//	b bool, y uint8, n int16, q uint16, i and h int32, u uint32,
//	x int64, t uint64, d float64, s o g string,
//	v the contained Value, m* nil or the contained Value,
//	arrays, tuples and dict entries []Value.
type Value struct {
	typ string
	val any
}

// Bool returns a boolean (b) value.
func Bool(b bool) Value { return Value{"b", b} }

// Byte returns a byte (y) value.
func Byte(b uint8) Value { return Value{"y", b} }

// Int16 returns an int16 (n) value.
func Int16(n int16) Value { return Value{"n", n} }

// Uint16 returns a uint16 (q) value.
func Uint16(n uint16) Value { return Value{"q", n} }

// Int32 returns an int32 (i) value, the type GSettings uses for "int" keys.
func Int32(n int32) Value { return Value{"i", n} }

// Uint32 returns a uint32 (u) value.
func Uint32(n uint32) Value { return Value{"u", n} }

// Int64 returns an int64 (x) value.
func Int64(n int64) Value { return Value{"x", n} }

// Uint64 returns a uint64 (t) value.
func Uint64(n uint64) Value { return Value{"t", n} }

// Handle returns a handle (h) value. Handles index a file-descriptor array
// in D-Bus messages and carry no meaning in dconf, but they are part of the
// type system and may appear in databases.
func Handle(n int32) Value { return Value{"h", n} }

// Double returns a double (d) value.
func Double(f float64) Value { return Value{"d", f} }

// String returns a string (s) value. The string must be valid UTF-8 without
// NUL bytes; [Marshal] reports an error otherwise.
func String(s string) Value { return Value{"s", s} }

// ObjectPath returns a D-Bus object path (o) value. [Marshal] reports an
// error if s is not a valid object path.
func ObjectPath(s string) Value { return Value{"o", s} }

// Signature returns a D-Bus type signature (g) value. [Marshal] reports an
// error if s is not a valid signature.
func Signature(s string) Value { return Value{"g", s} }

// Variant returns a variant (v) wrapping inner, the form dconf stores every
// value in.
func Variant(inner Value) Value { return Value{"v", []Value{inner}} }

// StringArray returns an array of strings (as), the type of most list-valued
// settings.
func StringArray(ss []string) Value {
	elems := make([]Value, len(ss))
	for i, s := range ss {
		elems[i] = String(s)
	}
	return Value{"as", elems}
}

// Array returns an array with element type elemType. Every element must
// have exactly that type.
func Array(elemType string, elems ...Value) (Value, error) {
	if _, err := parseType(elemType); err != nil {
		return Value{}, fmt.Errorf("array element %w", err)
	}
	for i, e := range elems {
		if e.typ != elemType {
			return Value{}, fmt.Errorf("array element %d has type %q, want %q", i, e.typ, elemType)
		}
	}
	return Value{"a" + elemType, slices.Clone(elems)}, nil
}

// Just returns a maybe value holding inner.
func Just(inner Value) Value { return Value{"m" + inner.typ, []Value{inner}} }

// Nothing returns an empty maybe value whose element type is elemType.
func Nothing(elemType string) (Value, error) {
	if _, err := parseType(elemType); err != nil {
		return Value{}, fmt.Errorf("maybe element %w", err)
	}
	return Value{"m" + elemType, []Value{}}, nil
}

// Tuple returns a tuple of the given members; Tuple() is the unit tuple "()".
func Tuple(members ...Value) Value {
	typ := []byte{'('}
	for _, m := range members {
		typ = append(typ, m.typ...)
	}
	typ = append(typ, ')')
	return Value{string(typ), slices.Clone(members)}
}

// DictEntry returns a dictionary entry; key must be of a basic type.
// Arrays of dictionary entries, such as a{sv}, are dictionaries.
func DictEntry(key, val Value) (Value, error) {
	if len(key.typ) != 1 || !isBasic(key.typ[0]) {
		return Value{}, fmt.Errorf("dictionary key type %q is not a basic type", key.typ)
	}
	if val.typ == "" {
		return Value{}, errors.New("dictionary value is the zero Value")
	}
	return Value{"{" + key.typ + val.typ + "}", []Value{key, val}}, nil
}

// IsValid reports whether v is a real value rather than the zero Value.
func (v Value) IsValid() bool { return v.typ != "" }

// Type returns the GVariant type string of v, such as "s" or "as".
func (v Value) Type() string { return v.typ }

// Interface returns the Go representation of v described on [Value].
func (v Value) Interface() any {
	if len(v.typ) == 0 {
		return nil
	}
	switch v.typ[0] {
	case 'v':
		return v.val.([]Value)[0]
	case 'm':
		if kids := v.val.([]Value); len(kids) == 1 {
			return kids[0]
		}
		return nil
	case 'a', '(', '{':
		return slices.Clone(v.val.([]Value))
	}
	return v.val
}

// Bool returns the value of a boolean.
func (v Value) Bool() (b, ok bool) {
	b, ok = v.val.(bool)
	return b, ok && v.typ == "b"
}

// Int returns the value of any integer type (y n q i u x t h) when it fits
// in an int64.
func (v Value) Int() (int64, bool) {
	switch x := v.val.(type) {
	case uint8:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// Uint returns the value of any integer type when it is not negative.
func (v Value) Uint() (uint64, bool) {
	if x, ok := v.val.(uint64); ok {
		return x, true
	}
	n, ok := v.Int()
	if !ok || n < 0 {
		return 0, false
	}
	return uint64(n), true
}

// Float returns the value of a double.
func (v Value) Float() (float64, bool) {
	f, ok := v.val.(float64)
	return f, ok
}

// Str returns the contents of a string, object path or signature.
func (v Value) Str() (string, bool) {
	s, ok := v.val.(string)
	return s, ok
}

// Strings returns the contents of an array of strings, object paths or
// signatures (as, ao, ag).
func (v Value) Strings() ([]string, bool) {
	if v.typ != "as" && v.typ != "ao" && v.typ != "ag" {
		return nil, false
	}
	elems := v.val.([]Value)
	out := make([]string, len(elems))
	for i, e := range elems {
		out[i] = e.val.(string)
	}
	return out, true
}

// Inner returns the value inside a variant, or inside a maybe that holds a
// value. ok is false for Nothing and for every other type.
func (v Value) Inner() (inner Value, ok bool) {
	if v.typ == "" || (v.typ[0] != 'v' && v.typ[0] != 'm') {
		return Value{}, false
	}
	kids := v.val.([]Value)
	if len(kids) == 0 {
		return Value{}, false
	}
	return kids[0], true
}

// Children returns the members of a container value: array elements, tuple
// members, the key and value of a dict entry, the value in a variant, or
// the zero or one values in a maybe. It returns nil for basic types.
func (v Value) Children() []Value {
	kids, _ := v.val.([]Value)
	return slices.Clone(kids)
}

// Equal reports whether v and w have the same type and value. Doubles are
// compared by value, except that NaN equals NaN, so that decoded values
// compare equal to what was encoded.
func (v Value) Equal(w Value) bool {
	if v.typ != w.typ {
		return false
	}
	switch a := v.val.(type) {
	case []Value:
		b := w.val.([]Value)
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !a[i].Equal(b[i]) {
				return false
			}
		}
		return true
	case float64:
		b := w.val.(float64)
		return a == b || (math.IsNaN(a) && math.IsNaN(b))
	}
	return v.val == w.val
}

// kids returns the container members without copying.
func (v Value) kids() []Value {
	kids, _ := v.val.([]Value)
	return kids
}
