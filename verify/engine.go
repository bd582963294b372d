package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Observation is what a probe saw.
type Observation struct {
	Pass     bool
	Observed any
	Detail   string
}

// Prober checks one fact about the system.
type Prober interface {
	Probe(ctx context.Context, args json.RawMessage) (Observation, error)
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context, args json.RawMessage) (Observation, error)

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, args json.RawMessage) (Observation, error) {
	return f(ctx, args)
}

// Engine evaluates specs with a set of named probes.
type Engine struct {
	probes map[string]Prober
}

// NewEngine returns an engine with the built-in probes.
func NewEngine() *Engine {
	e := &Engine{probes: map[string]Prober{}}
	for name, p := range builtins() {
		e.probes[name] = p
	}
	return e
}

// Register adds a probe; adapters register probes for what they own.
func (e *Engine) Register(name string, p Prober) error {
	if _, dup := e.probes[name]; dup {
		return fmt.Errorf("verify: probe %q registered twice", name)
	}
	e.probes[name] = p
	return nil
}

// Has reports whether a probe exists.
func (e *Engine) Has(name string) bool { _, ok := e.probes[name]; return ok }

// Check validates a spec and that every probe it names exists. An empty
// spec is valid; it evaluates to SKIPPED, which is never success.
func (e *Engine) Check(s Spec) error {
	if s.IsZero() {
		return nil
	}
	if err := s.Validate(); err != nil {
		return err
	}
	var walk func(Spec) error
	walk = func(s Spec) error {
		if s.Probe != "" && !e.Has(s.Probe) {
			return fmt.Errorf("unknown verification probe %q", s.Probe)
		}
		for _, c := range append(append([]Spec{}, s.All...), s.Any...) {
			if err := walk(c); err != nil {
				return err
			}
		}
		if s.Not != nil {
			return walk(*s.Not)
		}
		if s.Eventually != nil {
			return walk(s.Eventually.Spec)
		}
		return nil
	}
	return walk(s)
}

// Run evaluates s. An empty spec is SKIPPED, which is not success.
func (e *Engine) Run(ctx context.Context, s Spec) Result {
	if s.IsZero() {
		return Result{Status: Skipped, Detail: "no verification given"}
	}
	if err := e.Check(s); err != nil {
		return Result{Status: Error, Detail: err.Error()}
	}
	return e.run(ctx, s)
}

func (e *Engine) run(ctx context.Context, s Spec) Result {
	start := time.Now()
	r := e.eval(ctx, s)
	r.Millis = float64(time.Since(start).Microseconds()) / 1000
	return r
}

func (e *Engine) eval(ctx context.Context, s Spec) Result {
	if err := ctx.Err(); err != nil {
		return Result{Status: TimedOut, Detail: err.Error()}
	}
	switch {
	case s.Probe != "":
		obs, err := e.probes[s.Probe].Probe(ctx, s.Args)
		r := Result{Probe: s.Probe, Detail: obs.Detail}
		if obs.Observed != nil {
			r.Observed, _ = json.Marshal(obs.Observed)
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			r.Status, r.Detail = TimedOut, err.Error()
		case err != nil:
			r.Status, r.Detail = Error, err.Error()
		case obs.Pass:
			r.Status = Passed
		default:
			r.Status = Failed
		}
		return r
	case s.All != nil:
		r := Result{Op: "all", Status: Passed}
		for _, c := range s.All {
			cr := e.run(ctx, c)
			r.Children = append(r.Children, cr)
			if !cr.Passed() && r.Status == Passed {
				r.Status = cr.Status
			}
		}
		return r
	case s.Any != nil:
		r := Result{Op: "any", Status: Failed}
		for _, c := range s.Any {
			cr := e.run(ctx, c)
			r.Children = append(r.Children, cr)
			if cr.Passed() {
				r.Status = Passed
			}
		}
		return r
	case s.Not != nil:
		cr := e.run(ctx, *s.Not)
		r := Result{Op: "not", Children: []Result{cr}}
		switch cr.Status {
		case Passed:
			r.Status = Failed
		case Failed:
			r.Status = Passed
		default:
			// An error or timeout proves nothing either way.
			r.Status = cr.Status
		}
		return r
	case s.Eventually != nil:
		ev := s.Eventually
		interval := time.Duration(ev.Interval)
		if interval <= 0 {
			interval = 100 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(ctx, time.Duration(ev.Timeout))
		defer cancel()
		r := Result{Op: "eventually"}
		for attempt := 1; ; attempt++ {
			cr := e.run(ctx, ev.Spec)
			if cr.Passed() {
				r.Status, r.Children = Passed, []Result{cr}
				r.Detail = fmt.Sprintf("passed on attempt %d", attempt)
				return r
			}
			select {
			case <-ctx.Done():
				r.Status, r.Children = TimedOut, []Result{cr}
				r.Detail = fmt.Sprintf("not passed within %v (%d attempts)", time.Duration(ev.Timeout), attempt)
				return r
			case <-time.After(interval):
			}
		}
	}
	return Result{Status: Error, Detail: "empty verification step"}
}
