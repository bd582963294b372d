// Package api holds the shapes the daemon's REST API reads and writes,
// and the error codes it answers with, so that the server, its Go client
// and the OpenAPI document share one definition.
package api

import (
	"encoding/json"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/policy"
)

// ViaHeader lets a client on the Unix socket say which door it is (only
// "cli" is accepted), so that the subject of an action the CLI submits
// through the daemon reads the same as one it submits in process. It is
// ignored on HTTP, where the door is always "api" or "web".
const ViaHeader = "Noema-Via"

// CSRFHeader carries a cookie session's CSRF token on unsafe requests.
const CSRFHeader = "X-CSRF-Token"

// ErrorBody is what went wrong: a stable code and a message for people.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is the body of every error response.
type Error struct {
	Error ErrorBody `json:"error"`
}

// Status describes the running daemon and the caller as it sees them.
type Status struct {
	Version   string           `json:"version"`
	PID       int              `json:"pid"`
	Home      string           `json:"home"`
	Socket    string           `json:"socket,omitempty"`
	HTTP      string           `json:"http,omitempty"`
	Recovery  bool             `json:"recovery"`
	DBus      bool             `json:"dbus"`
	StartedAt time.Time        `json:"started_at"`
	Subject   identity.Subject `json:"subject"`
}

// Untrusted is text from outside (a file, a web page) that a plan may be
// informed by but never instructed by; actions planned with it are
// tainted.
type Untrusted struct {
	Source string `json:"source"`
	Text   string `json:"text"`
}

// PlanRequest asks for a plan of the words in Text.
type PlanRequest struct {
	Text string `json:"text"`
	// Now (RFC 3339) fixes "now" for relative times.
	Now string `json:"now,omitempty"`
	// Cwd (absolute) resolves relative paths; default the user's home.
	Cwd string `json:"cwd,omitempty"`
	// Preview reads the system to show each change as old → new.
	Preview bool        `json:"preview,omitempty"`
	Context []Untrusted `json:"context,omitempty"`
}

// AskRequest plans and submits. The actions allowed outright run unless
// the query says run=false; those that need approval wait for it.
type AskRequest struct {
	PlanRequest
	// DryRun plans and decides only, like `noema ask --dry-run`.
	DryRun bool `json:"dry_run,omitempty"`
}

// Rejected is a planned step the runtime refused to submit.
type Rejected struct {
	Action string    `json:"action"`
	Error  ErrorBody `json:"error"`
}

// AskResponse is the plan and the actions submitted to carry it out.
type AskResponse struct {
	Plan     app.PlanResult     `json:"plan"`
	Actions  []*action.Envelope `json:"actions"`
	Rejected []Rejected         `json:"rejected,omitempty"`
}

// ApproveRequest approves exactly one request: the hash the person was
// shown. A changed request has another hash and the approval is refused.
type ApproveRequest struct {
	RequestHash string `json:"request_hash"`
}

// RefuseRequest refuses a pending action.
type RefuseRequest struct {
	Reason string `json:"reason,omitempty"`
}

// ActionResponse is one action's envelope.
type ActionResponse struct {
	Action *action.Envelope `json:"action"`
}

// ActionsResponse lists actions, newest first.
type ActionsResponse struct {
	Actions []*action.Envelope `json:"actions"`
}

// CatalogResponse is the action catalog.
type CatalogResponse struct {
	Actions []action.Manifest `json:"actions"`
}

// LogRecord is one evidence record as `noema log list --json` shows it.
type LogRecord struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	ActionID      string    `json:"action_id"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	Subject       string    `json:"subject,omitempty"`
	Time          time.Time `json:"time"`
	Seq           uint64    `json:"seq"`
}

// LogListResponse lists evidence records.
type LogListResponse struct {
	Records []LogRecord `json:"records"`
}

// LogShowResponse is one evidence record, with its inclusion proof
// against the signed checkpoint when asked for.
type LogShowResponse struct {
	Record    *evidence.Record         `json:"record"`
	Proof     *evidence.InclusionProof `json:"proof,omitempty"`
	PublicKey string                   `json:"public_key,omitempty"`
}

// FSSearchRequest is the target of fs.search.
type FSSearchRequest struct {
	Query string `json:"query"`
	Limit int    `json:"limit,omitempty"`
}

// FSHistoryRequest is the target of fs.history.
type FSHistoryRequest struct {
	Path string `json:"path"`
}

// FSRollbackRequest is the target of fs.rollback.
type FSRollbackRequest struct {
	Path  string `json:"path"`
	Steps int    `json:"steps"`
}

// PolicyTestRequest asks which policy would decide an action, and why.
type PolicyTestRequest struct {
	Action string          `json:"action"`
	Target json.RawMessage `json:"target,omitempty"`
	// AI asks as if a model proposed the action.
	AI bool `json:"ai,omitempty"`
	// Tainted asks as if untrusted text was in the model's context.
	Tainted bool   `json:"tainted,omitempty"`
	Cwd     string `json:"cwd,omitempty"`
}

// PolicyTestResponse is the decision and the request it was about.
type PolicyTestResponse struct {
	Decision policy.Decision `json:"decision"`
	Request  action.Request  `json:"request"`
	Preview  []action.Change `json:"preview,omitempty"`
}

// PolicyResponse shows the policies in force.
type PolicyResponse struct {
	Version   string        `json:"version"`
	Rules     []policy.Rule `json:"rules"`
	LoadError string        `json:"load_error,omitempty"`
}

// LoginLinkResponse is a one-time link that logs a browser in.
type LoginLinkResponse struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionResponse describes a browser session and the CSRF token its
// unsafe requests must carry in the X-CSRF-Token header.
type SessionResponse struct {
	Subject   identity.Subject `json:"subject"`
	CSRFToken string           `json:"csrf_token"`
	ExpiresAt time.Time        `json:"expires_at"`
}
