package invariants

import (
	"os"
	"testing"

	"github.com/noema-project/noema/internal/platform/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunChild()
	os.Exit(m.Run())
}
