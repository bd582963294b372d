package translate

import (
	"path/filepath"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/adapter"
	"github.com/noema-project/noema/adapters/desktop"
	"github.com/noema-project/noema/adapters/files"
	"github.com/noema-project/noema/adapters/memory"
	"github.com/noema-project/noema/adapters/network"
	"github.com/noema-project/noema/adapters/objects"
	"github.com/noema-project/noema/adapters/power"
	"github.com/noema-project/noema/adapters/shell"
	"github.com/noema-project/noema/adapters/system"
	"github.com/noema-project/noema/adapters/timekeeping"
	"github.com/noema-project/noema/objfs"
	"github.com/noema-project/noema/verify"
)

// testCatalog is the real catalog, as every adapter declares it. (The
// translator itself never imports adapters; its tests read their
// manifests.)
func testCatalog(t testing.TB) []action.Manifest {
	t.Helper()
	home := t.TempDir()
	reg := adapter.NewRegistry(action.NewCatalog(), verify.NewEngine())
	for _, m := range []adapter.Module{
		desktop.New(desktop.Options{}), files.New(files.Options{Home: home, CheckpointDir: home}), shell.New(shell.Options{Home: home}),
		power.New(power.Options{}), network.New(network.Options{}), system.New(system.Options{}),
		timekeeping.New(timekeeping.Options{Home: home}), memory.New(memory.Options{Home: home}),
		objects.New(objects.Options{Store: objfs.Options{Dir: filepath.Join(home, "objects")}, Home: home}),
	} {
		if err := reg.Install(m); err != nil {
			t.Fatal(err)
		}
	}
	return reg.Catalog().All()
}

// TestCatalogTemplatesCompile checks every shipped template: one that
// does not compile would be dropped silently and its phrasing lost.
func TestCatalogTemplatesCompile(t *testing.T) {
	for _, m := range testCatalog(t) {
		for _, u := range m.Utterances {
			if _, err := compileTemplate(newArena(len(u)), m.Name, u); err != nil {
				t.Errorf("%s: %v", m.Name, err)
			}
		}
	}
}
