// Package adapter is the contract between the runtime and the code that
// touches the real system. An adapter declares the actions it owns with
// manifests, shows what an action would change, carries it out from a
// typed request (never a shell string), and says how to verify it. Only the
// runtime calls adapters, and only for approved actions.
package adapter

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/verify"
)

// Outcome is what an execution did.
type Outcome struct {
	// Result is shown to the person and recorded (redacted) as evidence.
	Result any
	// PreState is what an undo restores; nil when there is nothing to undo.
	PreState any
	// Verification adds checks learned while executing (such as where a
	// deleted file went) to the request's own.
	Verification verify.Spec
}

// Handler carries out one action type.
type Handler interface {
	Manifest() action.Manifest
	// Preview reads the system and says what the request would change,
	// old → new, without changing anything.
	Preview(ctx context.Context, req *action.Request) ([]action.Change, error)
	// Verification is the default proof for req (including undo requests).
	Verification(req *action.Request) (verify.Spec, error)
	// Execute performs req. For req.Undo it restores req.Undo.PreState.
	Execute(ctx context.Context, req *action.Request) (Outcome, error)
}

// RiskAssessor refines an action's risk from its target (a path outside
// the home folder, an undo that only restores).
type RiskAssessor interface {
	Risk(req *action.Request) action.Risk
}

// Module is a group of handlers with the probes that verify them.
type Module interface {
	Handlers() []Handler
	Probes() map[string]verify.Prober
}

// Registry holds every installed handler and feeds the catalog.
type Registry struct {
	catalog  *action.Catalog
	verifier *verify.Engine
	handlers map[string]Handler
}

// NewRegistry returns a registry that registers manifests in catalog and
// probes in verifier.
func NewRegistry(catalog *action.Catalog, verifier *verify.Engine) *Registry {
	return &Registry{catalog: catalog, verifier: verifier, handlers: map[string]Handler{}}
}

// Install adds a module's handlers and probes.
func (r *Registry) Install(m Module) error {
	names := make([]string, 0, len(m.Probes()))
	for n := range m.Probes() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := r.verifier.Register(n, m.Probes()[n]); err != nil {
			return err
		}
	}
	for _, h := range m.Handlers() {
		if err := r.Add(h); err != nil {
			return err
		}
	}
	return nil
}

// Add registers one handler.
func (r *Registry) Add(h Handler) error {
	m := h.Manifest()
	if err := r.catalog.Register(m); err != nil {
		return err
	}
	r.handlers[m.Name] = h
	return nil
}

// Handler returns the handler for an action.
func (r *Registry) Handler(name string) (Handler, bool) {
	h, ok := r.handlers[name]
	return h, ok
}

// Catalog returns the catalog the registry feeds.
func (r *Registry) Catalog() *action.Catalog { return r.catalog }

// Verifier returns the verification engine.
func (r *Registry) Verifier() *verify.Engine { return r.verifier }

// DecodeTarget unmarshals a request's target into v.
func DecodeTarget(req *action.Request, v any) error {
	if err := json.Unmarshal(req.Target, v); err != nil {
		return fmt.Errorf("%s: target: %w", req.Action, err)
	}
	return nil
}

// DecodePreState unmarshals an undo request's pre-state into v.
func DecodePreState(req *action.Request, v any) error {
	if req.Undo == nil || len(req.Undo.PreState) == 0 {
		return fmt.Errorf("%s: undo without a recorded pre-state", req.Action)
	}
	if err := json.Unmarshal(req.Undo.PreState, v); err != nil {
		return fmt.Errorf("%s: recorded pre-state: %w", req.Action, err)
	}
	return nil
}

// Schema is a helper for manifests: a JSON object schema from properties.
func Schema(required []string, props map[string]any, extra ...map[string]any) json.RawMessage {
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	for _, e := range extra {
		for k, v := range e {
			s[k] = v
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}
