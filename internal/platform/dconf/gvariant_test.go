package dconf

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func mustArray(t testing.TB, elemType string, elems ...Value) Value {
	t.Helper()
	v, err := Array(elemType, elems...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustEntry(t testing.TB, k, v Value) Value {
	t.Helper()
	e, err := DictEntry(k, v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustNothing(t testing.TB, elemType string) Value {
	t.Helper()
	v, err := Nothing(elemType)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMarshalVectors checks the encoder against byte sequences worked out
// from the GVariant specification. The ones marked "GLib" were also seen
// in database files written by dconf-service; TestFixtureEncodingMatchesGLib
// checks many more against GLib's own serialiser.
func TestMarshalVectors(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		hex  string
	}{
		{"true", Bool(true), "01"},
		{"false", Bool(false), "00"},
		{"byte", Byte(0xff), "ff"},
		{"int16", Int16(-2), "feff"},
		{"uint16", Uint16(0x1234), "3412"},
		{"int32", Int32(42), "2a000000"},
		{"uint32", Uint32(900), "84030000"},
		{"int64", Int64(-1), "ffffffffffffffff"},
		{"uint64", Uint64(1 << 40), "0000000000010000"},
		{"handle", Handle(3), "03000000"},
		{"double", Double(2.5), "0000000000000440"},
		{"string", String("prefer-dark"), hex.EncodeToString([]byte("prefer-dark\x00"))},
		{"empty string", String(""), "00"},
		{"object path", ObjectPath("/a"), "2f6100"},
		{"signature", Signature("as"), "617300"},
		// GLib: <'prefer-dark'> as stored by dconf.
		{"variant string", Variant(String("prefer-dark")), hex.EncodeToString([]byte("prefer-dark\x00\x00s"))},
		// GLib: <0.1>.
		{"variant double", Variant(Double(0.1)), "9a9999999999b93f0064"},
		// GLib: ['a', 'b'] — elements then one-byte end offsets.
		{"string array", StringArray([]string{"a", "b"}), "6100620002 04"},
		{"empty string array", StringArray(nil), ""},
		{"int array", mustArray(t, "i", Int32(1), Int32(2)), "01000000 02000000"},
		{"just string", Just(String("x")), "7800 00"},
		{"just int", Just(Int32(5)), "05000000"},
		{"nothing", mustNothing(t, "s"), ""},
		{"unit tuple", Tuple(), "00"},
		// Fixed-size tuple padded to its alignment.
		{"fixed tuple", Tuple(Int32(1), Bool(true)), "01000000 01 000000"},
		// GLib: (1, 'x', [<2>]); the offset of the string's end is last.
		{"tuple", Tuple(Int32(1), String("x"), mustArray(t, "v", Variant(Int32(2)))),
			"01000000 7800 0000 02000000 00 69 06 06"},
		{"dict", mustArray(t, "{sv}", mustEntry(t, String("a"), Variant(Int32(1)))),
			"6100 000000000000 01000000 00 69 02 0f"},
		{"changeset set", mustArray(t, "{smv}", mustEntry(t, String("/a"), Just(Variant(Bool(true))))),
			"2f6100 0000000000 01 00 62 00 03 0d"},
		{"changeset reset", mustArray(t, "{smv}", mustEntry(t, String("/a/"), mustNothing(t, "v"))),
			"2f612f00 00000000 04 09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.hex)
			got, err := Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal(%s) = % x, want % x", tt.v, got, want)
			}
			back, err := Unmarshal(tt.v.Type(), got)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !back.Equal(tt.v) {
				t.Fatalf("Unmarshal = %s, want %s", back, tt.v)
			}
		})
	}
}

// TestFramingOffsetSizes checks that offsets grow from 1 to 2 to 4 bytes
// as containers pass 255 and 65535 bytes.
func TestFramingOffsetSizes(t *testing.T) {
	tests := []struct {
		name    string
		strs    []string
		size    int
		offSize int
	}{
		// 100 × "a\0" = 200 bytes + 100 offsets = 300 > 255: 2-byte offsets.
		{"two-byte", strings.Split(strings.Repeat("a", 100), ""), 200 + 2*100, 2},
		// 85 × 2 bytes + 85 = 255: still 1-byte offsets.
		{"one-byte limit", strings.Split(strings.Repeat("a", 85), ""), 255, 1},
		{"four-byte", []string{strings.Repeat("x", 70000)}, 70001 + 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := StringArray(tt.strs)
			b, err := Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.size {
				t.Fatalf("size %d, want %d", len(b), tt.size)
			}
			if got := offsetSize(len(b)); got != tt.offSize {
				t.Fatalf("offset size %d, want %d", got, tt.offSize)
			}
			// The last offset is the end of the last element: the start of
			// the offset table.
			var last int
			for i := 0; i < tt.offSize; i++ {
				last |= int(b[len(b)-tt.offSize+i]) << (8 * i)
			}
			if last != len(b)-len(tt.strs)*tt.offSize {
				t.Fatalf("last offset %d, want %d", last, len(b)-len(tt.strs)*tt.offSize)
			}
			back, err := Unmarshal("as", b)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(v) {
				t.Fatal("round trip changed the value")
			}
		})
	}
}

func TestUnmarshalRejectsMalformed(t *testing.T) {
	tests := []struct {
		typ, hex, want string
	}{
		{"i", "010000", "3 bytes for a fixed-size type of 4"},
		{"b", "02", "invalid boolean"},
		{"s", "6161", "not NUL-terminated"},
		{"s", "610062 00", "contains NUL"},
		{"s", "ff00", "not valid UTF-8"},
		{"o", "6100", "invalid object path"},
		{"g", "7b00", "invalid signature"},
		{"as", "6100 05", "framing offset table"},
		{"as", "6100 6200 02 01 04", "element 1 spans"},
		{"ai", "010000", "not a multiple of element size"},
		{"v", "0101", "no NUL"},
		{"v", "01000000 00 7a", "invalid type code"},
		{"v", "01000000 00 6969", "trailing characters"},
		{"ms", "7878", "missing NUL"},
		{"(si)", "6100 0000 01000000 09", "member 0 spans"},
		{"v", strings.Repeat("00", 1) + hex.EncodeToString([]byte(strings.Repeat("a", 200)+"i")), "nested too deeply"},
	}
	for _, tt := range tests {
		_, err := Unmarshal(tt.typ, unhex(t, tt.hex))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Unmarshal(%s, %s) error = %v, want it to mention %q", tt.typ, tt.hex, err, tt.want)
		}
	}
}

func TestMarshalRejectsInvalid(t *testing.T) {
	for _, v := range []Value{
		{},
		String("a\x00b"),
		String("\xff"),
		ObjectPath("not/a/path"),
		Signature("a"),
		Just(Value{}),
		Variant(Value{}),
	} {
		if b, err := Marshal(v); err == nil {
			t.Errorf("Marshal(%#v) = % x, want error", v, b)
		}
		_ = v.String() // must not panic
		_ = Tuple(v).String()
	}
	if _, err := Array("s", Int32(1)); err == nil {
		t.Error("Array with a mismatched element succeeded")
	}
	if _, err := DictEntry(StringArray(nil), Int32(1)); err == nil {
		t.Error("DictEntry with a non-basic key succeeded")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		text string
		want Value
	}{
		{"'prefer-dark'", String("prefer-dark")},
		{`"it's"`, String("it's")},
		{`'a\'b\\c\n\u00e9\U0001F600'`, String("a'b\\c\né😀")},
		{"true", Bool(true)},
		{"false", Bool(false)},
		{"42", Int32(42)},
		{"-7", Int32(-7)},
		{"0x10", Int32(16)},
		{"010", Int32(8)},
		{"uint32 5", Uint32(5)},
		{"int64 -9223372036854775808", Int64(math.MinInt64)},
		{"uint64 18446744073709551615", Uint64(math.MaxUint64)},
		{"byte 0xff", Byte(0xff)},
		{"int16 -2", Int16(-2)},
		{"uint16 7", Uint16(7)},
		{"handle 1", Handle(1)},
		{"2.5", Double(2.5)},
		{"1e3", Double(1000)},
		{"double 2", Double(2)},
		{"-inf", Double(math.Inf(-1))},
		{"nan", Double(math.NaN())},
		{"objectpath '/a/b'", ObjectPath("/a/b")},
		{"signature 'as'", Signature("as")},
		{"['a', 'b']", StringArray([]string{"a", "b"})},
		{"@as []", StringArray(nil)},
		{"[uint32 1, 2]", mustArray(t, "u", Uint32(1), Uint32(2))},
		{"[1, 2.5]", mustArray(t, "d", Double(1), Double(2.5))},
		{"[objectpath '/a', '/b']", mustArray(t, "o", ObjectPath("/a"), ObjectPath("/b"))},
		{"<'x'>", Variant(String("x"))},
		{"@ms 'x'", Just(String("x"))},
		{"just 'x'", Just(String("x"))},
		{"@ms nothing", mustNothing(t, "s")},
		{"(1, 'x')", Tuple(Int32(1), String("x"))},
		{"(1,)", Tuple(Int32(1))},
		{"(1)", Tuple(Int32(1))},
		{"()", Tuple()},
		{"{'a': <1>}", mustArray(t, "{sv}", mustEntry(t, String("a"), Variant(Int32(1))))},
		{"{1, 'one'}", mustEntry(t, Int32(1), String("one"))},
		{"@a{sv} {}", mustArray(t, "{sv}")},
		{"b'hi'", mustArray(t, "y", Byte('h'), Byte('i'), Byte(0))},
		{"  [ 'a' ,'b' ]  ", StringArray([]string{"a", "b"})},
		{"[@mi 5, 6]", mustArray(t, "mi", Just(Int32(5)), Just(Int32(6)))},
		{"[@m() (), ()]", mustArray(t, "m()", Just(Tuple()), Just(Tuple()))},
		{"[nothing, 'a']", mustArray(t, "ms", mustNothing(t, "s"), Just(String("a")))},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("Parse(%q) = %s (%s), want %s (%s)", tt.text, got, got.Type(), tt.want, tt.want.Type())
		}
	}
}

func TestParseAs(t *testing.T) {
	tests := []struct {
		typ, text string
		want      Value
	}{
		{"u", "5", Uint32(5)},
		{"d", "1", Double(1)},
		{"ms", "'x'", Just(String("x"))},
		{"mms", "just nothing", Just(mustNothing(t, "s"))},
		{"as", "[]", StringArray(nil)},
		{"a{sv}", "{}", mustArray(t, "{sv}")},
		{"ay", "[1, 2]", mustArray(t, "y", Byte(1), Byte(2))},
		{"o", "'/x'", ObjectPath("/x")},
	}
	for _, tt := range tests {
		got, err := ParseAs(tt.typ, tt.text)
		if err != nil {
			t.Errorf("ParseAs(%q, %q): %v", tt.typ, tt.text, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseAs(%q, %q) = %s, want %s", tt.typ, tt.text, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		typ, text, want string
	}{
		{"", "", "end of input"},
		{"", "[]", "unable to infer type"},
		{"", "'abc", "unterminated"},
		{"", "[1, 'a']", "no type in common"},
		{"", "[1,]", "unexpected character"},
		{"", "1 2", "after value"},
		{"", "bogus", "unknown keyword"},
		{"", "@zz 1", "invalid type annotation"},
		{"", `'\u0000'`, "unicode escape"},
		{"", "uint32 -1", "out of range"},
		{"", "byte 256", "out of range"},
		{"", "99999999999999999999", "too big"},
		{"", "12abc", "invalid character"},
		{"", "objectpath 'x'", "invalid object path"},
		{"", strings.Repeat("[", 200) + strings.Repeat("]", 200), "nested too deeply"},
		{"i", "'x'", "cannot parse as value of type"},
		{"i", "2.5", "not an integer"},
		{"s", "@i 1", "does not match"},
		{"(ii)", "(1,)", "cannot parse"},
	}
	for _, tt := range tests {
		var err error
		if tt.typ == "" {
			_, err = Parse(tt.text)
		} else {
			_, err = ParseAs(tt.typ, tt.text)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parse(%q, %q) error = %v, want it to mention %q", tt.typ, tt.text, err, tt.want)
		}
	}
}

// TestPrint checks the printer against g_variant_print output; more cases
// come from dconf itself in TestFixtureMatchesDconfRead.
func TestPrint(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{String("prefer-dark"), "'prefer-dark'"},
		{String("it's"), `"it's"`},
		{String(`both ' and "`), `"both ' and \""`},
		{String("tab\tnl\nbell\a\x01"), `'tab\tnl\nbell\a\u0001'`},
		{Uint32(5), "uint32 5"},
		{Int32(-5), "-5"},
		{Double(2), "2.0"},
		{Double(0.1), "0.10000000000000001"},
		{Double(1e22), "1e+22"},
		{Double(math.NaN()), "nan"},
		{Double(math.Copysign(math.NaN(), -1)), "-nan"},
		{StringArray([]string{"a", "b"}), "['a', 'b']"},
		{StringArray(nil), "@as []"},
		{mustArray(t, "u", Uint32(1), Uint32(2)), "[uint32 1, 2]"},
		{Tuple(Int32(1)), "(1,)"},
		{Tuple(), "()"},
		{Just(String("x")), "@ms 'x'"},
		{Just(mustNothing(t, "s")), "@mms just nothing"},
		{mustArray(t, "y", Byte(1), Byte(2)), "[byte 0x01, 0x02]"},
		{mustArray(t, "y", Byte('a'), Byte('\''), Byte(0)), `b"a'"`},
		{Variant(Uint32(7)), "<uint32 7>"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
	if got := Uint32(5).Print(false); got != "5" {
		t.Errorf("Print(false) = %s, want 5", got)
	}
}

func TestAccessors(t *testing.T) {
	if b, ok := Bool(true).Bool(); !b || !ok {
		t.Error("Bool")
	}
	if n, ok := Uint32(7).Int(); n != 7 || !ok {
		t.Error("Int of uint32")
	}
	if _, ok := Uint64(math.MaxUint64).Int(); ok {
		t.Error("Int of huge uint64 succeeded")
	}
	if _, ok := Int32(-1).Uint(); ok {
		t.Error("Uint of negative succeeded")
	}
	if s, ok := ObjectPath("/a").Str(); s != "/a" || !ok {
		t.Error("Str")
	}
	if ss, ok := StringArray([]string{"x"}).Strings(); !ok || len(ss) != 1 || ss[0] != "x" {
		t.Error("Strings")
	}
	if in, ok := Variant(Int32(1)).Inner(); !ok || !in.Equal(Int32(1)) {
		t.Error("Inner of variant")
	}
	if _, ok := mustNothing(t, "i").Inner(); ok {
		t.Error("Inner of Nothing succeeded")
	}
	if got := Just(Int32(3)).Interface(); !got.(Value).Equal(Int32(3)) {
		t.Error("Interface of Just")
	}
	if Int32(1).Equal(Uint32(1)) {
		t.Error("values of different types are equal")
	}
}

// randType returns a random definite type string.
func randType(r *rand.Rand, depth int) string {
	const basic = "bynqiuxthdsog"
	if depth <= 0 || r.IntN(3) == 0 {
		if r.IntN(8) == 0 {
			return "v"
		}
		return string(basic[r.IntN(len(basic))])
	}
	switch r.IntN(5) {
	case 0:
		return "a" + randType(r, depth-1)
	case 1:
		return "m" + randType(r, depth-1)
	case 2:
		return "{" + string(basic[r.IntN(len(basic))]) + randType(r, depth-1) + "}"
	case 3:
		return "a{" + string(basic[r.IntN(len(basic))]) + randType(r, depth-1) + "}"
	default:
		s := "("
		for i := r.IntN(4); i > 0; i-- {
			s += randType(r, depth-1)
		}
		return s + ")"
	}
}

// randValue returns a random value of type typ.
func randValue(t testing.TB, r *rand.Rand, typ string) Value {
	ti, err := parseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	budget := 2000
	return randValueOf(r, ti, &budget)
}

var sampleStrings = []string{"", "a", "prefer-dark", "it's", `q"q`, "tab\there", "é😀", "\x01\x7f", strings.Repeat("long", 80)}

// randValueOf returns a random value of type t; budget bounds the total
// number of array elements so that nested arrays stay small.
func randValueOf(r *rand.Rand, t *typeInfo, budget *int) Value {
	switch t.kind {
	case 'b':
		return Bool(r.IntN(2) == 1)
	case 'y':
		return Byte(uint8(r.Uint32()))
	case 'n':
		return Int16(int16(r.Uint32()))
	case 'q':
		return Uint16(uint16(r.Uint32()))
	case 'i':
		return Int32(int32(r.Uint32()))
	case 'h':
		return Handle(int32(r.Uint32()))
	case 'u':
		return Uint32(r.Uint32())
	case 'x':
		return Int64(int64(r.Uint64()))
	case 't':
		return Uint64(r.Uint64())
	case 'd':
		switch r.IntN(6) {
		case 0:
			return Double(math.Inf(1 - 2*r.IntN(2)))
		case 1:
			return Double(math.Float64frombits(quietNaN))
		case 2:
			return Double(float64(r.IntN(1000)))
		}
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) {
			// The text format keeps only the sign of a NaN.
			f = math.Float64frombits(quietNaN | r.Uint64()&(1<<63))
		}
		return Double(f)
	case 's':
		return String(sampleStrings[r.IntN(len(sampleStrings))])
	case 'o':
		return ObjectPath([]string{"/", "/a", "/org/gnome/Shell", "/a_1/B2"}[r.IntN(4)])
	case 'g':
		return Signature([]string{"", "s", "a{sv}", "(ii)as"}[r.IntN(4)])
	case 'v':
		inner, _ := parseType(randType(r, 2))
		return Variant(randValueOf(r, inner, budget))
	case 'm':
		if r.IntN(3) == 0 {
			return Value{t.str, []Value{}}
		}
		return Value{t.str, []Value{randValueOf(r, t.elem, budget)}}
	case 'a':
		n := r.IntN(5)
		if r.IntN(10) == 0 {
			n = 100 + r.IntN(200) // force 2-byte framing offsets
		}
		n = min(n, max(*budget, 0))
		*budget -= n
		elems := make([]Value, n)
		for i := range elems {
			elems[i] = randValueOf(r, t.elem, budget)
		}
		return Value{t.str, elems}
	default: // tuples and dict entries
		members := make([]Value, len(t.fields))
		for i, f := range t.fields {
			members[i] = randValueOf(r, f, budget)
		}
		return Value{t.str, members}
	}
}

// TestRoundTripProperties checks, for many random values, that binary and
// text serialisation both give back the same value.
func TestRoundTripProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		typ := randType(r, 4)
		v := randValue(t, r, typ)

		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%s : %s): %v", short(v.String()), typ, err)
		}
		back, err := Unmarshal(typ, b)
		if err != nil {
			t.Fatalf("Unmarshal(%s) of %s: %v", typ, short(v.String()), err)
		}
		if !back.Equal(v) {
			t.Fatalf("binary round trip of %s : %s gave %s", short(v.String()), typ, short(back.String()))
		}
		again, _ := Marshal(back)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %s is not stable", short(v.String()))
		}

		text := v.String()
		parsed, err := ParseAs(typ, text)
		if err != nil {
			t.Fatalf("ParseAs(%s, %s): %v", typ, short(text), short(err.Error()))
		}
		if !parsed.Equal(v) {
			t.Fatalf("text round trip of %s : %s gave %s", short(text), typ, short(parsed.String()))
		}
		// The annotated form carries enough type information to be
		// parsed without knowing the type.
		inferred, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%s) of type %s: %v", short(text), typ, short(err.Error()))
		}
		if !inferred.Equal(v) {
			t.Fatalf("Parse(%s) = %s of type %s, want type %s", short(text), short(inferred.String()), inferred.Type(), typ)
		}
	}
}

// short truncates long values in failure messages.
func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
