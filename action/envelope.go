// Package action defines the typed action: its envelope, its lifecycle and
// the catalog of action types adapters own.
package action

import (
	"encoding/json"
	"time"

	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/canon"
	"github.com/noema-project/noema/verify"
)

// DryRun says how far an action may go.
type DryRun string

const (
	Live     DryRun = "LIVE"
	Validate DryRun = "VALIDATE"
	Simulate DryRun = "SIMULATE"
)

// Identity names an action; it is frozen at submission.
type Identity struct {
	ActionID       string    `json:"action_id"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	IntentID       string    `json:"intent_id,omitempty"`
	PlanID         string    `json:"plan_id,omitempty"`
	ParentActionID string    `json:"parent_action_id,omitempty"`
	CorrelationID  string    `json:"correlation_id"`
}

// Undo marks a request that restores another action's recorded pre-state.
type Undo struct {
	Of       string          `json:"of"`
	PreState json.RawMessage `json:"pre_state,omitempty"`
}

// Request is what is asked, frozen at submission and hashed; an approval is
// for exactly these bytes.
type Request struct {
	Action       string           `json:"action"`
	Target       json.RawMessage  `json:"target"`
	Subject      identity.Subject `json:"subject"`
	Reason       string           `json:"reason,omitempty"`
	Risk         Risk             `json:"risk"`
	Verification verify.Spec      `json:"verification"`
	DryRun       DryRun           `json:"dry_run"`
	Undo         *Undo            `json:"undo,omitempty"`
}

// Hash is hex(BLAKE3(JCS(request))).
func (r *Request) Hash() (string, error) { return canon.HashJSON(r) }

// Change is one effect shown to a person before approval: the old and new
// value where they are known.
type Change struct {
	Subject string `json:"subject"`
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	Note    string `json:"note,omitempty"`
}

// ErrorInfo is a failure recorded on an action.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Execution is written only by the runtime.
type Execution struct {
	State            State           `json:"state"`
	Conditions       []string        `json:"conditions,omitempty"`
	Decision         string          `json:"decision,omitempty"`
	ReasonCode       string          `json:"reason_code,omitempty"`
	PolicyDecisionID string          `json:"policy_decision_id,omitempty"`
	PolicyVersion    string          `json:"policy_version,omitempty"`
	ApprovalID       string          `json:"approval_id,omitempty"`
	Attempts         int             `json:"attempts"`
	Preview          []Change        `json:"preview,omitempty"`
	Result           json.RawMessage `json:"result,omitempty"`
	PreState         json.RawMessage `json:"pre_state,omitempty"`
	Error            *ErrorInfo      `json:"error,omitempty"`
	Verification     *verify.Result  `json:"verification,omitempty"`
	Evidence         []string        `json:"evidence,omitempty"`
	CrashRecovered   bool            `json:"crash_recovered,omitempty"`
	UndoneBy         string          `json:"undone_by,omitempty"`
	Class            Class           `json:"class,omitempty"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

// Envelope is one action: identity and request frozen, execution owned by
// the runtime.
type Envelope struct {
	Identity    Identity  `json:"identity"`
	Request     Request   `json:"request"`
	RequestHash string    `json:"request_hash"`
	Execution   Execution `json:"execution"`
}

// Class is a queue class; interactive work goes before agents, and agents
// before background work.
type Class string

const (
	Interactive Class = "INTERACTIVE"
	Agent       Class = "AGENT"
	Background  Class = "BACKGROUND"
)

// HasCondition reports whether c is among the conditions.
func (x *Execution) HasCondition(c string) bool {
	for _, have := range x.Conditions {
		if have == c {
			return true
		}
	}
	return false
}
