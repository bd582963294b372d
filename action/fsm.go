package action

import "fmt"

// State is an action's place in its lifecycle.
type State string

const (
	Created         State = "CREATED"
	PolicyPending   State = "POLICY_PENDING"
	Approved        State = "APPROVED"
	ApprovalPending State = "APPROVAL_PENDING"
	PolicyDenied    State = "POLICY_DENIED"
	Queued          State = "QUEUED"
	Executing       State = "EXECUTING"
	Verifying       State = "VERIFYING"
	Succeeded       State = "SUCCEEDED"
	Failed          State = "FAILED"
	RolledBack      State = "ROLLED_BACK"
	RollbackFailed  State = "ROLLBACK_FAILED"
)

// legal lists every allowed transition; anything else is refused and
// recorded as an illegal transition.
var legal = map[State][]State{
	Created:         {PolicyPending},
	PolicyPending:   {Approved, ApprovalPending, PolicyDenied},
	ApprovalPending: {Approved, PolicyDenied},
	Approved:        {Queued},
	Queued:          {Executing, PolicyDenied, ApprovalPending, Failed},
	Executing:       {Verifying, Failed},
	Verifying:       {Succeeded, Failed},
	Succeeded:       {RolledBack},
	Failed:          {RolledBack, RollbackFailed},
}

// CanTransition reports whether from → to is legal.
func CanTransition(from, to State) bool {
	for _, s := range legal[from] {
		if s == to {
			return true
		}
	}
	return false
}

// IllegalTransitionError is returned for a transition the lifecycle forbids.
type IllegalTransitionError struct {
	ActionID string
	From, To State
}

func (e *IllegalTransitionError) Error() string {
	return fmt.Sprintf("action %s: illegal transition %s → %s", e.ActionID, e.From, e.To)
}

// Terminal reports whether no further transition can happen by itself.
func (s State) Terminal() bool {
	switch s {
	case Succeeded, Failed, PolicyDenied, RolledBack, RollbackFailed:
		return true
	}
	return false
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	_, ok := legal[s]
	return ok || s == PolicyDenied || s == RolledBack || s == RollbackFailed
}
