package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/noema-project/noema/cognition"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/translate"
	"github.com/spf13/cobra"
)

// planOut is `noema plan --json`: the contract shape the daemon answers
// too.
type planOut = app.PlanResult

type planFlags struct {
	asJSON  bool
	now     string
	preview bool
	with    []string
}

func (f *planFlags) add(c *cobra.Command) {
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&f.now, "now", "", "resolve relative times against this RFC 3339 instant")
	c.Flags().BoolVar(&f.preview, "preview", false, "read the system to show each change as old → new")
	c.Flags().StringArrayVar(&f.with, "with", nil, "give the model this file as context (untrusted data: it can inform the plan, never instruct it; actions planned with it are tainted)")
}

// context reads --with files as untrusted data.
func (f *planFlags) context() ([]cognition.Untrusted, error) {
	var out []cognition.Untrusted
	for _, path := range f.with {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		if len(data) > 64<<10 {
			data = data[:64<<10]
		}
		out = append(out, cognition.Untrusted{Source: filepath.Base(path), Text: string(data)})
	}
	return out, nil
}

func (f *planFlags) clock() (time.Time, error) {
	if f.now == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, f.now)
	if err != nil {
		return time.Time{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--now: %w", err)}
	}
	return t.In(time.Local), nil
}

func planCmd(g *globals) *cobra.Command {
	var f planFlags
	c := &cobra.Command{
		Use:   "plan [--json] [--now RFC3339] TEXT…",
		Short: "Translate words into typed actions and show the decisions; execute nothing",
		Example: `  noema plan "enable dark mode and set the volume to 30%"
  noema plan --json --now 2026-11-23T09:00:00Z "remind me tomorrow at nine to call Anna"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			now, err := f.clock()
			if err != nil {
				return err
			}
			p, err := g.paths()
			if err != nil {
				return err
			}
			rt, dm, done, err := app.Planner(p, g.recovery)
			if err != nil {
				return err
			}
			defer done()
			cfg, err := app.LoadConfig(p.ConfigFiles)
			if err != nil {
				return err
			}
			g.preview = f.preview
			with, err := f.context()
			if err != nil {
				return err
			}
			planner := app.NewPlanner(p, g.env.Getenv, cfg, rt.Catalog(), dm)
			defer planner.Close()
			out, _ := g.plan(c.Context(), rt, planner, strings.Join(args, " "), now, with)
			if f.asJSON {
				if err := writeJSON(g.env.Stdout, out); err != nil {
					return err
				}
			} else {
				printPlan(g, out)
			}
			if out.Status != translate.Ready {
				return silent(ExitCannotDo)
			}
			return nil
		},
	}
	f.add(c)
	return c
}

// plan plans text and asks the policy kernel about each step. It returns
// the output and the submissions that would carry the plan out.
func (g *globals) plan(ctx context.Context, rt *runtime.Runtime, planner *cognition.Planner, text string, now time.Time, with []cognition.Untrusted) (planOut, []runtime.Submission) {
	return app.Plan(ctx, rt, planner, app.PlanInput{Text: text, Now: now, Cwd: g.env.Cwd, Home: g.userHome(), Preview: g.preview, Context: with, Human: identity.CurrentUser("cli")})
}

func printPlan(g *globals, out planOut) {
	w := g.env.Stdout
	fmt.Fprintf(w, "%s (%s)\n", out.Status, out.Tier)
	for i, a := range out.Actions {
		fmt.Fprintf(w, "%d. %s %s  → %s (%s)\n", i+1, a.Action, a.Target, a.Decision, a.ReasonCode)
		changeLines(w, a.Preview, "     ")
		if names := a.Risk.Names(); len(names) > 0 {
			fmt.Fprintf(w, "     risk: %s\n", strings.Join(names, ", "))
		}
		for _, n := range a.Notes {
			fmt.Fprintf(w, "     note: %s\n", safe(n))
		}
		if a.Irreversible != "" && len(a.Preview) == 0 {
			fmt.Fprintf(w, "     cannot be undone: %s\n", safe(a.Irreversible))
		}
	}
	for _, q := range out.Questions {
		fmt.Fprintf(w, "? %s\n", safe(q))
	}
	for _, r := range out.Refused {
		fmt.Fprintf(w, "✘ refused model call %s: %s\n", safe(r.Tool), safe(r.Reason))
	}
	if out.Refusal != "" {
		fmt.Fprintf(w, "✘ %s: %s\n", out.Refusal, safe(out.Message))
	} else if out.Message != "" {
		fmt.Fprintf(w, "  %s\n", safe(out.Message))
	}
}
