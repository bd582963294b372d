package dconf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Schemas is a set of GSettings schemas loaded from gschema XML sources.
//
// GSettings itself reads the compiled gschemas.compiled cache; reading the
// XML sources instead keeps this package free of a second binary format,
// and yields the same defaults because the cache is compiled from exactly
// these files (including vendor .gschema.override files, which are applied
// here too).
type Schemas struct {
	schemas map[string]*Schema
	// enums maps schema directory, then enum or flags id, to its nicks.
	// Enums resolve within the directory that defines the schema, as
	// glib-compile-schemas resolves them within one compilation.
	enums map[string]map[string][]string
	// skipped records files that could not be parsed, so that a failed
	// lookup can say why the schema might be missing.
	skipped []error
}

// Schema is one <schema> element.
type Schema struct {
	ID string
	// Path is the dconf directory the schema's keys live in, such as
	// /org/gnome/desktop/interface/, or "" for a relocatable schema.
	Path string
	// Extends names a schema whose keys this one inherits.
	Extends string

	dir  string
	keys map[string]*schemaKey
	// overrides holds default texts replaced by <override> elements or
	// vendor override files.
	overrides map[string]string
}

type schemaKey struct {
	name        string
	typ         string
	enum        string // enum id, for enum keys
	flags       string // flags id, for flags keys
	defaultText string
	summary     string
	description string
	choices     []string
	rangeMin    string
	rangeMax    string
}

// Key describes one key of a schema with everything needed to read,
// validate and display it.
type Key struct {
	SchemaID string
	Name     string
	// Path is the key's absolute dconf path, or "" if the schema is
	// relocatable.
	Path string
	// Type is the GVariant type of the key's values: the type attribute,
	// "s" for enum keys or "as" for flags keys.
	Type string
	// Default is the schema default, after vendor overrides.
	Default Value
	// DefaultText is Default as written in the schema or override file.
	DefaultText string
	// Choices lists the allowed strings: the nicks of an enum or flags key
	// or the <choices> of a string key. It is nil when any value of Type
	// is allowed.
	Choices []string
	// Min and Max bound numeric keys with a <range>; they are zero Values
	// otherwise.
	Min, Max    Value
	Summary     string
	Description string
}

// SchemaDirs returns the directories GSettings searches for schemas, in
// order of precedence: each entry of $GSETTINGS_SCHEMA_DIR, then
// glib-2.0/schemas under $XDG_DATA_HOME (default ~/.local/share) and under
// each of $XDG_DATA_DIRS (default /usr/local/share:/usr/share). getenv is
// usually os.Getenv.
func SchemaDirs(getenv func(string) string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(getenv("GSETTINGS_SCHEMA_DIR")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	dataHome := getenv("XDG_DATA_HOME")
	if dataHome == "" {
		if home := getenv("HOME"); home != "" {
			dataHome = filepath.Join(home, ".local", "share")
		}
	}
	data := []string{}
	if dataHome != "" {
		data = append(data, dataHome)
	}
	sys := getenv("XDG_DATA_DIRS")
	if sys == "" {
		sys = "/usr/local/share:/usr/share"
	}
	data = append(data, filepath.SplitList(sys)...)
	for _, d := range data {
		if d != "" {
			dirs = append(dirs, filepath.Join(d, "glib-2.0", "schemas"))
		}
	}
	return dirs
}

// LoadSchemas reads the *.gschema.xml, *.enums.xml and *.gschema.override
// files in dirs, which are searched in order: a schema defined in an
// earlier directory hides one with the same id in a later directory, as in
// GSettings. Missing directories are skipped. Files that cannot be parsed
// are skipped as well, because one broken file must not hide every other
// schema; lookups of a missing schema mention them.
func LoadSchemas(ctx context.Context, dirs []string) (*Schemas, error) {
	s := &Schemas{
		schemas: map[string]*Schema{},
		enums:   map[string]map[string][]string{},
	}
	for _, dir := range dirs {
		if err := s.loadDir(ctx, dir); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// xmlSchemaList mirrors the gschema XML format.
type xmlSchemaList struct {
	Schemas []xmlSchema `xml:"schema"`
	Enums   []xmlEnum   `xml:"enum"`
	Flags   []xmlEnum   `xml:"flags"`
}

type xmlSchema struct {
	ID        string        `xml:"id,attr"`
	Path      string        `xml:"path,attr"`
	Extends   string        `xml:"extends,attr"`
	Keys      []xmlKey      `xml:"key"`
	Overrides []xmlOverride `xml:"override"`
}

type xmlKey struct {
	Name        string      `xml:"name,attr"`
	Type        string      `xml:"type,attr"`
	Enum        string      `xml:"enum,attr"`
	Flags       string      `xml:"flags,attr"`
	Default     string      `xml:"default"`
	Summary     string      `xml:"summary"`
	Description string      `xml:"description"`
	Choices     []xmlChoice `xml:"choices>choice"`
	Range       *xmlRange   `xml:"range"`
}

type xmlChoice struct {
	Value string `xml:"value,attr"`
}

type xmlRange struct {
	Min string `xml:"min,attr"`
	Max string `xml:"max,attr"`
}

type xmlOverride struct {
	Name    string `xml:"name,attr"`
	Default string `xml:",chardata"`
}

type xmlEnum struct {
	ID     string `xml:"id,attr"`
	Values []struct {
		Nick string `xml:"nick,attr"`
	} `xml:"value"`
}

func (s *Schemas) loadDir(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dconf: read schema directory: %w", err)
	}
	defined := map[string]*Schema{} // schemas defined in this directory
	s.enums[dir] = map[string][]string{}
	var overrideFiles []string
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		file := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".gschema.override"):
			overrideFiles = append(overrideFiles, file)
			continue
		case strings.HasSuffix(name, ".gschema.xml"), strings.HasSuffix(name, ".enums.xml"):
		default:
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			s.skipped = append(s.skipped, err)
			continue
		}
		var list xmlSchemaList
		if err := xml.Unmarshal(data, &list); err != nil {
			s.skipped = append(s.skipped, fmt.Errorf("%s: %w", file, err))
			continue
		}
		for _, en := range append(list.Enums, list.Flags...) {
			nicks := make([]string, 0, len(en.Values))
			for _, v := range en.Values {
				nicks = append(nicks, v.Nick)
			}
			s.enums[dir][en.ID] = nicks
		}
		for _, xs := range list.Schemas {
			sc := &Schema{
				ID:        xs.ID,
				Path:      xs.Path,
				Extends:   xs.Extends,
				dir:       dir,
				keys:      map[string]*schemaKey{},
				overrides: map[string]string{},
			}
			for _, xk := range xs.Keys {
				k := &schemaKey{
					name:        xk.Name,
					typ:         xk.Type,
					enum:        xk.Enum,
					flags:       xk.Flags,
					defaultText: strings.TrimSpace(xk.Default),
					summary:     strings.TrimSpace(xk.Summary),
					description: collapseSpace(xk.Description),
				}
				for _, c := range xk.Choices {
					k.choices = append(k.choices, c.Value)
				}
				if xk.Range != nil {
					k.rangeMin, k.rangeMax = xk.Range.Min, xk.Range.Max
				}
				sc.keys[k.name] = k
			}
			for _, o := range xs.Overrides {
				sc.overrides[o.Name] = strings.TrimSpace(o.Default)
			}
			defined[sc.ID] = sc
		}
	}
	// Vendor overrides apply to schemas compiled in the same directory, in
	// lexical file order, so later files win.
	slices.Sort(overrideFiles)
	for _, file := range overrideFiles {
		if err := applyOverrides(file, defined); err != nil {
			s.skipped = append(s.skipped, err)
		}
	}
	for id, sc := range defined {
		if _, seen := s.schemas[id]; !seen {
			s.schemas[id] = sc
		}
	}
	return nil
}

// applyOverrides reads a key-file style vendor override file:
//
//	[org.gnome.desktop.interface]
//	monospace-font-name='Monospace 11'
//
// Groups for desktop-specific overrides ("id:DESKTOP") and localised keys
// ("key[de]") are ignored, as they do not apply to a plain GSettings
// client.
func applyOverrides(file string, defined map[string]*Schema) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var group *Schema
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '[':
			id, ok := strings.CutSuffix(line[1:], "]")
			if !ok {
				return fmt.Errorf("%s: malformed group line %q", file, line)
			}
			group = defined[id]
			continue
		}
		if group == nil {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s: malformed line %q", file, line)
		}
		key = strings.TrimSpace(key)
		if strings.Contains(key, "[") {
			continue
		}
		group.overrides[key] = strings.TrimSpace(val)
	}
	return sc.Err()
}

// collapseSpace joins the lines of a multi-line XML description.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Schema returns the schema with the given id.
func (s *Schemas) Schema(id string) (*Schema, bool) {
	sc, ok := s.schemas[id]
	return sc, ok
}

// IDs returns the ids of all loaded schemas, sorted.
func (s *Schemas) IDs() []string {
	ids := make([]string, 0, len(s.schemas))
	for id := range s.schemas {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Keys returns the sorted names of the keys of schema id, including
// inherited ones.
func (s *Schemas) Keys(id string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for sc := range s.chain(id) {
		for name := range sc.keys {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	if _, ok := s.schemas[id]; !ok {
		return nil, s.missing(id)
	}
	slices.Sort(names)
	return names, nil
}

// chain yields schema id and then the schemas it extends.
func (s *Schemas) chain(id string) func(func(*Schema) bool) {
	return func(yield func(*Schema) bool) {
		seen := map[string]bool{}
		for id != "" && !seen[id] {
			seen[id] = true
			sc, ok := s.schemas[id]
			if !ok || !yield(sc) {
				return
			}
			id = sc.Extends
		}
	}
}

func (s *Schemas) missing(id string) error {
	msg := fmt.Sprintf("dconf: schema %q not installed", id)
	if len(s.skipped) > 0 {
		msg += fmt.Sprintf(" (%d schema files could not be read, first: %v)", len(s.skipped), s.skipped[0])
	}
	return errors.New(msg)
}

// Key returns the description of key in schema id, with its default value
// parsed. Keys inherited through the extends attribute are found too, with
// overrides from the extending schema applied.
func (s *Schemas) Key(id, key string) (*Key, error) {
	top, ok := s.schemas[id]
	if !ok {
		return nil, s.missing(id)
	}
	var def *schemaKey
	override, overridden := "", false
	for sc := range s.chain(id) {
		if !overridden {
			override, overridden = sc.overrides[key]
		}
		if k, ok := sc.keys[key]; ok {
			def = k
			break
		}
	}
	if def == nil {
		return nil, fmt.Errorf("dconf: schema %q has no key %q", id, key)
	}
	k := &Key{
		SchemaID:    id,
		Name:        key,
		Type:        def.typ,
		DefaultText: def.defaultText,
		Choices:     slices.Clone(def.choices),
		Summary:     def.summary,
		Description: def.description,
	}
	if top.Path != "" {
		k.Path = top.Path + key
	}
	if overridden {
		k.DefaultText = override
	}
	switch {
	case def.enum != "":
		k.Type = "s"
		nicks, err := s.enumNicks(top.dir, def.enum)
		if err != nil {
			return nil, fmt.Errorf("dconf: key %s %s: %w", id, key, err)
		}
		k.Choices = nicks
	case def.flags != "":
		k.Type = "as"
		nicks, err := s.enumNicks(top.dir, def.flags)
		if err != nil {
			return nil, fmt.Errorf("dconf: key %s %s: %w", id, key, err)
		}
		k.Choices = nicks
	}
	if k.Type == "" {
		return nil, fmt.Errorf("dconf: key %s %s: no type, enum or flags attribute", id, key)
	}
	var err error
	if k.Default, err = ParseAs(k.Type, k.DefaultText); err != nil {
		return nil, fmt.Errorf("dconf: default of %s %s: %w", id, key, err)
	}
	if def.rangeMin != "" || def.rangeMax != "" {
		if k.Min, err = ParseAs(k.Type, def.rangeMin); err != nil {
			return nil, fmt.Errorf("dconf: range of %s %s: %w", id, key, err)
		}
		if k.Max, err = ParseAs(k.Type, def.rangeMax); err != nil {
			return nil, fmt.Errorf("dconf: range of %s %s: %w", id, key, err)
		}
	}
	return k, nil
}

// enumNicks finds an enum or flags definition, preferring the directory of
// the schema that uses it.
func (s *Schemas) enumNicks(dir, id string) ([]string, error) {
	if nicks, ok := s.enums[dir][id]; ok {
		return slices.Clone(nicks), nil
	}
	for _, m := range s.enums {
		if nicks, ok := m[id]; ok {
			return slices.Clone(nicks), nil
		}
	}
	return nil, fmt.Errorf("enum %q not defined", id)
}

// Validate reports whether v is a value GSettings would accept for k: it
// must have k's type, be one of k's choices (every element, for string
// arrays) and lie within k's range. GSettings ignores stored values that
// fail these checks and uses the default instead.
func (k *Key) Validate(v Value) error {
	if v.Type() != k.Type {
		return fmt.Errorf("dconf: %s %s: value %s has type %q, want %q", k.SchemaID, k.Name, v, v.Type(), k.Type)
	}
	if k.Choices != nil {
		var strs []string
		if s, ok := v.Str(); ok {
			strs = []string{s}
		} else if ss, ok := v.Strings(); ok {
			strs = ss
		} else if inner, ok := v.Inner(); ok && v.typ[0] == 'm' {
			if s, ok := inner.Str(); ok {
				strs = []string{s}
			} else if ss, ok := inner.Strings(); ok {
				strs = ss
			}
		}
		for _, s := range strs {
			if !slices.Contains(k.Choices, s) {
				return fmt.Errorf("dconf: %s %s: %q is not one of %s", k.SchemaID, k.Name, s, strings.Join(k.Choices, ", "))
			}
		}
	}
	if k.Min.IsValid() && (compareNumbers(v, k.Min) < 0 || compareNumbers(v, k.Max) > 0) {
		return fmt.Errorf("dconf: %s %s: %s is outside the range %s..%s", k.SchemaID, k.Name, v, k.Min, k.Max)
	}
	return nil
}

// compareNumbers orders two numeric values of the same type.
func compareNumbers(a, b Value) int {
	if fa, ok := a.Float(); ok {
		fb, _ := b.Float()
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	if ua, ok := a.val.(uint64); ok {
		ub, _ := b.val.(uint64)
		switch {
		case ua < ub:
			return -1
		case ua > ub:
			return 1
		}
		return 0
	}
	ia, _ := a.Int()
	ib, _ := b.Int()
	switch {
	case ia < ib:
		return -1
	case ia > ib:
		return 1
	}
	return 0
}
