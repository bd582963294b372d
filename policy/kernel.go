// Package policy is Noema's policy kernel. It decides ALLOW,
// REQUIRE_APPROVAL or DENY for each request: first the built-in hard denies
// that nothing can lift, then Cedar policies (github.com/cedar-policy/cedar-go)
// with default deny, then the AI rule that sends every risky AI-proposed
// action to a human.
package policy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cedar-policy/cedar-go"
	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/ids"
)

// Effect is a decision.
type Effect string

const (
	Allow           Effect = "ALLOW"
	RequireApproval Effect = "REQUIRE_APPROVAL"
	Deny            Effect = "DENY"
)

// Reason codes.
const (
	CodePermitted      = "permitted"
	CodeApprovalPolicy = "approval_required_by_policy"
	CodeAIRisk         = "ai_subject_risky_action"
	CodeNoPolicy       = "no_matching_policy"
	CodeForbidden      = "forbidden_by_policy"
	CodePolicyError    = "policy_error"
	CodeHardDeny       = "hard_deny"
	CodeRecoveryMode   = "recovery_mode"
	CodeUnknownAction  = "unknown_action"
	CodeMissingData    = "missing_data"
)

// Decision is the kernel's answer with the reasons a person can read.
type Decision struct {
	ID         string    `json:"id"`
	Effect     Effect    `json:"decision"`
	ReasonCode string    `json:"reason_code"`
	Reasons    []string  `json:"reasons"`
	Policies   []string  `json:"policies,omitempty"`
	Version    string    `json:"policy_version"`
	AIUpgraded bool      `json:"ai_upgraded,omitempty"`
	HardDeny   bool      `json:"hard_deny,omitempty"`
	At         time.Time `json:"at"`
}

// Input is what a decision is about.
type Input struct {
	Request  *action.Request
	Manifest *action.Manifest
	// Recovery is set when Noema runs in recovery mode.
	Recovery bool
}

// Kernel decides. It is safe for concurrent use; Replace swaps the policy
// set atomically.
type Kernel struct {
	mu        sync.RWMutex
	set       *Set
	protected Protected
	now       func() time.Time
}

// New returns a kernel over set with the given protected paths.
func New(set *Set, protected Protected, now func() time.Time) *Kernel {
	if now == nil {
		now = time.Now
	}
	return &Kernel{set: set, protected: protected.clean(), now: now}
}

// Set returns the current policy set.
func (k *Kernel) Set() *Set {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.set
}

// Replace installs a new policy set.
func (k *Kernel) Replace(s *Set) {
	k.mu.Lock()
	k.set = s
	k.mu.Unlock()
}

// Version is the current policy version.
func (k *Kernel) Version() string { return k.Set().Version }

// Decide evaluates in. It never panics and never returns ALLOW on error.
func (k *Kernel) Decide(in Input) (d Decision) {
	set := k.Set()
	now := k.now()
	d = Decision{ID: ids.New(ids.Decision, now), Version: set.Version, At: now.UTC()}
	defer func() {
		if r := recover(); r != nil {
			d.Effect, d.ReasonCode = Deny, CodePolicyError
			d.Reasons = append(d.Reasons, fmt.Sprintf("policy evaluation failed: %v", r))
		}
	}()
	if in.Request == nil || in.Manifest == nil {
		d.Effect, d.ReasonCode = Deny, CodeMissingData
		d.Reasons = []string{"no request or no manifest to decide on"}
		return d
	}
	req := in.Request
	if reason, denied := k.protected.hardDeny(req, in.Manifest); denied {
		d.Effect, d.ReasonCode, d.HardDeny = Deny, CodeHardDeny, true
		d.Reasons = []string{reason + " (a built-in rule no policy, approval or --yes can lift)"}
		return d
	}
	if in.Recovery && req.Subject.IsAI {
		d.Effect, d.ReasonCode = Deny, CodeRecoveryMode
		d.Reasons = []string{"recovery mode: model-proposed actions are off"}
		return d
	}
	creq, entities, err := cedarRequest(in)
	if err != nil {
		d.Effect, d.ReasonCode = Deny, CodeMissingData
		d.Reasons = []string{err.Error()}
		return d
	}
	dec, diag := cedar.Authorize(set.ps, entities, creq)
	if len(diag.Errors) > 0 {
		d.Effect, d.ReasonCode = Deny, CodePolicyError
		for _, e := range diag.Errors {
			d.Reasons = append(d.Reasons, fmt.Sprintf("policy %s: %s", e.PolicyID, e.Message))
		}
		return d
	}
	for _, r := range diag.Reasons {
		d.Policies = append(d.Policies, string(r.PolicyID))
	}
	sort.Strings(d.Policies)
	switch {
	case dec == cedar.Deny && len(diag.Reasons) > 0:
		d.Effect, d.ReasonCode = Deny, CodeForbidden
		d.Reasons = []string{"forbidden by " + strings.Join(d.Policies, ", ")}
		return d
	case dec == cedar.Deny:
		d.Effect, d.ReasonCode = Deny, CodeNoPolicy
		d.Reasons = []string{"no policy permits " + req.Action + " (default deny)"}
		return d
	}
	d.Effect, d.ReasonCode = Allow, CodePermitted
	var approvers []string
	for _, id := range d.Policies {
		if r := set.byID[cedar.PolicyID(id)]; r != nil && r.Approval {
			approvers = append(approvers, id)
		}
	}
	if len(approvers) > 0 {
		d.Effect, d.ReasonCode = RequireApproval, CodeApprovalPolicy
		d.Reasons = []string{"approval required by " + strings.Join(approvers, ", ")}
	} else {
		d.Reasons = []string{"permitted by " + strings.Join(d.Policies, ", ")}
	}
	if req.Subject.IsAI && req.Risk.Any() && d.Effect == Allow {
		d.Effect, d.ReasonCode, d.AIUpgraded = RequireApproval, CodeAIRisk, true
		d.Reasons = append(d.Reasons, fmt.Sprintf("proposed by an AI with risk %s: a human must approve", strings.Join(req.Risk.Names(), ", ")))
	}
	return d
}

// cedarRequest maps a request to Cedar entities:
// principal Noema::Human::"uid:1000" or Noema::Agent::"agent:model",
// action Noema::Action::"desktop.theme.set" in Noema::Action::"domain:desktop",
// resource Noema::Target::"desktop.theme.set" whose attributes are the
// target's scalar fields, and a context with the risk flags.
func cedarRequest(in Input) (cedar.Request, cedar.EntityMap, error) {
	req, m := in.Request, in.Manifest
	ptype := cedar.EntityType("Noema::Human")
	if req.Subject.IsAI {
		ptype = "Noema::Agent"
	}
	if req.Subject.ID == "" {
		return cedar.Request{}, nil, fmt.Errorf("request has no subject")
	}
	principal := cedar.NewEntityUID(ptype, cedar.String(req.Subject.ID))
	group := cedar.NewEntityUID("Noema::Action", cedar.String("domain:"+m.Domain()))
	act := cedar.NewEntityUID("Noema::Action", cedar.String(req.Action))
	resource := cedar.NewEntityUID("Noema::Target", cedar.String(req.Action))

	attrs := cedar.RecordMap{}
	var target map[string]any
	if len(req.Target) > 0 {
		if err := json.Unmarshal(req.Target, &target); err != nil {
			return cedar.Request{}, nil, fmt.Errorf("target is not an object: %w", err)
		}
	}
	for k, v := range target {
		if cv, ok := cedarValue(v, 0); ok {
			attrs[cedar.String(k)] = cv
		}
	}
	risk := cedar.NewRecord(cedar.RecordMap{
		"destructive":            cedar.Boolean(req.Risk.Destructive),
		"privileged":             cedar.Boolean(req.Risk.Privileged),
		"network_exposure":       cedar.Boolean(req.Risk.NetworkExposure),
		"secret_access":          cedar.Boolean(req.Risk.SecretAccess),
		"recovery_path_affected": cedar.Boolean(req.Risk.RecoveryPathAffected),
		"tainted":                cedar.Boolean(req.Risk.Tainted),
	})
	ctx := cedar.NewRecord(cedar.RecordMap{
		"risk":          risk,
		"is_ai":         cedar.Boolean(req.Subject.IsAI),
		"tainted":       cedar.Boolean(req.Risk.Tainted),
		"recovery_mode": cedar.Boolean(in.Recovery),
		"reversible":    cedar.Boolean(m.Reversible()),
		"read_only":     cedar.Boolean(m.ReadOnly),
		"undo":          cedar.Boolean(req.Undo != nil),
		"domain":        cedar.String(m.Domain()),
		"action":        cedar.String(req.Action),
		"via":           cedar.String(req.Subject.Via),
	})
	entities := cedar.EntityMap{
		principal: {UID: principal, Attributes: cedar.NewRecord(cedar.RecordMap{"name": cedar.String(req.Subject.Name)})},
		act:       {UID: act, Parents: cedar.NewEntityUIDSet(group)},
		group:     {UID: group},
		resource:  {UID: resource, Attributes: cedar.NewRecord(attrs)},
	}
	return cedar.Request{Principal: principal, Action: act, Resource: resource, Context: ctx}, entities, nil
}

func cedarValue(v any, depth int) (cedar.Value, bool) {
	if depth > 8 {
		return nil, false
	}
	switch t := v.(type) {
	case string:
		return cedar.String(t), true
	case bool:
		return cedar.Boolean(t), true
	case float64:
		if t == float64(int64(t)) {
			return cedar.Long(int64(t)), true
		}
		return nil, false
	case []any:
		var vals []cedar.Value
		for _, e := range t {
			if cv, ok := cedarValue(e, depth+1); ok {
				vals = append(vals, cv)
			}
		}
		return cedar.NewSet(vals...), true
	case map[string]any:
		rm := cedar.RecordMap{}
		for k, e := range t {
			if cv, ok := cedarValue(e, depth+1); ok {
				rm[cedar.String(k)] = cv
			}
		}
		return cedar.NewRecord(rm), true
	}
	return nil, false
}
