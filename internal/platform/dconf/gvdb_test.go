package dconf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// golden reads testdata/user.golden: the output of "dconf read" for every
// key in testdata/user.gvdb. Both files were made by make-fixture.sh with
// the real dconf tools.
func golden(t testing.TB) map[string]string {
	t.Helper()
	data, err := os.ReadFile("testdata/user.golden")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad golden line %q", line)
		}
		out[k] = v
	}
	return out
}

func fixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/user.gvdb")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestFixtureMatchesDconfRead decodes a database written by dconf-service
// and prints every value, expecting exactly what "dconf read" printed.
func TestFixtureMatchesDconfRead(t *testing.T) {
	db, err := ParseDatabase(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	want := golden(t)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	if got := db.Keys(); !slices.Equal(got, keys) {
		t.Errorf("Keys() = %q\nwant %q", got, keys)
	}
	for path, text := range want {
		v, ok, err := db.Lookup(path)
		if err != nil || !ok {
			t.Errorf("Lookup(%s) = %v, %v", path, ok, err)
			continue
		}
		if got := v.String(); got != text {
			t.Errorf("%s = %s, dconf read printed %s", path, got, text)
		}
		parsed, err := ParseAs(v.Type(), text)
		if err != nil {
			t.Errorf("ParseAs(%s, %s): %v", v.Type(), text, err)
		} else if !parsed.Equal(v) {
			t.Errorf("ParseAs(%s, %s) = %s, want %s", v.Type(), text, parsed, v)
		}
	}
}

// TestFixtureEncodingMatchesGLib re-encodes every value of the fixture and
// expects the bytes GLib stored, which checks the encoder against GLib's
// serialiser for strings, integers of every size, doubles, arrays with and
// without framing offsets, maybes, tuples, dictionaries and variants.
func TestFixtureEncodingMatchesGLib(t *testing.T) {
	db, err := ParseDatabase(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range db.Keys() {
		v, _, err := db.Lookup(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := db.raw(path)
		got, err := Marshal(Variant(v))
		if err != nil {
			t.Errorf("Marshal(%s): %v", v, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Marshal(<%s>) = % x, GLib stored % x", path, v, got, want)
		}
	}
}

func TestList(t *testing.T) {
	db, err := ParseDatabase(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]string{
		"/":                                     {"noema/", "org/"},
		"/org/gnome/desktop/":                   {"input-sources/", "interface/", "session/"},
		"/org/gnome/desktop/session/":           {"idle-delay"},
		"/nonexistent/":                         nil,
		"/org/gnome/desktop/session/idle-delay": nil,
	}
	for dir, want := range tests {
		if got := db.List(dir); !slices.Equal(got, want) {
			t.Errorf("List(%s) = %q, want %q", dir, got, want)
		}
	}
}

func TestOpenDatabaseMissingIsEmpty(t *testing.T) {
	db, err := OpenDatabase(context.Background(), filepath.Join(t.TempDir(), "dconf", "user"))
	if err != nil {
		t.Fatal(err)
	}
	if keys := db.Keys(); len(keys) != 0 {
		t.Fatalf("Keys() = %q, want none", keys)
	}
	if _, ok, err := db.Lookup("/a/b"); ok || err != nil {
		t.Fatalf("Lookup = %v, %v", ok, err)
	}
}

// itemOffset returns the file offset of hash item i of the root table.
func itemOffset(t testing.TB, data []byte, i int) int {
	t.Helper()
	le := binary.LittleEndian
	root := int(le.Uint32(data[16:]))
	nBloom := int(le.Uint32(data[root:]) & (1<<27 - 1))
	nBuckets := int(le.Uint32(data[root+4:]))
	return root + 8 + 4*(nBloom+nBuckets) + 24*i
}

// itemIndex finds the hash item whose own key part is key.
func itemIndex(t testing.TB, data []byte, key string) int {
	t.Helper()
	le := binary.LittleEndian
	for i := 0; ; i++ {
		off := itemOffset(t, data, i)
		if off+24 > len(data) {
			t.Fatalf("no item with key %q", key)
		}
		start := int(le.Uint32(data[off+8:]))
		size := int(le.Uint16(data[off+12:]))
		if start+size <= len(data) && string(data[start:start+size]) == key {
			return i
		}
	}
}

func TestCorruptDatabases(t *testing.T) {
	le := binary.LittleEndian
	base := fixture(t)
	tests := []struct {
		name   string
		mutate func(d []byte) []byte
		want   string
	}{
		{"empty", func(d []byte) []byte { return nil }, "shorter than the 24-byte header"},
		{"signature", func(d []byte) []byte { copy(d, "GVariang"); return d }, "bad signature"},
		{"version", func(d []byte) []byte { d[8] = 1; return d }, "unsupported version 1"},
		{"root past end", func(d []byte) []byte { le.PutUint32(d[20:], 1<<30); return d }, "outside the"},
		{"root misaligned", func(d []byte) []byte { le.PutUint32(d[16:], 25); return d }, "not 4-byte aligned"},
		{"truncated", func(d []byte) []byte { return d[:len(d)/2] }, "outside the"},
		{"bucket count", func(d []byte) []byte { le.PutUint32(d[le.Uint32(d[16:])+4:], 1<<20); return d }, "buckets"},
		{"parent out of range", func(d []byte) []byte {
			off := itemOffset(t, d, itemIndex(t, d, "color-scheme"))
			le.PutUint32(d[off+4:], 5000)
			return d
		}, "parent index 5000 out of range"},
		{"parent cycle", func(d []byte) []byte {
			i := itemIndex(t, d, "/")
			le.PutUint32(d[itemOffset(t, d, i)+4:], uint32(i))
			return d
		}, "cycle in parent links"},
		{"key out of range", func(d []byte) []byte {
			le.PutUint32(d[itemOffset(t, d, 0)+8:], uint32(len(d)))
			return d
		}, "key"},
		{"item type", func(d []byte) []byte {
			d[itemOffset(t, d, 0)+14] = 'Z'
			return d
		}, "unknown item type 'Z'"},
		{"value misaligned", func(d []byte) []byte {
			off := itemOffset(t, d, itemIndex(t, d, "color-scheme"))
			le.PutUint32(d[off+16:], le.Uint32(d[off+16:])+1)
			return d
		}, "not 8-byte aligned"},
		{"shared value data", func(d []byte) []byte {
			a := itemOffset(t, d, itemIndex(t, d, "color-scheme"))
			b := itemOffset(t, d, itemIndex(t, d, "cursor-size"))
			copy(d[a+16:a+24], d[b+16:b+24])
			return d
		}, "overlaps item"},
		{"list bomb", func(d []byte) []byte {
			// Point every list at the whole item table, so that the lists
			// together name far more children than there are items.
			root := int(le.Uint32(d[16:]))
			first := itemOffset(t, d, 0)
			for i := 0; ; i++ {
				off := itemOffset(t, d, i)
				if off+24 > len(d) || off >= int(le.Uint32(d[20:])) {
					break
				}
				if d[off+14] == 'L' {
					le.PutUint32(d[off+16:], uint32(root))
					le.PutUint32(d[off+20:], uint32(first+4*((int(le.Uint32(d[20:]))-first)/4)))
				}
			}
			return d
		}, "child lists name more entries"},
		{"list entry", func(d []byte) []byte {
			off := itemOffset(t, d, itemIndex(t, d, "/"))
			le.PutUint32(d[le.Uint32(d[off+16:]):], 9999)
			return d
		}, "child index 9999 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.mutate(bytes.Clone(base))
			_, err := ParseDatabase(data)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseDatabase error = %v, want a *CorruptError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestCorruptValueIsReported damages one stored value: the other keys stay
// readable and the damaged one is an error, not an unset key.
func TestCorruptValueIsReported(t *testing.T) {
	data := fixture(t)
	db, err := ParseDatabase(data)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := db.raw("/org/gnome/desktop/interface/color-scheme")
	// The stored variant is 'prefer-dark' NUL NUL 's': change the type.
	raw[len(raw)-1] = 'i'
	if _, _, err := db.Lookup("/org/gnome/desktop/interface/color-scheme"); err == nil {
		t.Fatal("Lookup of damaged value succeeded")
	} else if ce := (*CorruptError)(nil); !errors.As(err, &ce) || !strings.Contains(err.Error(), "color-scheme") {
		t.Fatalf("error %v should be a *CorruptError naming the key", err)
	}
	if v, ok, err := db.Lookup("/org/gnome/desktop/interface/cursor-size"); err != nil || !ok || !v.Equal(Int32(48)) {
		t.Fatalf("cursor-size = %s, %v, %v", v, ok, err)
	}
}

func TestOpenDatabaseNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "user")
	if err := os.WriteFile(path, []byte("not a database at all, really"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenDatabase(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v should name %s", err, path)
	}
}

// TestBigEndianDatabase converts the fixture to the layout a big-endian
// machine writes (swapped signature, big-endian values) and expects the
// same values.
func TestBigEndianDatabase(t *testing.T) {
	data := fixture(t)
	le, err := ParseDatabase(data)
	if err != nil {
		t.Fatal(err)
	}
	// Only single-integer values are easy to byte-swap in place.
	swapped := bytes.Clone(data)
	copy(swapped, "raVGtnai")
	path := "/org/gnome/desktop/session/idle-delay"
	raw, _ := le.raw(path)
	i := bytes.Index(swapped, raw)
	binary.BigEndian.PutUint32(swapped[i:], binary.LittleEndian.Uint32(raw))
	be, err := ParseDatabase(swapped)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := be.Lookup(path)
	if err != nil || !ok || !v.Equal(Uint32(900)) {
		t.Fatalf("Lookup = %s, %v, %v; want uint32 900", v, ok, err)
	}
}
