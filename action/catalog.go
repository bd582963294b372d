package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Rollback says how an action's effect can be undone.
type Rollback string

const (
	RollbackNone      Rollback = "NONE"
	IdempotentReverse Rollback = "IDEMPOTENT_REVERSE"
	Checkpoint        Rollback = "CHECKPOINT"
)

// Example pairs a sentence with the target it means; the offline
// translator learns from these.
type Example struct {
	Text   string          `json:"text"`
	Target json.RawMessage `json:"target"`
}

// Manifest declares one action type. The adapter that owns the action
// declares it once; the translator, policy kernel, web UI and MCP server
// all read it from the catalog.
type Manifest struct {
	Name         string          `json:"name"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	Schema       json.RawMessage `json:"schema"`
	Risk         Risk            `json:"risk"`
	Verification string          `json:"verification"`
	Rollback     Rollback        `json:"rollback"`
	RollbackNote string          `json:"rollback_note,omitempty"`
	ReadOnly     bool            `json:"read_only,omitempty"`
	// PathFields name target fields holding filesystem paths (or argv
	// arrays), which the hard-deny rules inspect.
	PathFields []string  `json:"path_fields,omitempty"`
	Utterances []string  `json:"utterances,omitempty"`
	Examples   []Example `json:"examples,omitempty"`
	Aliases    []string  `json:"aliases,omitempty"`
	// ValueWords give the words people use for target values, keyed
	// "field=value": {"profile=power-saver": ["battery saver", "eco"]}.
	ValueWords map[string][]string `json:"value_words,omitempty"`
	Owner      string              `json:"owner"`
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*){1,2}$`)

// Domain is the first part of the name.
func (m *Manifest) Domain() string {
	d, _, _ := strings.Cut(m.Name, ".")
	return d
}

// Reversible reports whether the effect can be undone.
func (m *Manifest) Reversible() bool { return m.Rollback != RollbackNone }

// Entry is a registered manifest with its compiled schema.
type Entry struct {
	Manifest Manifest
	// The schema is compiled on first use: most commands validate one or
	// two targets, and compiling every schema would slow each start.
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

func (e *Entry) compiled() (*jsonschema.Schema, error) {
	e.once.Do(func() {
		comp := jsonschema.NewCompiler()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(e.Manifest.Schema))
		if err != nil {
			e.err = fmt.Errorf("catalog: %s schema: %w", e.Manifest.Name, err)
			return
		}
		url := "noema:" + e.Manifest.Name
		if err := comp.AddResource(url, doc); err != nil {
			e.err = fmt.Errorf("catalog: %s schema: %w", e.Manifest.Name, err)
			return
		}
		e.schema, e.err = comp.Compile(url)
		if e.err != nil {
			e.err = fmt.Errorf("catalog: %s schema: %w", e.Manifest.Name, e.err)
		}
	})
	return e.schema, e.err
}

// Catalog holds every action type. Registration happens at start-up; reads
// are safe from many goroutines.
type Catalog struct {
	mu      sync.RWMutex
	entries map[string]*Entry
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{entries: map[string]*Entry{}} }

// Register adds a manifest. Each action has one owner; a second
// registration of the same name is an error.
func (c *Catalog) Register(m Manifest) error {
	if !namePattern.MatchString(m.Name) {
		return fmt.Errorf("catalog: action name %q is not domain.verb or domain.resource.verb", m.Name)
	}
	if m.Owner == "" || m.Title == "" {
		return fmt.Errorf("catalog: %s needs an owner and a title", m.Name)
	}
	switch m.Rollback {
	case RollbackNone, IdempotentReverse, Checkpoint:
	default:
		return fmt.Errorf("catalog: %s has rollback %q", m.Name, m.Rollback)
	}
	if !json.Valid(m.Schema) {
		return fmt.Errorf("catalog: %s schema is not JSON", m.Name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, dup := c.entries[m.Name]; dup {
		return fmt.Errorf("catalog: %s is owned by %s; %s cannot register it again", m.Name, prev.Manifest.Owner, m.Owner)
	}
	c.entries[m.Name] = &Entry{Manifest: m}
	return nil
}

// Lookup finds an action type.
func (c *Catalog) Lookup(name string) (*Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[name]
	return e, ok
}

// All lists manifests sorted by name.
func (c *Catalog) All() []Manifest {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Manifest, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, e.Manifest)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ValidateTarget checks a target against the action's schema.
func (e *Entry) ValidateTarget(target json.RawMessage) error {
	if len(bytes.TrimSpace(target)) == 0 {
		target = json.RawMessage("{}")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(target))
	if err != nil {
		return fmt.Errorf("%s: target is not JSON: %w", e.Manifest.Name, err)
	}
	schema, err := e.compiled()
	if err != nil {
		return err
	}
	if err := schema.Validate(v); err != nil {
		return &TargetError{Action: e.Manifest.Name, Err: err}
	}
	return nil
}

// TargetError says a target does not match its schema.
type TargetError struct {
	Action string
	Err    error
}

func (e *TargetError) Error() string {
	msg := e.Err.Error()
	if ve, ok := e.Err.(*jsonschema.ValidationError); ok {
		printer := message.NewPrinter(language.English)
		var parts []string
		for _, c := range leafCauses(ve) {
			loc := "/" + strings.Join(c.InstanceLocation, "/")
			parts = append(parts, fmt.Sprintf("%s: %s", loc, c.ErrorKind.LocalizedString(printer)))
		}
		msg = strings.Join(parts, "; ")
	}
	return fmt.Sprintf("invalid target for %s: %s", e.Action, msg)
}

func (e *TargetError) Unwrap() error { return e.Err }

func leafCauses(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leafCauses(c)...)
	}
	return out
}
