package translate

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/noema-project/noema/action"
)

// kind is how a target field's value is found in words.
type kind int

const (
	kText kind = iota
	kEnum
	kBool
	kInt
	kNumber
	kPercent
	kDelta
	kDuration // seconds
	kMinutes  // a duration in minutes
	kTime
	kApp
	kUnit
	kPackage
	kPath
	kArgv
	kTags
)

type field struct {
	name     string
	kind     kind
	typ      string
	enum     []string
	required bool
	min, max *float64
	desc     string
	pattern  *pattern // nil when the schema gives none
}

// pattern is a field's regular expression, compiled when first needed:
// most requests never bind the few fields that have one.
type pattern struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

// allows reports whether v may be the field's value as far as its
// pattern says; a pattern that does not compile allows everything (the
// catalog's validator is the authority).
func (f *field) allows(v string) bool {
	p := f.pattern
	if p == nil {
		return true
	}
	p.once.Do(func() { p.re, _ = regexp.Compile(p.src) })
	return p.re == nil || p.re.MatchString(v)
}

// spec is what the translator knows about one action.
type spec struct {
	m      action.Manifest
	fields []field
	// alternatives are sets of fields of which one set must be given
	// (oneOf/anyOf with required); nil when there are none.
	alternatives [][]string
	templates    []*template
	// values maps normalized phrases to field values (enum values and
	// their value words).
	values map[string][]valueWord
	idx    int32 // position in the catalog
}

type valueWord struct {
	field, value string
	words        []string
}

type schemaNode struct {
	Type       any                   `json:"type"`
	Properties map[string]schemaNode `json:"properties"`
	Required   []string              `json:"required"`
	OneOf      []schemaNode          `json:"oneOf"`
	AnyOf      []schemaNode          `json:"anyOf"`
	Enum       []any                 `json:"enum"`
	Format     string                `json:"format"`
	Minimum    *float64              `json:"minimum"`
	Maximum    *float64              `json:"maximum"`
	Desc       string                `json:"description"`
	Pattern    string                `json:"pattern"`
	Items      *schemaNode           `json:"items"`
}

func typeName(t any) string {
	switch v := t.(type) {
	case string:
		return v
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}

func newSpec(m action.Manifest, a *arena) *spec {
	s := &spec{m: m, values: map[string][]valueWord{}}
	var root schemaNode
	json.Unmarshal(m.Schema, &root)
	req := map[string]bool{}
	for _, r := range root.Required {
		req[r] = true
	}
	props := map[string]schemaNode{}
	for k, v := range root.Properties {
		props[k] = v
	}
	for _, branch := range append(root.OneOf, root.AnyOf...) {
		for k, v := range branch.Properties {
			if _, ok := props[k]; !ok {
				props[k] = v
			}
		}
		if len(branch.Required) > 0 {
			s.alternatives = append(s.alternatives, branch.Required)
		}
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		n := props[name]
		f := field{name: name, typ: typeName(n.Type), required: req[name], min: n.Minimum, max: n.Maximum, desc: n.Desc}
		if n.Pattern != "" {
			f.pattern = &pattern{src: n.Pattern}
		}
		for _, e := range n.Enum {
			if str, ok := e.(string); ok {
				f.enum = append(f.enum, str)
			}
		}
		f.kind = fieldKind(m, f, n.Format)
		s.fields = append(s.fields, f)
		for _, v := range f.enum {
			s.addValue(f.name, v, v)
			s.addValue(f.name, v, strings.ReplaceAll(v, "-", " "))
		}
	}
	for key, words := range m.ValueWords {
		f, v, ok := strings.Cut(key, "=")
		if !ok {
			continue
		}
		for _, w := range words {
			s.addValue(f, v, w)
		}
	}
	for _, u := range m.Utterances {
		if t, err := compileTemplate(a, m.Name, u); err == nil {
			s.templates = append(s.templates, t)
		}
	}
	return s
}

func (s *spec) addValue(fieldName, value, phrase string) {
	words := vocabWords(phrase)
	if len(words) == 0 {
		return
	}
	s.values[words[0]] = append(s.values[words[0]], valueWord{field: fieldName, value: value, words: words})
}

func (s *spec) field(name string) *field {
	for i := range s.fields {
		if s.fields[i].name == name {
			return &s.fields[i]
		}
	}
	return nil
}

// fieldKind infers how to read a field from its schema and name; the
// names are the catalog's contract (DESIGN.md section 5).
func fieldKind(m action.Manifest, f field, format string) kind {
	if len(f.enum) > 0 {
		return kEnum
	}
	if format == "date-time" {
		return kTime
	}
	if format == "duration" {
		return kDuration
	}
	domain, _, _ := strings.Cut(m.Name, ".")
	switch f.typ {
	case "boolean":
		return kBool
	case "array":
		if f.name == "argv" {
			return kArgv
		}
		return kTags
	case "integer", "number":
		switch f.name {
		case "percent":
			return kPercent
		case "delta":
			return kDelta
		case "seconds":
			return kDuration
		case "duration_minutes", "minutes":
			return kMinutes
		}
		if f.typ == "number" {
			return kNumber
		}
		return kInt
	}
	switch f.name {
	case "at", "start", "end", "when", "due":
		return kTime
	case "from", "to":
		if domain == "calendar" {
			return kTime
		}
		return kPath
	case "app":
		return kApp
	case "unit":
		return kUnit
	case "path", "cwd", "file", "folder", "dir":
		return kPath
	case "name":
		switch domain {
		case "package":
			return kPackage
		case "process":
			return kUnit
		}
	}
	return kText
}

// satisfied reports which required fields are missing from target.
func (s *spec) missing(target map[string]any) []string {
	var out []string
	for _, f := range s.fields {
		if f.required {
			if _, ok := target[f.name]; !ok {
				out = append(out, f.name)
			}
		}
	}
	if len(out) > 0 || len(s.alternatives) == 0 {
		return out
	}
	for _, alt := range s.alternatives {
		all := true
		for _, f := range alt {
			if _, ok := target[f]; !ok {
				all = false
			}
		}
		if all {
			return nil
		}
	}
	return []string{s.alternatives[0][0]}
}

// question asks for a missing field in plain words.
func (s *spec) question(name string) string {
	f := s.field(name)
	if f == nil {
		return "What " + name + "?"
	}
	switch f.kind {
	case kPercent, kDelta:
		return "To what level (0–100%)?"
	case kEnum:
		return "Which " + strings.ReplaceAll(name, "_", " ") + ": " + orList(f.enum) + "?"
	case kBool:
		return "On or off?"
	case kTime:
		return "When?"
	case kDuration, kMinutes:
		return "For how long?"
	case kApp:
		return "Which application?"
	case kUnit:
		return "Which service?"
	case kPackage:
		return "Which package?"
	case kPath:
		return "Which file?"
	case kArgv:
		return "Which command, with its arguments?"
	}
	if name == "title" {
		return "What should it be called?"
	}
	if name == "pid" {
		return "Which process (a pid or a name)?"
	}
	if f.desc != "" {
		// A description that is itself a question ("what to be reminded
		// of") asks best.
		first, _, _ := strings.Cut(strings.ToLower(f.desc), " ")
		if first == "what" || first == "which" || first == "who" || first == "when" || first == "how" {
			return strings.ToUpper(f.desc[:1]) + strings.TrimRight(f.desc[1:], ".") + "?"
		}
		return "What " + strings.ReplaceAll(name, "_", " ") + "? " + strings.ToUpper(f.desc[:1]) + f.desc[1:]
	}
	return "What " + strings.ReplaceAll(name, "_", " ") + "?"
}

func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}
