// Package ids makes the identifiers Noema hands out: a short type prefix and
// a ULID, so that ids sort by creation time, are unique without
// coordination, and say what they name ("act_01J…", "ev_01J…").
package ids

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the identifiers Noema issues.
const (
	Action      = "act"
	Evidence    = "ev"
	Approval    = "apr"
	Correlation = "cor"
	Plan        = "plan"
	Decision    = "dec"
)

// New returns prefix_ULID stamped with t. Entropy comes from crypto/rand, so
// ids are unguessable as well as unique.
func New(prefix string, t time.Time) string {
	id := ulid.MustNew(ulid.Timestamp(t), rand.Reader)
	return prefix + "_" + id.String()
}

// Parse splits an id into its prefix and ULID and checks both.
func Parse(id string) (prefix string, u ulid.ULID, err error) {
	prefix, rest, ok := strings.Cut(id, "_")
	if !ok || prefix == "" {
		return "", ulid.ULID{}, fmt.Errorf("id %q: want PREFIX_ULID", id)
	}
	u, err = ulid.ParseStrict(rest)
	if err != nil {
		return "", ulid.ULID{}, fmt.Errorf("id %q: %w", id, err)
	}
	return prefix, u, nil
}

// Valid reports whether id is a well-formed id with the given prefix.
func Valid(prefix, id string) bool {
	p, _, err := Parse(id)
	return err == nil && p == prefix
}
