// Package identity says who asked for an action. A human subject is the OS
// user behind the process or socket; an AI subject is created only by the
// submission path for model-proposed plans. Neither is ever read from a
// request body, so text cannot claim to be a human.
package identity

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// Kind is what sort of subject acted.
type Kind string

const (
	Human Kind = "human"
	AI    Kind = "ai"
)

// Subject is the principal of a request.
type Subject struct {
	Kind Kind   `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	IsAI bool   `json:"is_ai"`
	// Via says which door the request came through: cli, api, dbus, …
	Via string `json:"via,omitempty"`
}

// String renders the subject for terminals and logs, with a distinct
// marker for AI subjects.
func (s Subject) String() string {
	if s.IsAI {
		return "🤖 ai:" + s.Name
	}
	return "human:" + s.Name
}

// IsHuman reports whether s may approve actions.
func (s Subject) IsHuman() bool { return s.Kind == Human && !s.IsAI && s.ID != "" }

// FromUID is the human subject for an OS user id, as learned from the
// process or from socket peer credentials.
func FromUID(uid int, via string) Subject {
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return Subject{Kind: Human, ID: fmt.Sprintf("uid:%d", uid), Name: name, Via: via}
}

// CurrentUser is the human running this process.
func CurrentUser(via string) Subject { return FromUID(os.Getuid(), via) }

// Agent is the subject for actions a model proposed. Only the cognition
// submission path calls it; the policy kernel treats every risk flag on such
// an action as needing a human's approval.
func Agent(model, via string) Subject {
	if model == "" {
		model = "unknown-model"
	}
	return Subject{Kind: AI, ID: "agent:" + model, Name: model, IsAI: true, Via: via}
}
