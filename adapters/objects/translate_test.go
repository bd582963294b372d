package objects_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/noema-project/noema/adapters/objects"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/translate"
)

// TestUtterances reads the manifests' phrasings through the offline
// translator with the whole catalog installed, so the templates must win
// against every other action's.
func TestUtterances(t *testing.T) {
	home := t.TempDir()
	p := app.Paths{Home: filepath.Join(home, "noema"), UserHome: home, ConfigDir: filepath.Join(home, "cfg")}
	reg, dm, err := app.Catalog(p)
	if err != nil {
		t.Fatal(err)
	}
	defer dm.Close()
	if _, ok := reg.Handler("fs.rollback"); !ok {
		if err := reg.Install(objects.New(objects.Options{})); err != nil {
			t.Fatal(err)
		}
	}
	tr := translate.New(reg.Catalog().All())
	for _, tc := range []struct {
		text, action string
		target       map[string]any
	}{
		{"roll back notes.txt by 2 versions", "fs.rollback", map[string]any{"path": "notes.txt", "steps": 2.0}},
		{"rollback aios.txt to its previous 2 versions", "fs.rollback", map[string]any{"path": "aios.txt", "steps": 2.0}},
		{"revert draft.md to 3 versions ago", "fs.rollback", map[string]any{"path": "draft.md", "steps": 3.0}},
		{"show me the history of budget.ods", "fs.history", map[string]any{"path": "budget.ods"}},
		{"what versions of thesis.tex do you have", "fs.history", map[string]any{"path": "thesis.tex"}},
		{"find the two documents about sailing boats", "fs.search", map[string]any{"query": "sailing boats", "limit": 2.0}},
		{"search my notes for gluten free baking", "fs.search", map[string]any{"query": "gluten free baking"}},
		{"tag lease.pdf as housing", "fs.tag", map[string]any{"path": "lease.pdf", "tags": []any{"housing"}}},
		{"open the file report.pdf", "fs.open", map[string]any{"path": "report.pdf"}},
	} {
		plan := tr.Translate(tc.text, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		if plan.Status != translate.Ready || len(plan.Steps) != 1 || plan.Steps[0].Action != tc.action {
			t.Errorf("%q: %s %+v", tc.text, plan.Status, plan.Steps)
			continue
		}
		var got map[string]any
		json.Unmarshal(plan.Steps[0].Target, &got)
		if gj, wj := mustJSON(got), mustJSON(tc.target); gj != wj {
			t.Errorf("%q: target %s, want %s", tc.text, gj, wj)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
