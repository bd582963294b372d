package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/cognition"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/translate"
)

// PlannedAction is one step of a plan with the policy kernel's decision.
type PlannedAction struct {
	Action     string          `json:"action"`
	Target     json.RawMessage `json:"target"`
	Risk       action.Risk     `json:"risk"`
	Decision   string          `json:"decision"`
	ReasonCode string          `json:"reason_code"`
	Reasons    []string        `json:"reasons,omitempty"`
	Confidence float64         `json:"confidence"`
	Preview    []action.Change `json:"preview,omitempty"`
	Subject    string          `json:"subject"`
	// Notes say what stands in the way of running it now (a file with no
	// history to roll back).
	Notes []string `json:"notes,omitempty"`
	// Irreversible says, for an action that changes something and cannot
	// be undone, why ("the machine powers off; nothing to restore").
	Irreversible string `json:"irreversible,omitempty"`
}

// PlanResult is a plan as `noema plan --json` prints it and the daemon
// answers it: the contract shape of DESIGN.md section 4.
type PlanResult struct {
	Status    translate.Status    `json:"status"`
	Tier      string              `json:"tier"`
	Actions   []PlannedAction     `json:"actions"`
	Questions []string            `json:"questions"`
	Refusal   string              `json:"refusal"`
	Message   string              `json:"message,omitempty"`
	Refused   []cognition.Refused `json:"refused,omitempty"`
	Model     string              `json:"model,omitempty"`
}

// PlanInput is what to plan and for whom.
type PlanInput struct {
	Text string
	// Now is the instant relative times are resolved against.
	Now time.Time
	// Cwd resolves relative paths in targets, and Home "~".
	Cwd, Home string
	// Preview reads the system to show each change as old → new.
	Preview bool
	// Context is untrusted text the plan may be informed by, never
	// instructed by; steps planned with it are tainted.
	Context []cognition.Untrusted
	// Human is the person asking; steps a model proposed get an AI
	// subject that came through the same door (Human.Via).
	Human identity.Subject
}

// Plan plans text and asks the policy kernel about each step, executing
// nothing. It returns the plan and the submissions that would carry it
// out. The CLI and the daemon share it, so both answer the same plan.
func Plan(ctx context.Context, rt *runtime.Runtime, planner *cognition.Planner, in PlanInput) (PlanResult, []runtime.Submission) {
	pl := planner.Plan(ctx, cognition.Input{Text: in.Text, Now: in.Now, Cwd: in.Cwd, Context: in.Context})
	out := PlanResult{Status: pl.Status, Tier: pl.Tier, Actions: []PlannedAction{}, Questions: pl.Questions, Refusal: pl.Refusal, Message: pl.Message, Refused: pl.Refused, Model: pl.Model}
	if out.Questions == nil {
		out.Questions = []string{}
	}
	var subs []runtime.Submission
	for _, st := range pl.Steps {
		subj := in.Human
		if st.ByModel {
			subj = identity.Agent(pl.Model, in.Human.Via)
		}
		var fields []string
		if e, ok := rt.Catalog().Lookup(st.Action); ok {
			fields = e.Manifest.PathFields
		}
		target, _ := Absolutize(st.Target, fields, in.Cwd, in.Home)
		sub := runtime.Submission{Subject: subj, Draft: action.Draft{Action: st.Action, Target: target, Tainted: st.Tainted, Reason: in.Text}, NoPreview: !in.Preview}
		env, dec, err := rt.Assess(ctx, sub)
		if err != nil {
			out.Status = translate.Clarify
			out.Questions = append(out.Questions, fmt.Sprintf("%s: %v", st.Action, err))
			continue
		}
		sub.NoPreview = false
		subs = append(subs, sub)
		out.Actions = append(out.Actions, PlannedAction{
			Action: st.Action, Target: env.Request.Target, Risk: env.Request.Risk, Decision: string(dec.Effect),
			ReasonCode: dec.ReasonCode, Reasons: dec.Reasons, Confidence: st.Confidence, Preview: env.Execution.Preview,
			Subject: subj.String(), Notes: env.Execution.Conditions, Irreversible: irreversible(rt, st.Action),
		})
	}
	if out.Status == translate.Clarify && len(out.Actions) > 0 {
		out.Status = translate.Partial
	}
	return out, subs
}

// Absolutize resolves relative path fields of a target against cwd, so
// that an action means the same file wherever it is later run or shown.
//
// "~" and "~/…" are the user's home (when home is known), as a shell
// would read them: "delete ~/notes.txt" never means a folder named "~".
func Absolutize(target json.RawMessage, fields []string, cwd, home string) (json.RawMessage, error) {
	if len(fields) == 0 {
		return target, nil
	}
	var m map[string]any
	if err := json.Unmarshal(target, &m); err != nil {
		return nil, err
	}
	for _, f := range fields {
		if s, ok := m[f].(string); ok && s != "" && !filepath.IsAbs(s) && f != "argv" {
			switch {
			case home != "" && s == "~":
				m[f] = home
			case home != "" && strings.HasPrefix(s, "~/"):
				m[f] = filepath.Join(home, s[2:])
			case strings.HasPrefix(s, "~"):
				// Someone else's home ("~ann/x") or no home known: left
				// for the adapter to refuse as not absolute.
			default:
				m[f] = filepath.Join(cwd, s)
			}
		}
	}
	return json.Marshal(m)
}

// irreversible explains why an action that changes something cannot be
// undone, or is "" when it can be (or changes nothing).
func irreversible(rt *runtime.Runtime, name string) string {
	e, ok := rt.Catalog().Lookup(name)
	if !ok || e.Manifest.ReadOnly || e.Manifest.Rollback != action.RollbackNone {
		return ""
	}
	if e.Manifest.RollbackNote != "" {
		return e.Manifest.RollbackNote
	}
	return "cannot be undone"
}
