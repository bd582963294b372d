package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/noema-project/noema/verify"
)

// Draft is what a caller may ask for. It carries no subject and no risk:
// the runtime takes the subject from the door the request came through
// (process uid, socket peer credentials, or the cognition path) and the
// risk from the catalog, so nothing in a request body can claim to be a
// human or lower its own risk.
type Draft struct {
	Action         string          `json:"action"`
	Target         json.RawMessage `json:"target,omitempty"`
	Reason         string          `json:"reason,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	DryRun         DryRun          `json:"dry_run,omitempty"`
	// Tainted is set by the cognition layer when untrusted text was in the
	// model's context; it can only add risk.
	Tainted       bool         `json:"tainted,omitempty"`
	PlanID        string       `json:"plan_id,omitempty"`
	IntentID      string       `json:"intent_id,omitempty"`
	CorrelationID string       `json:"correlation_id,omitempty"`
	Verification  *verify.Spec `json:"verification,omitempty"`
}

// MaxDraftBytes bounds a draft read from outside.
const MaxDraftBytes = 8 << 20

// DecodeDraft reads a draft from outside input strictly: unknown fields
// (such as "subject" or "risk") are refused, not ignored.
func DecodeDraft(data []byte) (Draft, error) {
	var d Draft
	if len(data) > MaxDraftBytes {
		return d, fmt.Errorf("draft is %d bytes; the limit is %d", len(data), MaxDraftBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Draft{}, fmt.Errorf("draft: %w", err)
	}
	if dec.More() {
		return Draft{}, errors.New("draft: trailing data after the JSON object")
	}
	if err := d.Check(); err != nil {
		return Draft{}, err
	}
	return d, nil
}

// Check validates the fields a draft must have.
func (d *Draft) Check() error {
	if !namePattern.MatchString(d.Action) {
		return fmt.Errorf("draft: %q is not an action name (domain.verb)", d.Action)
	}
	if len(d.Target) > 0 {
		t := bytes.TrimSpace(d.Target)
		if len(t) == 0 || t[0] != '{' {
			return errors.New("draft: target must be a JSON object")
		}
	}
	switch d.DryRun {
	case "", Live, Validate, Simulate:
	default:
		return fmt.Errorf("draft: dry_run %q is not LIVE, VALIDATE or SIMULATE", d.DryRun)
	}
	if d.Verification != nil {
		if err := d.Verification.Validate(); err != nil {
			return fmt.Errorf("draft: verification: %w", err)
		}
	}
	if strings.ContainsRune(d.Reason, 0) {
		return errors.New("draft: reason contains a NUL byte")
	}
	return nil
}
