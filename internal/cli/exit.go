// Package cli is Noema's command-line renderer: it parses arguments, calls
// the pipeline, and prints results for people (aligned, escape-safe) or for
// scripts (--json), with the exit codes of the contract.
package cli

import (
	"errors"
	"fmt"
)

// Exit codes of the contract.
const (
	ExitOK            = 0
	ExitFailure       = 1
	ExitUsage         = 2
	ExitDenied        = 3
	ExitNeedsApproval = 4
	ExitVerifyFailed  = 5
	ExitCannotDo      = 6
)

// ExitError carries an exit code; Err may be nil when the output already
// said everything.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

func exitf(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// silent exits with code after output that already explained it.
func silent(code int) error {
	if code == ExitOK {
		return nil
	}
	return &ExitError{Code: code}
}

// Code returns the exit code for err.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}
