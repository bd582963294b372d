package policy

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cedar-policy/cedar-go"
	"github.com/noema-project/noema/internal/canon"
)

//go:embed defaults.cedar
var defaultPolicies []byte

// DefaultsName is the source name of the shipped policies.
const DefaultsName = "<noema defaults>"

// Source is one policy file's text.
type Source struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// FileError locates a problem in a policy file.
type FileError struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var posPattern = regexp.MustCompile(`<input>:(\d+):(\d+)\s*(.*)$`)

// Rule is one compiled policy with where it came from.
type Rule struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	Line     int    `json:"line"`
	Effect   string `json:"effect"`
	Approval bool   `json:"approval"`
	Text     string `json:"text"`
	policy   *cedar.Policy
}

// Set is a compiled policy set with a version that changes whenever any
// policy text changes.
type Set struct {
	Rules   []Rule
	Version string
	Sources []Source
	ps      *cedar.PolicySet
	byID    map[cedar.PolicyID]*Rule
}

// Compile builds a set from the shipped defaults and the given sources.
// A user policy with the @id of a shipped one replaces it.
func Compile(sources []Source) (*Set, error) {
	all := append([]Source{{Name: DefaultsName, Text: string(defaultPolicies)}}, sources...)
	rules := map[string]Rule{}
	var order []string
	for _, src := range all {
		list, err := cedar.NewPolicyListFromBytes(src.Name, []byte(src.Text))
		if err != nil {
			return nil, fileError(src.Name, err)
		}
		seen := map[string]bool{}
		for i, p := range list {
			ann := p.Annotations()
			id := string(ann["id"])
			if id == "" {
				id = fmt.Sprintf("%s#%d", filepath.Base(src.Name), i+1)
			}
			if seen[id] {
				return nil, &FileError{File: src.Name, Line: p.Position().Line, Col: p.Position().Column, Msg: fmt.Sprintf("policy id %q used twice", id)}
			}
			seen[id] = true
			appr := string(ann["approval"])
			if appr != "" && appr != "required" {
				return nil, &FileError{File: src.Name, Line: p.Position().Line, Col: p.Position().Column, Msg: fmt.Sprintf(`@approval must be "required", not %q`, appr)}
			}
			if appr != "" && p.Effect() != cedar.Permit {
				return nil, &FileError{File: src.Name, Line: p.Position().Line, Col: p.Position().Column, Msg: "@approval applies to permit policies only"}
			}
			effect := "permit"
			if p.Effect() == cedar.Forbid {
				effect = "forbid"
			}
			if _, dup := rules[id]; !dup {
				order = append(order, id)
			}
			rules[id] = Rule{ID: id, Source: src.Name, Line: p.Position().Line, Effect: effect, Approval: appr == "required", Text: string(p.MarshalCedar()), policy: p}
		}
	}
	s := &Set{ps: cedar.NewPolicySet(), byID: map[cedar.PolicyID]*Rule{}, Sources: sources}
	for _, id := range order {
		s.Rules = append(s.Rules, rules[id])
	}
	for i := range s.Rules {
		r := &s.Rules[i]
		s.ps.Add(cedar.PolicyID(r.ID), r.policy)
		s.byID[cedar.PolicyID(r.ID)] = r
	}
	v, err := canon.HashJSON(s.Rules)
	if err != nil {
		return nil, err
	}
	s.Version = v[:16]
	return s, nil
}

func fileError(name string, err error) error {
	m := posPattern.FindStringSubmatch(err.Error())
	if m == nil {
		return &FileError{File: name, Msg: err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	msg := strings.TrimSpace(m[3])
	return &FileError{File: name, Line: line, Col: col, Msg: msg}
}

// ReadDirs reads every *.cedar file in dirs (sorted by name; missing
// folders are fine).
func ReadDirs(dirs []string) ([]Source, error) {
	var out []Source
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		var names []string
		for _, e := range ents {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".cedar") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			p := filepath.Join(d, n)
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("policy: %w", err)
			}
			out = append(out, Source{Name: p, Text: string(b)})
		}
	}
	return out, nil
}

// LoadResult is what Load used.
type LoadResult struct {
	Set *Set
	// Err is the problem with the current files when the last good set
	// was used instead.
	Err error
	// FromLastGood is set when Set came from the last-good snapshot.
	FromLastGood bool
}

// Load compiles the policy files in dirs. When they do not compile it
// keeps the last good set (saved in lastGood), so that a typo never
// leaves the kernel without policies or silently loosens them.
func Load(dirs []string, lastGood string) LoadResult {
	srcs, err := ReadDirs(dirs)
	if err == nil {
		var s *Set
		if s, err = Compile(srcs); err == nil {
			if lastGood != "" {
				saveLastGood(lastGood, srcs)
			}
			return LoadResult{Set: s}
		}
	}
	if lastGood != "" {
		if b, rerr := os.ReadFile(lastGood); rerr == nil {
			var prev []Source
			if json.Unmarshal(b, &prev) == nil {
				if s, cerr := Compile(prev); cerr == nil {
					return LoadResult{Set: s, Err: err, FromLastGood: true}
				}
			}
		}
	}
	s, cerr := Compile(nil)
	if cerr != nil {
		panic("policy: shipped defaults do not compile: " + cerr.Error())
	}
	return LoadResult{Set: s, Err: err, FromLastGood: true}
}

func saveLastGood(path string, srcs []Source) {
	b, err := json.Marshal(srcs)
	if err != nil {
		return
	}
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
		return
	}
	os.MkdirAll(filepath.Dir(path), 0o700)
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, path)
	}
}
