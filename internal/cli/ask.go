package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/server/api"
	"github.com/noema-project/noema/server/client"
	"github.com/noema-project/noema/translate"
	"github.com/spf13/cobra"
)

func askCmd(g *globals) *cobra.Command {
	var f planFlags
	var yes, dry bool
	c := &cobra.Command{
		Use:   "ask [--yes] [--dry-run] [--json] [--now RFC3339] TEXT…",
		Short: "Do what the words ask: plan, ask for approval where needed, execute, verify",
		Long: `Translate the request into typed actions, show each as its effect (old → new),
ask for your approval where policy says so (the default answer is No), run the
approved actions, verify each effect by reading the system back, and print the
outcome with action and evidence ids. Works offline; a local model
(NOEMA_LLM_URL, NOEMA_LLM_MODEL) is used only for what the offline translator
cannot read, and its proposals count as an AI's.`,
		Example: `  noema ask "enable dark mode and turn the volume down a bit"
  noema ask --dry-run "delete old.log"
  noema ask --now 2026-11-23T09:00:00Z "remind me tomorrow at nine to call Anna"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			now, err := f.clock()
			if err != nil {
				return err
			}
			text := strings.Join(args, " ")
			dc, _, err := g.daemon(ctx)
			if err != nil {
				return err
			}
			if dc != nil {
				defer dc.Close()
				return g.askRemote(ctx, dc, text, f, yes, dry)
			}
			a, err := g.openLocal(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			planner := app.NewPlanner(a.Paths, g.env.Getenv, a.Config, a.Registry.Catalog(), a.Desktop())
			defer planner.Close()
			g.preview = true
			with, err := f.context()
			if err != nil {
				return err
			}
			out, subs := g.plan(ctx, a.Runtime, planner, text, now, with)
			// Every model proposal that was refused is evidence.
			for _, r := range out.Refused {
				a.Runtime.Reject(ctx, runtime.Submission{Subject: identity.Agent(out.Model, "cli"), Draft: action.Draft{Action: r.Action, Reason: text}},
					"model_call_refused", errors.New(r.Tool+": "+r.Reason))
			}
			if dry || (out.Status != translate.Ready && out.Status != translate.Partial) {
				return g.askPlanOnly(out, f)
			}
			g.askQuestions(out, f)
			var envs []*action.Envelope
			for _, sub := range subs {
				env, err := a.Runtime.Submit(ctx, sub)
				if err != nil {
					fmt.Fprintf(g.env.Stderr, "noema: %s refused: %s\n", sub.Draft.Action, safe(err.Error()))
					continue
				}
				envs = append(envs, env)
			}
			return g.askFinish(ctx, &localPipe{a: a, human: identity.CurrentUser("cli")}, out, envs, f, yes)
		},
	}
	f.add(c)
	c.Flags().BoolVarP(&yes, "yes", "y", false, "approve what may be approved without asking (never lifts a denial)")
	c.Flags().BoolVar(&dry, "dry-run", false, "plan and decide, show the effects, execute nothing")
	return c
}

// askPlanOnly prints a plan that will not be carried out (a dry run, or
// words that could not be read) with the contract's exit code.
func (g *globals) askPlanOnly(out planOut, f planFlags) error {
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
}

func (g *globals) askQuestions(out planOut, f planFlags) {
	if !f.asJSON {
		for _, q := range out.Questions {
			fmt.Fprintf(g.env.Stderr, "? %s\n", safe(q))
		}
	}
}

// askFinish approves, runs and prints the submitted actions of a plan.
func (g *globals) askFinish(ctx context.Context, p pipe, out planOut, envs []*action.Envelope, f planFlags, yes bool) error {
	err := g.finish(ctx, p, envs, runFlags{yes: yes, asJSON: f.asJSON})
	if err == nil && out.Status == translate.Partial {
		return silent(ExitCannotDo)
	}
	return err
}

// askRemote is ask through the daemon: it plans, records refused model
// proposals and submits; approval prompts and runs stay here.
func (g *globals) askRemote(ctx context.Context, dc *client.Client, text string, f planFlags, yes, dry bool) error {
	req := api.AskRequest{PlanRequest: api.PlanRequest{Text: text, Now: f.now, Cwd: g.env.Cwd}, DryRun: dry}
	with, err := f.context()
	if err != nil {
		return err
	}
	for _, u := range with {
		req.Context = append(req.Context, api.Untrusted{Source: u.Source, Text: u.Text})
	}
	resp, err := dc.Ask(ctx, req, false)
	if err != nil {
		return err
	}
	out := resp.Plan
	if dry || (out.Status != translate.Ready && out.Status != translate.Partial) {
		return g.askPlanOnly(out, f)
	}
	g.askQuestions(out, f)
	for _, r := range resp.Rejected {
		fmt.Fprintf(g.env.Stderr, "noema: %s refused: %s\n", r.Action, safe(r.Error.Message))
	}
	return g.askFinish(ctx, remotePipe{dc}, out, resp.Actions, f, yes)
}
