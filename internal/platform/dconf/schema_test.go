package dconf

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testSchemaXML = `<?xml version="1.0" encoding="UTF-8"?>
<schemalist gettext-domain="test">
  <enum id="org.example.Mode">
    <value nick="auto" value="0"/>
    <value nick="on" value="1"/>
    <value nick="off" value="2"/>
  </enum>
  <schema id="org.example.app" path="/org/example/app/">
    <key name="title" type="s">
      <default l10n="messages">'Hello'</default>
      <summary>Title</summary>
      <description>
        The window
        title.
      </description>
    </key>
    <key name="enabled" type="b"><default>true</default></key>
    <key name="size" type="i">
      <default>10</default>
      <range min="1" max="100"/>
    </key>
    <key name="delay" type="u"><default>300</default></key>
    <key name="scale" type="d"><default>1.5</default></key>
    <key name="names" type="as"><default>['a', 'b']</default></key>
    <key name="mode" enum="org.example.Mode"><default>'auto'</default></key>
    <key name="features" flags="org.example.Features"><default>['x']</default></key>
    <key name="color" type="s">
      <choices><choice value="red"/><choice value="green"/></choices>
      <default>'red'</default>
    </key>
    <key name="vendor" type="s"><default>'upstream'</default></key>
    <key name="maybe" type="ms"><default>nothing</default></key>
  </schema>
  <schema id="org.example.app.extended" path="/org/example/extended/" extends="org.example.app">
    <override name="size">20</override>
    <key name="extra" type="x"><default>-1</default></key>
  </schema>
  <schema id="org.example.relocatable">
    <key name="x" type="i"><default>0</default></key>
  </schema>
</schemalist>
`

const testEnumsXML = `<schemalist>
  <flags id="org.example.Features">
    <value nick="x" value="1"/>
    <value nick="y" value="2"/>
  </flags>
</schemalist>
`

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testDataDirs builds two data directories: the first holds the test
// schemas, vendor overrides and a broken file; the second defines
// org.example.app again, which the first must hide.
func testDataDirs(t testing.TB) []string {
	t.Helper()
	root := t.TempDir()
	first := filepath.Join(root, "first")
	second := filepath.Join(root, "second")
	dir := filepath.Join(first, "glib-2.0", "schemas")
	writeFile(t, filepath.Join(dir, "org.example.gschema.xml"), testSchemaXML)
	writeFile(t, filepath.Join(dir, "org.example.enums.xml"), testEnumsXML)
	writeFile(t, filepath.Join(dir, "broken.gschema.xml"), "<schemalist><schema")
	writeFile(t, filepath.Join(dir, "10_a.gschema.override"), "# vendor\n[org.example.app]\nvendor='first'\ntitle[de]='Hallo'\n[org.example.app:GNOME]\nvendor='desktop'\n")
	writeFile(t, filepath.Join(dir, "20_b.gschema.override"), "[org.example.app]\nvendor = 'second'\n")
	writeFile(t, filepath.Join(second, "glib-2.0", "schemas", "org.example.gschema.xml"),
		strings.ReplaceAll(testSchemaXML, "'Hello'", "'Shadowed'"))
	return []string{first, second}
}

func TestSchemaKeys(t *testing.T) {
	c := NewClient(nil, Options{ConfigHome: t.TempDir(), DataDirs: testDataDirs(t)})
	ctx := context.Background()
	tests := []struct {
		schema, key string
		typ         string
		def         Value
		choices     []string
	}{
		{"org.example.app", "title", "s", String("Hello"), nil},
		{"org.example.app", "enabled", "b", Bool(true), nil},
		{"org.example.app", "size", "i", Int32(10), nil},
		{"org.example.app", "delay", "u", Uint32(300), nil},
		{"org.example.app", "scale", "d", Double(1.5), nil},
		{"org.example.app", "names", "as", StringArray([]string{"a", "b"}), nil},
		{"org.example.app", "mode", "s", String("auto"), []string{"auto", "on", "off"}},
		{"org.example.app", "features", "as", StringArray([]string{"x"}), []string{"x", "y"}},
		{"org.example.app", "color", "s", String("red"), []string{"red", "green"}},
		{"org.example.app", "vendor", "s", String("second"), nil},
		{"org.example.app", "maybe", "ms", mustNothing(t, "s"), nil},
		{"org.example.app.extended", "size", "i", Int32(20), nil},
		{"org.example.app.extended", "title", "s", String("Hello"), nil},
		{"org.example.app.extended", "extra", "x", Int64(-1), nil},
	}
	for _, tt := range tests {
		k, err := c.Key(ctx, tt.schema, tt.key)
		if err != nil {
			t.Errorf("Key(%s, %s): %v", tt.schema, tt.key, err)
			continue
		}
		if k.Type != tt.typ || !k.Default.Equal(tt.def) || !slices.Equal(k.Choices, tt.choices) {
			t.Errorf("Key(%s, %s) = type %q default %s choices %q; want %q %s %q",
				tt.schema, tt.key, k.Type, k.Default, k.Choices, tt.typ, tt.def, tt.choices)
		}
		wantPath := "/org/example/app/" + tt.key
		if tt.schema == "org.example.app.extended" {
			wantPath = "/org/example/extended/" + tt.key
		}
		if k.Path != wantPath {
			t.Errorf("Key(%s, %s).Path = %q, want %q", tt.schema, tt.key, k.Path, wantPath)
		}
	}

	k, err := c.Key(ctx, "org.example.app", "title")
	if err != nil {
		t.Fatal(err)
	}
	if k.Summary != "Title" || k.Description != "The window title." {
		t.Errorf("summary %q description %q", k.Summary, k.Description)
	}
	if k, _ := c.Key(ctx, "org.example.relocatable", "x"); k == nil || k.Path != "" {
		t.Errorf("relocatable key: %+v", k)
	}
	if _, _, err := c.Effective(ctx, "org.example.relocatable", "x"); err == nil || !strings.Contains(err.Error(), "relocatable") {
		t.Errorf("Effective on a relocatable schema: %v", err)
	}
	if _, err := c.Key(ctx, "org.example.app", "nope"); err == nil || !strings.Contains(err.Error(), `no key "nope"`) {
		t.Errorf("missing key error: %v", err)
	}
	_, err = c.Key(ctx, "org.example.missing", "x")
	if err == nil || !strings.Contains(err.Error(), "not installed") || !strings.Contains(err.Error(), "broken.gschema.xml") {
		t.Errorf("missing schema error should mention the unreadable file: %v", err)
	}
	s, _ := c.Schemas(ctx)
	if keys, _ := s.Keys("org.example.app.extended"); !slices.Contains(keys, "extra") || !slices.Contains(keys, "title") {
		t.Errorf("Keys(extended) = %q", keys)
	}
}

func TestKeyValidate(t *testing.T) {
	c := NewClient(nil, Options{ConfigHome: t.TempDir(), DataDirs: testDataDirs(t)})
	ctx := context.Background()
	key := func(name string) *Key {
		k, err := c.Key(ctx, "org.example.app", name)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	tests := []struct {
		key  string
		v    Value
		want string // "" for valid
	}{
		{"mode", String("on"), ""},
		{"mode", String("sideways"), `"sideways" is not one of auto, on, off`},
		{"mode", Int32(1), `want "s"`},
		{"features", StringArray([]string{"x", "y"}), ""},
		{"features", StringArray([]string{"z"}), "not one of"},
		{"color", String("green"), ""},
		{"color", String("blue"), "not one of"},
		{"size", Int32(100), ""},
		{"size", Int32(101), "outside the range 1..100"},
		{"size", Int32(0), "outside the range"},
		{"title", String("anything"), ""},
	}
	for _, tt := range tests {
		err := key(tt.key).Validate(tt.v)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Validate(%s, %s) = %v, want %q", tt.key, tt.v, err, tt.want)
		}
	}
}

// TestInstalledSchema reads the real GNOME desktop schema, which every
// GNOME system has and which the end-to-end tests rely on.
func TestInstalledSchema(t *testing.T) {
	c := NewClient(nil, Options{ConfigHome: t.TempDir()})
	k, err := c.Key(context.Background(), "org.gnome.desktop.interface", "color-scheme")
	if err != nil {
		if strings.Contains(err.Error(), "not installed") {
			t.Skip("gsettings-desktop-schemas is not installed")
		}
		t.Fatal(err)
	}
	if k.Path != "/org/gnome/desktop/interface/color-scheme" || k.Type != "s" || !k.Default.Equal(String("default")) {
		t.Fatalf("color-scheme: path %q type %q default %s", k.Path, k.Type, k.Default)
	}
	if !slices.Contains(k.Choices, "prefer-dark") || !slices.Contains(k.Choices, "default") {
		t.Fatalf("color-scheme choices %q", k.Choices)
	}
}

func TestSchemaDirs(t *testing.T) {
	env := map[string]string{
		"GSETTINGS_SCHEMA_DIR": "/s1:/s2",
		"HOME":                 "/home/u",
		"XDG_DATA_DIRS":        "/d1:/d2",
	}
	got := SchemaDirs(func(k string) string { return env[k] })
	want := []string{"/s1", "/s2", "/home/u/.local/share/glib-2.0/schemas", "/d1/glib-2.0/schemas", "/d2/glib-2.0/schemas"}
	if !slices.Equal(got, want) {
		t.Fatalf("SchemaDirs = %q, want %q", got, want)
	}
	got = SchemaDirs(func(string) string { return "" })
	want = []string{"/usr/local/share/glib-2.0/schemas", "/usr/share/glib-2.0/schemas"}
	if !slices.Equal(got, want) {
		t.Fatalf("SchemaDirs with empty environment = %q, want %q", got, want)
	}
}
