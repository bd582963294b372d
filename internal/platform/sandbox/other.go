//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
)

// MaybeRunChild does nothing on systems without sandbox support.
func MaybeRunChild() {}

// Run validates spec and then fails: Landlock and seccomp exist only
// on Linux, and running the program unconfined would silently break
// the caller's expectations.
func Run(ctx context.Context, spec Spec) (Result, error) {
	if err := validateSpec(spec); err != nil {
		return Result{}, err
	}
	return Result{}, fmt.Errorf("sandbox: %w on this operating system", errors.ErrUnsupported)
}
