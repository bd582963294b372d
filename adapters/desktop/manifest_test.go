package desktop_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/internal/pipelinetest"
)

var slotPattern = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestManifests checks what the translator and the catalog rely on: the
// DESIGN names, slots that name target fields, balanced templates and
// examples whose targets the schema accepts.
func TestManifests(t *testing.T) {
	m := newModule(t, desktop.Options{})
	p := pipelinetest.New(t, pipelinetest.Options{}, m)
	want := []string{"desktop.theme.set", "desktop.brightness.set", "desktop.volume.set", "desktop.volume.mute",
		"desktop.nightlight.set", "desktop.dnd.set", "desktop.notify", "desktop.app.launch"}
	for _, name := range want {
		e, ok := p.Registry.Catalog().Lookup(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		mf := e.Manifest
		var schema struct {
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(mf.Schema, &schema); err != nil {
			t.Fatal(err)
		}
		if mf.Owner != "desktop" || mf.Verification == "" || mf.Description == "" {
			t.Errorf("%s: owner, verification or description missing", name)
		}
		if mf.Rollback == action.RollbackNone && mf.RollbackNote == "" {
			t.Errorf("%s: irreversible without saying why", name)
		}
		if n := len(mf.Utterances); n < 3 || n > 8 {
			t.Errorf("%s: %d utterance templates", name, n)
		}
		if n := len(mf.Examples); n < 2 || n > 4 {
			t.Errorf("%s: %d examples", name, n)
		}
		if len(mf.Aliases) == 0 {
			t.Errorf("%s: no aliases", name)
		}
		for _, u := range mf.Utterances {
			if !balanced(u) {
				t.Errorf("%s: unbalanced template %q", name, u)
			}
			for _, s := range slotPattern.FindAllStringSubmatch(u, -1) {
				if _, ok := schema.Properties[s[1]]; !ok {
					t.Errorf("%s: template %q names {%s}, not a target field", name, u, s[1])
				}
			}
		}
		for _, ex := range mf.Examples {
			if err := e.ValidateTarget(ex.Target); err != nil {
				t.Errorf("%s: example %q: %v", name, ex.Text, err)
			}
		}
	}
}

func balanced(s string) bool {
	var stack []rune
	for _, r := range s {
		switch r {
		case '(', '[', '{':
			stack = append(stack, r)
		case ')', ']', '}':
			open := map[rune]rune{')': '(', ']': '[', '}': '{'}[r]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0
}
