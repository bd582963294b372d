package dconf

import (
	"bytes"
	"os"
	"testing"
)

// The fuzz targets feed hostile input to every parser. Beyond "no panic",
// each checks that what was accepted survives a round trip, which catches
// decoders that accept inconsistent data.

func FuzzUnmarshal(f *testing.F) {
	seeds := []struct {
		typ  string
		data string
	}{
		{"s", "prefer-dark\x00"},
		{"v", "prefer-dark\x00\x00s"},
		{"as", "a\x00b\x00\x02\x04"},
		{"a{smv}", "/a\x00\x00\x00\x00\x00\x00\x01\x00b\x00\x03\x0d"},
		{"a{smv}", "/a/\x00\x00\x00\x00\x00\x04\x09"},
		{"(isav)", "\x01\x00\x00\x00x\x00\x00\x00\x02\x00\x00\x00\x00i\x06\x06"},
		{"v", "\x01\x00\x00\x00\x00x\x00\x00\x00\x02\x00\x00\x00\x00i\x06\x06\x00(isav)"},
		{"mmi", "\x05\x00\x00\x00"},
		{"a(ib)", "\x01\x00\x00\x00\x01\x00\x00\x00"},
		{"ay", "hello\x00"},
		{"()", "\x00"},
		{"d", "\x00\x00\x00\x00\x00\x00\x04\x40"},
	}
	for _, s := range seeds {
		f.Add(s.typ, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		v, err := Unmarshal(typ, data)
		if err != nil {
			return
		}
		if v.Type() != typ {
			t.Fatalf("Unmarshal(%q) returned type %q", typ, v.Type())
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of decoded %s: %v", short(v.String()), err)
		}
		back, err := Unmarshal(typ, enc)
		if err != nil {
			t.Fatalf("Unmarshal of re-encoded %s: %v", short(v.String()), err)
		}
		if !back.Equal(v) {
			t.Fatalf("re-encoded value differs: %s vs %s", short(v.String()), short(back.String()))
		}
		_ = v.String()
	})
}

func FuzzParseDatabase(f *testing.F) {
	fixtureData, err := os.ReadFile("testdata/user.gvdb")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixtureData)
	f.Add(fixtureData[:200])
	f.Add([]byte("GVariant\x00\x00\x00\x00\x00\x00\x00\x00\x18\x00\x00\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := ParseDatabase(data)
		if err != nil {
			return
		}
		for _, k := range db.Keys() {
			v, ok, err := db.Lookup(k)
			if err == nil && ok {
				_ = v.String()
			}
			if !ok && err == nil {
				t.Fatalf("Keys listed %q but Lookup found nothing", k)
			}
		}
		for _, it := range db.items {
			if it.kind == 'L' {
				_ = db.List(it.name)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"'prefer-dark'", "true", "42", "uint32 5", "2.5", "['a', 'b']", "@as []",
		"{'a': <1>, 'b': <'two'>}", "(1, 'x', [<2>])", "@mms just nothing", "b'hi\\001'",
		`"it's"`, `'\u00e9\U0001F600'`, "[@mi 5, 6]", "[nothing, 'a']", "<<uint32 7>>",
		"{1, 'one'}", "(1,)", "-inf", "nan", "0x1f", "objectpath '/a'", "signature 'a{sv}'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := Parse(text)
		if err != nil {
			return
		}
		printed := v.String()
		back, err := ParseAs(v.Type(), printed)
		if err != nil {
			t.Fatalf("ParseAs(%s, %q) of printed %q: %v", v.Type(), short(printed), short(text), err)
		}
		if !back.Equal(v) {
			t.Fatalf("%q printed as %q parsed back as %s", short(text), short(printed), short(back.String()))
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of parsed %q: %v", short(text), err)
		}
		dec, err := Unmarshal(v.Type(), enc)
		if err != nil || !dec.Equal(v) {
			t.Fatalf("binary round trip of %q: %v", short(text), err)
		}
	})
}

func FuzzDecodeChangeset(f *testing.F) {
	blob, err := EncodeChangeset([]Change{
		SetKey("/org/gnome/desktop/interface/color-scheme", String("prefer-dark")),
		ResetKey("/org/gnome/desktop/"),
		SetKey("/a", StringArray([]string{"x", "y"})),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob)
	f.Fuzz(func(t *testing.T, blob []byte) {
		changes, err := DecodeChangeset(blob)
		if err != nil {
			return
		}
		// Re-encoding applies dconf's path rules, which decoding does not,
		// so only well-formed changesets must round-trip.
		enc, err := EncodeChangeset(changes)
		if err != nil {
			return
		}
		again, err := DecodeChangeset(enc)
		if err != nil || len(again) != len(changes) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range again {
			if again[i].Path != changes[i].Path || !again[i].Value.Equal(changes[i].Value) {
				t.Fatalf("change %d differs", i)
			}
		}
		if !bytes.Equal(enc, mustEncode(t, again)) {
			t.Fatal("encoding is not stable")
		}
	})
}

func mustEncode(t *testing.T, changes []Change) []byte {
	t.Helper()
	b, err := EncodeChangeset(changes)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
