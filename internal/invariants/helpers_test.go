package invariants

import (
	"fmt"

	"github.com/zeebo/blake3"
)

func hashOf(b []byte) (string, error) {
	s := blake3.Sum256(b)
	return fmt.Sprintf("%x", s[:]), nil
}
