package invariants

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/noema-project/noema"

// layers maps package path prefixes to DESIGN.md section 3 layers. A
// package that matches no prefix fails the test, so every new package is
// placed deliberately. The longest matching prefix wins.
var layers = map[string]int{
	"internal/ids": 0, "internal/canon": 0, "internal/clock": 0, "internal/platform": 0,
	"internal/blobstore": 0, "internal/sqlitedb": 0, "internal/listen": 0,
	"evidence": 1,
	"objfs":    2,
	"action":   3, "adapter": 3, "adapters": 3, "policy": 3, "identity": 3, "approval": 3,
	"verify": 3, "runtime": 3, "state": 3, "internal/pipelinetest": 3,
	"translate": 5, "llm": 5, "memory": 5, "agent": 5, "cognition": 5,
	"server": 7, "cmd": 7, "internal/app": 7, "internal/cli": 7, "internal/invariants": 7, "bench": 7,
}

func layerOf(pkg string) (int, bool) {
	best, layer := "", -1
	for prefix, l := range layers {
		if (pkg == prefix || strings.HasPrefix(pkg, prefix+"/")) && len(prefix) > len(best) {
			best, layer = prefix, l
		}
	}
	return layer, layer >= 0
}

// imports reads the non-test imports of every package in the module.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "tools") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module+"/"); ok {
				graph[pkg] = append(graph[pkg], rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

// TestLayering is invariant 10: a package imports only packages of its own
// layer or a lower one.
func TestLayering(t *testing.T) {
	graph := imports(t)
	if len(graph) < 10 {
		t.Fatalf("found only %d packages; is the walk rooted right?", len(graph))
	}
	var pkgs []string
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		lp, ok := layerOf(p)
		if !ok {
			t.Errorf("package %s has no layer; add it to the layer map (DESIGN.md section 3)", p)
			continue
		}
		for _, imp := range graph[p] {
			li, ok := layerOf(imp)
			if !ok {
				continue // reported on its own
			}
			if li > lp {
				t.Errorf("layer violation: %s (L%d) imports %s (L%d)", p, lp, imp, li)
			}
		}
	}
}

// TestPlannersCannotReachExecutors is the import half of invariant 1: no
// cognition package (L5) reaches the runtime or an adapter, directly or
// through anything it imports.
func TestPlannersCannotReachExecutors(t *testing.T) {
	graph := imports(t)
	for p := range graph {
		if l, _ := layerOf(p); l != 5 {
			continue
		}
		seen := map[string]bool{}
		var walk func(string, []string)
		walk = func(q string, path []string) {
			if seen[q] {
				return
			}
			seen[q] = true
			if q == "runtime" || q == "adapters" || strings.HasPrefix(q, "adapters/") || q == "internal/platform/sandbox" {
				t.Errorf("planner %s reaches executor %s via %s", p, q, strings.Join(path, " → "))
				return
			}
			for _, n := range graph[q] {
				walk(n, append(path, n))
			}
		}
		walk(p, []string{p})
	}
}

// TestListenersGoThroughListen is the static half of invariant 9: nothing
// outside internal/listen opens a network listener itself.
func TestListenersGoThroughListen(t *testing.T) {
	root, _ := filepath.Abs("../..")
	bad := []string{"net.Listen(", "net.ListenTCP(", "http.ListenAndServe(", "net.ListenUDP(", "ListenAndServeTLS("}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			if d != nil && d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.Contains(path, "internal/listen/") {
			return nil
		}
		data, _ := os.ReadFile(path)
		for _, b := range bad {
			if strings.Contains(string(data), b) {
				t.Errorf("%s calls %s; open listeners through internal/listen", path, b)
			}
		}
		return nil
	})
}
