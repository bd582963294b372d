package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/noema-project/noema/action"
)

// safe makes text from adapters, files or models safe to print on one
// terminal line: control characters (escape sequences included) and line
// breaks are shown escaped, never interpreted.
func safe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(" ")
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.Is(unicode.Bidi_Control, r) || r == 0x200b || r == 0xfeff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stateMark is the glyph for a state.
func stateMark(s action.State) string {
	switch s {
	case action.Succeeded:
		return "✔"
	case action.Failed, action.RollbackFailed, action.PolicyDenied:
		return "✘"
	case action.RolledBack:
		return "↺"
	case action.ApprovalPending:
		return "?"
	}
	return "•"
}

// actionLine is the one line every action gets: state, id, name, subject
// kind (with a distinct AI marker), decision and evidence id.
func actionLine(env *action.Envelope) string {
	ev := "-"
	if n := len(env.Execution.Evidence); n > 0 {
		ev = env.Execution.Evidence[n-1]
	}
	subj := "human"
	if env.Request.Subject.IsAI {
		subj = "🤖 AI"
	}
	return fmt.Sprintf("%s %-16s %s  %s  [%s]  decision %s  evidence %s",
		stateMark(env.Execution.State), env.Execution.State, env.Identity.ActionID, safe(env.Request.Action),
		subj, orDash(env.Execution.Decision), ev)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// changeLines renders the typed effect, old → new.
func changeLines(w io.Writer, changes []action.Change, indent string) {
	for _, c := range changes {
		switch {
		case c.Old != "" && c.New != "":
			fmt.Fprintf(w, "%s%s: %s → %s", indent, safe(c.Subject), safe(c.Old), safe(c.New))
		case c.New != "":
			fmt.Fprintf(w, "%s%s: %s", indent, safe(c.Subject), safe(c.New))
		default:
			fmt.Fprintf(w, "%s%s", indent, safe(c.Subject))
		}
		if c.Note != "" {
			fmt.Fprintf(w, "  (%s)", safe(c.Note))
		}
		fmt.Fprintln(w)
	}
}

// actionJSON is the contract shape of one action in --json output.
type actionJSON struct {
	ActionID   string            `json:"action_id"`
	Action     string            `json:"action"`
	State      action.State      `json:"state"`
	Decision   string            `json:"decision"`
	ReasonCode string            `json:"reason_code,omitempty"`
	Subject    any               `json:"subject"`
	Evidence   []string          `json:"evidence"`
	Result     json.RawMessage   `json:"result,omitempty"`
	Preview    []action.Change   `json:"preview,omitempty"`
	Error      *action.ErrorInfo `json:"error,omitempty"`
	Verified   string            `json:"verification,omitempty"`
	Parent     string            `json:"parent_action_id,omitempty"`
	Hash       string            `json:"request_hash"`
}

func toJSON(env *action.Envelope) actionJSON {
	j := actionJSON{
		ActionID: env.Identity.ActionID, Action: env.Request.Action, State: env.Execution.State,
		Decision: env.Execution.Decision, ReasonCode: env.Execution.ReasonCode, Subject: env.Request.Subject,
		Evidence: env.Execution.Evidence, Result: env.Execution.Result, Preview: env.Execution.Preview,
		Error: env.Execution.Error, Parent: env.Identity.ParentActionID, Hash: env.RequestHash,
	}
	if j.Evidence == nil {
		j.Evidence = []string{}
	}
	if v := env.Execution.Verification; v != nil {
		j.Verified = string(v.Status)
	}
	return j
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
