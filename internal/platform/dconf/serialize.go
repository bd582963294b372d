package dconf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Marshal returns the GVariant binary serialisation of v in normal form and
// little-endian byte order, the form dconf-service expects on the bus and
// stores in its database on little-endian machines.
func Marshal(v Value) ([]byte, error) {
	if !v.IsValid() {
		return nil, errors.New("gvariant: marshal: zero Value")
	}
	t, err := parseType(v.typ)
	if err != nil {
		return nil, fmt.Errorf("gvariant: marshal: %w", err)
	}
	out, err := encode(t, v, 0)
	if err != nil {
		return nil, fmt.Errorf("gvariant: marshal %s: %w", v.typ, err)
	}
	return out, nil
}

// Unmarshal decodes data, the little-endian GVariant serialisation of a
// value of type typ. It accepts only well-formed data: inconsistent framing
// offsets, sizes that do not match fixed-size types, strings that are not
// NUL-terminated UTF-8 and similar defects are reported as errors, where
// GLib would silently substitute default values, because a reader that
// wants to prove a setting's value must not mistake corruption for data.
func Unmarshal(typ string, data []byte) (Value, error) {
	return unmarshalOrder(typ, data, binary.LittleEndian)
}

func unmarshalOrder(typ string, data []byte, order binary.ByteOrder) (Value, error) {
	t, err := parseType(typ)
	if err != nil {
		return Value{}, fmt.Errorf("gvariant: unmarshal: %w", err)
	}
	d := decoder{order: order}
	v, err := d.decode(t, data, 0)
	if err != nil {
		return Value{}, fmt.Errorf("gvariant: unmarshal %s: %w", typ, err)
	}
	return v, nil
}

// offsetSize returns the size of the framing offsets in a container whose
// serialised size is n, as fixed by the GVariant specification.
func offsetSize(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= math.MaxUint8:
		return 1
	case n <= math.MaxUint16:
		return 2
	case uint64(n) <= math.MaxUint32:
		return 4
	default:
		return 8
	}
}

// appendOffsets appends framing offsets to body, choosing the smallest
// offset size for which the whole container (body plus offsets) still fits.
func appendOffsets(body []byte, offsets []int) []byte {
	if len(offsets) == 0 {
		return body
	}
	k := 1
	for ; k < 8; k *= 2 {
		if uint64(len(body)+len(offsets)*k) <= uint64(1)<<(8*k)-1 {
			break
		}
	}
	for _, off := range offsets {
		for i := 0; i < k; i++ {
			body = append(body, byte(uint64(off)>>(8*i)))
		}
	}
	return body
}

func pad(b []byte, align int) []byte {
	for len(b)%align != 0 {
		b = append(b, 0)
	}
	return b
}

// encode serialises v, which must have type t. Every container is encoded
// into its own buffer starting at offset 0; this is correct because a
// container is always aligned at least as strictly as its members.
func encode(t *typeInfo, v Value, depth int) ([]byte, error) {
	if v.typ != t.str {
		return nil, fmt.Errorf("value of type %q where %q is required", v.typ, t.str)
	}
	if depth > maxDepth {
		return nil, errors.New("value nested too deeply")
	}
	le := binary.LittleEndian
	switch t.kind {
	case 'b':
		if v.val.(bool) {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case 'y':
		return []byte{v.val.(uint8)}, nil
	case 'n':
		return le.AppendUint16(nil, uint16(v.val.(int16))), nil
	case 'q':
		return le.AppendUint16(nil, v.val.(uint16)), nil
	case 'i', 'h':
		return le.AppendUint32(nil, uint32(v.val.(int32))), nil
	case 'u':
		return le.AppendUint32(nil, v.val.(uint32)), nil
	case 'x':
		return le.AppendUint64(nil, uint64(v.val.(int64))), nil
	case 't':
		return le.AppendUint64(nil, v.val.(uint64)), nil
	case 'd':
		return le.AppendUint64(nil, math.Float64bits(v.val.(float64))), nil
	case 's', 'o', 'g':
		s := v.val.(string)
		if err := checkString(t.kind, s); err != nil {
			return nil, err
		}
		return append([]byte(s), 0), nil
	case 'v':
		inner := v.kids()[0]
		it, err := parseTypeDepth(inner.typ, maxDepth-depth)
		if err != nil {
			return nil, fmt.Errorf("variant: %w", err)
		}
		out, err := encode(it, inner, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, 0)
		return append(out, inner.typ...), nil
	case 'm':
		kids := v.kids()
		if len(kids) == 0 {
			return []byte{}, nil
		}
		out, err := encode(t.elem, kids[0], depth+1)
		if err != nil {
			return nil, err
		}
		if t.elem.size == 0 {
			out = append(out, 0)
		}
		return out, nil
	case 'a':
		kids := v.kids()
		out := []byte{}
		var offsets []int
		for _, k := range kids {
			b, err := encode(t.elem, k, depth+1)
			if err != nil {
				return nil, err
			}
			if t.elem.size == 0 {
				out = pad(out, t.elem.align)
			}
			out = append(out, b...)
			if t.elem.size == 0 {
				offsets = append(offsets, len(out))
			}
		}
		return appendOffsets(out, offsets), nil
	case '(', '{':
		kids := v.kids()
		if len(kids) != len(t.fields) {
			return nil, fmt.Errorf("%d members for type %q", len(kids), t.str)
		}
		out := []byte{}
		var offsets []int
		for i, f := range t.fields {
			b, err := encode(f, kids[i], depth+1)
			if err != nil {
				return nil, err
			}
			out = pad(out, f.align)
			out = append(out, b...)
			if f.size == 0 && i < len(t.fields)-1 {
				offsets = append(offsets, len(out))
			}
		}
		if t.size > 0 {
			for len(out) < t.size {
				out = append(out, 0)
			}
			return out, nil
		}
		// Framing offsets of a structure are stored in reverse order.
		for i, j := 0, len(offsets)-1; i < j; i, j = i+1, j-1 {
			offsets[i], offsets[j] = offsets[j], offsets[i]
		}
		return appendOffsets(out, offsets), nil
	}
	return nil, fmt.Errorf("cannot encode type %q", t.str)
}

// checkString enforces the rules for string-like types: UTF-8 without NUL,
// plus the object path and signature syntax.
func checkString(kind byte, s string) error {
	if i := indexNUL(s); i >= 0 {
		return fmt.Errorf("string contains NUL at byte %d", i)
	}
	if !utf8.ValidString(s) {
		return errors.New("string is not valid UTF-8")
	}
	switch kind {
	case 'o':
		if !isObjectPath(s) {
			return fmt.Errorf("invalid object path %q", s)
		}
	case 'g':
		if !isSignature(s) {
			return fmt.Errorf("invalid signature %q", s)
		}
	}
	return nil
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// isObjectPath reports whether s is a D-Bus object path: "/" or
// "/"-separated non-empty elements of [A-Za-z0-9_].
func isObjectPath(s string) bool {
	if s == "/" {
		return true
	}
	if len(s) < 2 || s[0] != '/' || s[len(s)-1] == '/' {
		return false
	}
	prev := byte('/')
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			if prev == '/' {
				return false
			}
		case c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		default:
			return false
		}
		prev = c
	}
	return true
}

// isSignature reports whether s is a D-Bus type signature: zero or more
// complete D-Bus types, where dictionary entries appear only as array
// elements and GVariant-only maybe types are not allowed.
func isSignature(s string) bool {
	for i := 0; i < len(s); {
		j, ok := scanDBusType(s, i, 0, false)
		if !ok {
			return false
		}
		i = j
	}
	return true
}

func scanDBusType(s string, i, depth int, inArray bool) (int, bool) {
	if i >= len(s) || depth > 64 {
		return 0, false
	}
	switch c := s[i]; {
	case isBasic(c) || c == 'v':
		return i + 1, true
	case c == 'a':
		return scanDBusType(s, i+1, depth+1, true)
	case c == '(':
		j := i + 1
		if j < len(s) && s[j] == ')' {
			return 0, false
		}
		for j < len(s) && s[j] != ')' {
			k, ok := scanDBusType(s, j, depth+1, false)
			if !ok {
				return 0, false
			}
			j = k
		}
		if j >= len(s) {
			return 0, false
		}
		return j + 1, true
	case c == '{' && inArray:
		if i+1 >= len(s) || !isBasic(s[i+1]) {
			return 0, false
		}
		j, ok := scanDBusType(s, i+2, depth+1, false)
		if !ok || j >= len(s) || s[j] != '}' {
			return 0, false
		}
		return j + 1, true
	}
	return 0, false
}

// decoder deserialises GVariant data in a given byte order; GVDB files
// written on big-endian machines store their values big-endian.
type decoder struct {
	order binary.ByteOrder
}

// readOffset reads a k-byte framing offset.
func (d decoder) readOffset(b []byte) int {
	var x uint64
	switch len(b) {
	case 1:
		x = uint64(b[0])
	case 2:
		x = uint64(d.order.Uint16(b))
	case 4:
		x = uint64(d.order.Uint32(b))
	case 8:
		x = d.order.Uint64(b)
	}
	if x > math.MaxInt32 {
		// Larger than any slice this package will ever be handed; callers
		// compare offsets against the data size, so clamping is safe.
		return math.MaxInt32
	}
	return int(x)
}

func (d decoder) decode(t *typeInfo, data []byte, depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, errors.New("value nested too deeply")
	}
	if t.size > 0 && len(data) != t.size {
		return Value{}, fmt.Errorf("%s: %d bytes for a fixed-size type of %d bytes", t.str, len(data), t.size)
	}
	switch t.kind {
	case 'b':
		switch data[0] {
		case 0:
			return Bool(false), nil
		case 1:
			return Bool(true), nil
		}
		return Value{}, fmt.Errorf("b: invalid boolean byte 0x%02x", data[0])
	case 'y':
		return Byte(data[0]), nil
	case 'n':
		return Int16(int16(d.order.Uint16(data))), nil
	case 'q':
		return Uint16(d.order.Uint16(data)), nil
	case 'i':
		return Int32(int32(d.order.Uint32(data))), nil
	case 'h':
		return Handle(int32(d.order.Uint32(data))), nil
	case 'u':
		return Uint32(d.order.Uint32(data)), nil
	case 'x':
		return Int64(int64(d.order.Uint64(data))), nil
	case 't':
		return Uint64(d.order.Uint64(data)), nil
	case 'd':
		return Double(math.Float64frombits(d.order.Uint64(data))), nil
	case 's', 'o', 'g':
		if len(data) == 0 || data[len(data)-1] != 0 {
			return Value{}, fmt.Errorf("%s: string is not NUL-terminated", t.str)
		}
		s := string(data[:len(data)-1])
		if err := checkString(t.kind, s); err != nil {
			return Value{}, fmt.Errorf("%s: %w", t.str, err)
		}
		return Value{t.str, s}, nil
	case 'v':
		return d.decodeVariant(data, depth)
	case 'm':
		return d.decodeMaybe(t, data, depth)
	case 'a':
		return d.decodeArray(t, data, depth)
	case '(', '{':
		return d.decodeStruct(t, data, depth)
	}
	return Value{}, fmt.Errorf("cannot decode type %q", t.str)
}

func (d decoder) decodeVariant(data []byte, depth int) (Value, error) {
	sep := bytes.LastIndexByte(data, 0)
	if sep < 0 {
		return Value{}, errors.New("v: no NUL byte separating value and type")
	}
	it, err := parseTypeDepth(string(data[sep+1:]), maxDepth-depth)
	if err != nil {
		return Value{}, fmt.Errorf("v: %w", err)
	}
	inner, err := d.decode(it, data[:sep], depth+1)
	if err != nil {
		return Value{}, fmt.Errorf("v: %w", err)
	}
	return Variant(inner), nil
}

func (d decoder) decodeMaybe(t *typeInfo, data []byte, depth int) (Value, error) {
	if len(data) == 0 {
		return Value{t.str, []Value{}}, nil
	}
	body := data
	if t.elem.size == 0 {
		if data[len(data)-1] != 0 {
			return Value{}, fmt.Errorf("%s: missing NUL after variable-size Just value", t.str)
		}
		body = data[:len(data)-1]
	}
	inner, err := d.decode(t.elem, body, depth+1)
	if err != nil {
		return Value{}, err
	}
	return Value{t.str, []Value{inner}}, nil
}

func (d decoder) decodeArray(t *typeInfo, data []byte, depth int) (Value, error) {
	var elems []Value
	if t.elem.size > 0 {
		if len(data)%t.elem.size != 0 {
			return Value{}, fmt.Errorf("%s: size %d is not a multiple of element size %d", t.str, len(data), t.elem.size)
		}
		n := len(data) / t.elem.size
		elems = make([]Value, 0, n)
		for i := 0; i < n; i++ {
			e, err := d.decode(t.elem, data[i*t.elem.size:(i+1)*t.elem.size], depth+1)
			if err != nil {
				return Value{}, err
			}
			elems = append(elems, e)
		}
		return Value{t.str, elems}, nil
	}
	if len(data) == 0 {
		return Value{t.str, []Value{}}, nil
	}
	k := offsetSize(len(data))
	if len(data) < k {
		return Value{}, fmt.Errorf("%s: %d bytes cannot hold a framing offset", t.str, len(data))
	}
	tableStart := d.readOffset(data[len(data)-k:])
	if tableStart > len(data)-k || (len(data)-tableStart)%k != 0 {
		return Value{}, fmt.Errorf("%s: framing offset table at %d does not fit %d bytes", t.str, tableStart, len(data))
	}
	n := (len(data) - tableStart) / k
	elems = make([]Value, 0, n)
	start := 0
	for i := 0; i < n; i++ {
		start = alignUp(start, t.elem.align)
		end := d.readOffset(data[tableStart+i*k : tableStart+(i+1)*k])
		if start > end || end > tableStart {
			return Value{}, fmt.Errorf("%s: element %d spans bytes %d..%d outside 0..%d", t.str, i, start, end, tableStart)
		}
		e, err := d.decode(t.elem, data[start:end], depth+1)
		if err != nil {
			return Value{}, err
		}
		elems = append(elems, e)
		start = end
	}
	return Value{t.str, elems}, nil
}

func (d decoder) decodeStruct(t *typeInfo, data []byte, depth int) (Value, error) {
	if len(t.fields) == 0 {
		// The unit tuple is one zero byte (size already checked).
		return Value{"()", []Value{}}, nil
	}
	k := offsetSize(len(data))
	tableEnd := len(data) // framing offsets are read backwards from here
	pos := 0
	members := make([]Value, 0, len(t.fields))
	for i, f := range t.fields {
		pos = alignUp(pos, f.align)
		var end int
		switch {
		case f.size > 0:
			end = pos + f.size
		case i == len(t.fields)-1:
			end = tableEnd
		default:
			if tableEnd-k < 0 {
				return Value{}, fmt.Errorf("%s: no room for framing offset of member %d", t.str, i)
			}
			tableEnd -= k
			end = d.readOffset(data[tableEnd : tableEnd+k])
		}
		if pos > end || end > tableEnd {
			return Value{}, fmt.Errorf("%s: member %d spans bytes %d..%d outside 0..%d", t.str, i, pos, end, tableEnd)
		}
		m, err := d.decode(f, data[pos:end], depth+1)
		if err != nil {
			return Value{}, err
		}
		members = append(members, m)
		pos = end
	}
	return Value{t.str, members}, nil
}
