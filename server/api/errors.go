package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/state"
)

// Error codes that are not a runtime rejection code.
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooLarge         = "too_large"
	CodeUnknownAction    = "unknown_action"
	CodeInvalidTarget    = "invalid_target"
	CodeConflict         = "conflict"
	CodeWrongState       = "wrong_state"
	CodeHashMismatch     = "hash_mismatch"
	CodeNotHuman         = "not_human"
	CodeCannotUndo       = "cannot_undo"
	CodeIdempotency      = "idempotency_conflict"
	CodeShuttingDown     = "shutting_down"
	CodeCanceled         = "canceled"
	CodeBusy             = "busy"
	CodeInternal         = "internal"
)

// sentinels pairs codes with the pipeline errors they stand for, in the
// order Classify tries them.
var sentinels = []struct {
	code   string
	status int
	err    error
}{
	{CodeUnknownAction, http.StatusNotFound, runtime.ErrUnknownAction},
	{CodeNotFound, http.StatusNotFound, state.ErrNotFound},
	{CodeIdempotency, http.StatusConflict, runtime.ErrIdempotencyConflict},
	{CodeNotHuman, http.StatusForbidden, runtime.ErrNotHuman},
	{CodeHashMismatch, http.StatusConflict, runtime.ErrHashMismatch},
	{CodeWrongState, http.StatusConflict, runtime.ErrWrongState},
	{CodeCannotUndo, http.StatusConflict, runtime.ErrCannotUndo},
	{CodeConflict, http.StatusConflict, state.ErrStale},
	{CodeShuttingDown, http.StatusServiceUnavailable, runtime.ErrClosed},
}

// Classify returns the HTTP status and code for an error from the
// pipeline. Anything the caller got wrong is a 4xx; only Noema's own
// failures are a 500.
func Classify(err error) (int, string) {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.status, s.code
		}
	}
	var te *action.TargetError
	if errors.As(err, &te) {
		return http.StatusBadRequest, CodeInvalidTarget
	}
	var re *runtime.RejectedError
	if errors.As(err, &re) && re.Code != "" {
		return http.StatusBadRequest, re.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable, CodeCanceled
	}
	return http.StatusInternalServerError, CodeInternal
}

// Sentinel returns the pipeline error a code stands for, or nil, so that a
// client can answer errors.Is as the pipeline in process would.
func Sentinel(code string) error {
	for _, s := range sentinels {
		if s.code == code {
			return s.err
		}
	}
	return nil
}

// IsRejection reports whether code says a submission was refused for
// what it asked (an invalid draft, target or verification), as opposed to
// a conflict or a failure.
func IsRejection(code string) bool {
	switch code {
	case CodeInvalidTarget, "invalid_draft", "invalid_verification", "no_subject":
		return true
	}
	return false
}
