package canon

import (
	"encoding/json"
	"testing"
)

func TestCanonicalizeVectors(t *testing.T) {
	// Vectors from RFC 8785 sections 3.2.2 and 3.2.3 and Appendix B.
	cases := []struct{ in, want string }{
		{`{"b":2,"a":1}`, `{"a":1,"b":2}`},
		{` [ 1 , true , null , "x" ] `, `[1,true,null,"x"]`},
		{`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}`,
			`{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}`},
		{`{"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"}`, `{"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		{`{"literals":[null,true,false]}`, `{"literals":[null,true,false]}`},
		{`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{`-0`, `0`},
		{`1e21`, `1e+21`},
		{`1e20`, `100000000000000000000`},
		{`0.000001`, `0.000001`},
		{`0.0000001`, `1e-7`},
		{`-1.5`, `-1.5`},
		{`9007199254740993`, `9007199254740992`},
	}
	for _, c := range cases {
		got, err := Canonicalize([]byte(c.in))
		if err != nil {
			t.Fatalf("Canonicalize(%s): %v", c.in, err)
		}
		if string(got) != c.want {
			t.Errorf("Canonicalize(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	for _, in := range []string{`{"a":1,"a":2}`, `{"a":1} x`, `1e400`, "\"\xff\"", `{`, `[1,]`, ``} {
		if _, err := Canonicalize([]byte(in)); err == nil {
			t.Errorf("Canonicalize(%q) accepted bad input", in)
		}
	}
}

func TestHashJSONIgnoresKeyOrderButNotValues(t *testing.T) {
	a, _ := HashJSON(map[string]any{"x": 1, "y": "z"})
	b, _ := HashJSON(json.RawMessage(`{ "y" : "z", "x" : 1.0 }`))
	c, _ := HashJSON(map[string]any{"x": 2, "y": "z"})
	if a != b {
		t.Fatalf("equal documents hash differently: %s vs %s", a, b)
	}
	if a == c {
		t.Fatal("different documents hash the same")
	}
	if len(a) != 64 {
		t.Fatalf("hash %q is not 32 bytes of hex", a)
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":[1,2.5,"x"],"a":null}`, `[1e30,-0,0.1]`, `"\u0000"`, `{"a":{"b":{"c":[]}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonicalize(data)
		if err != nil {
			return
		}
		// Canonical output is valid JSON and a fixed point.
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %q", out)
		}
		again, err := Canonicalize(out)
		if err != nil {
			t.Fatalf("canonical output rejected: %v", err)
		}
		if string(again) != string(out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}
