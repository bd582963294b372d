// Package verify proves an action's effect by reading the system back.
// A verification is a tree of probes combined with all, any, not and
// eventually; only a tree that evaluates to PASSED lets an action succeed.
// Skipped, timed-out or erroring verification is never success.
package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Spec describes one check. Exactly one of Probe, All, Any, Not or
// Eventually is set.
type Spec struct {
	Probe      string          `json:"probe,omitempty"`
	Args       json.RawMessage `json:"args,omitempty"`
	All        []Spec          `json:"all,omitempty"`
	Any        []Spec          `json:"any,omitempty"`
	Not        *Spec           `json:"not,omitempty"`
	Eventually *Eventually     `json:"eventually,omitempty"`
}

// Eventually retries a check until it passes or the timeout ends.
type Eventually struct {
	Spec     Spec     `json:"spec"`
	Timeout  Duration `json:"timeout"`
	Interval Duration `json:"interval,omitempty"`
}

// Duration is a time.Duration written as "1.5s" in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Probe builds a leaf spec.
func Probe(name string, args any) Spec {
	raw, err := json.Marshal(args)
	if err != nil {
		panic(fmt.Sprintf("verify: probe %s args: %v", name, err))
	}
	return Spec{Probe: name, Args: raw}
}

// AllOf combines specs that must all pass; a single spec is returned as is.
func AllOf(specs ...Spec) Spec {
	var keep []Spec
	for _, s := range specs {
		if !s.IsZero() {
			keep = append(keep, s)
		}
	}
	if len(keep) == 1 {
		return keep[0]
	}
	return Spec{All: keep}
}

// IsZero reports an empty spec.
func (s Spec) IsZero() bool {
	return s.Probe == "" && s.All == nil && s.Any == nil && s.Not == nil && s.Eventually == nil
}

const maxSpecDepth = 16

// Validate checks the shape of a spec (it does not run it).
func (s Spec) Validate() error { return s.validate(0) }

func (s Spec) validate(depth int) error {
	if depth > maxSpecDepth {
		return errors.New("verification nested too deeply")
	}
	n := 0
	if s.Probe != "" {
		n++
	}
	if s.All != nil {
		n++
	}
	if s.Any != nil {
		n++
	}
	if s.Not != nil {
		n++
	}
	if s.Eventually != nil {
		n++
	}
	if n != 1 {
		return errors.New("a verification step needs exactly one of probe, all, any, not, eventually")
	}
	for _, c := range append(append([]Spec{}, s.All...), s.Any...) {
		if err := c.validate(depth + 1); err != nil {
			return err
		}
	}
	if s.Not != nil {
		return s.Not.validate(depth + 1)
	}
	if s.Eventually != nil {
		if s.Eventually.Timeout <= 0 || time.Duration(s.Eventually.Timeout) > 10*time.Minute {
			return errors.New("eventually needs a timeout between 0 and 10m")
		}
		return s.Eventually.Spec.validate(depth + 1)
	}
	return nil
}

// Status is a verification outcome.
type Status string

const (
	Passed   Status = "PASSED"
	Failed   Status = "FAILED"
	Skipped  Status = "SKIPPED"
	TimedOut Status = "TIMED_OUT"
	Error    Status = "ERROR"
)

// Result is what a spec evaluated to, with its children.
type Result struct {
	Status   Status          `json:"status"`
	Probe    string          `json:"probe,omitempty"`
	Op       string          `json:"op,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	Observed json.RawMessage `json:"observed,omitempty"`
	Children []Result        `json:"children,omitempty"`
	Millis   float64         `json:"ms"`
}

// Passed reports whether the result proves the effect.
func (r Result) Passed() bool { return r.Status == Passed }
