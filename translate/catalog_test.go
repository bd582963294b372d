package translate

import (
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/app"
)

// testCatalog is the real catalog, as every adapter declares it.
func testCatalog(t testing.TB) []action.Manifest {
	t.Helper()
	p, err := app.ResolvePaths(func(k string) string {
		if k == "HOME" {
			return t.TempDir()
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	reg, closer, err := app.Catalog(p)
	if err != nil {
		t.Fatal(err)
	}
	closer.Close()
	return reg.Catalog().All()
}
