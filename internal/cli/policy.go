package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/policy"
	"github.com/noema-project/noema/runtime"
	"github.com/spf13/cobra"
)

func policyCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "Show, check and test the policy kernel",
		Long: `Policies are Cedar files: Noema's shipped defaults plus your own *.cedar
files in $XDG_CONFIG_HOME/noema/policies (a policy with the @id of a shipped
one replaces it). A matching forbid denies; a matching permit annotated
@approval("required") needs your approval; otherwise a matching permit
allows; nothing matching denies. Built-in hard denies cannot be lifted.`,
	}
	c.AddCommand(policyShowCmd(g), policyCheckCmd(g), policyTestCmd(g))
	return c
}

func policyShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show",
		Short: "Show the policies in force",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			p, err := g.paths()
			if err != nil {
				return err
			}
			k, load := app.OpenPolicy(p, nil)
			set := k.Set()
			if asJSON {
				out := map[string]any{"version": set.Version, "rules": set.Rules, "dirs": p.PolicyDirs}
				if load.Err != nil {
					out["load_error"] = load.Err.Error()
				}
				return writeJSON(g.env.Stdout, out)
			}
			w := g.env.Stdout
			fmt.Fprintf(w, "policy version %s (files: %s)\n", set.Version, strings.Join(p.PolicyDirs, ", "))
			if load.Err != nil {
				fmt.Fprintf(w, "WARNING: %s — using the last good set\n", safe(load.Err.Error()))
			}
			for _, r := range set.Rules {
				kind := r.Effect
				if r.Approval {
					kind += " (approval)"
				}
				fmt.Fprintf(w, "\n%s  [%s]  %s:%d\n%s\n", r.ID, kind, r.Source, r.Line, strings.TrimSpace(r.Text))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func policyCheckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check [FILE…]",
		Short: "Check policy files (default: your policy folders); errors name file and line",
		RunE: func(c *cobra.Command, args []string) error {
			var srcs []policy.Source
			if len(args) > 0 {
				for _, f := range args {
					b, err := os.ReadFile(f)
					if err != nil {
						return err
					}
					srcs = append(srcs, policy.Source{Name: f, Text: string(b)})
				}
			} else {
				p, err := g.paths()
				if err != nil {
					return err
				}
				if srcs, err = policy.ReadDirs(p.PolicyDirs); err != nil {
					return err
				}
			}
			set, err := policy.Compile(srcs)
			if err != nil {
				var fe *policy.FileError
				if errors.As(err, &fe) {
					return &ExitError{Code: ExitFailure, Err: fe}
				}
				return err
			}
			fmt.Fprintf(g.env.Stdout, "✔ %d files, %d policies, version %s\n", len(srcs), len(set.Rules), set.Version)
			return nil
		},
	}
}

func policyTestCmd(g *globals) *cobra.Command {
	var asJSON, ai, tainted bool
	c := &cobra.Command{
		Use:   "test ACTION [key=value…]",
		Short: "Explain which policy would decide an action, and why",
		Example: `  noema policy test desktop.theme.set mode=dark
  noema policy test --ai fs.delete path=/home/me/old.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := g.paths()
			if err != nil {
				return err
			}
			rt, _, done, err := app.Planner(p, g.recovery)
			if err != nil {
				return err
			}
			defer done()
			entry, ok := rt.Catalog().Lookup(args[0])
			if !ok {
				return exitf(ExitUsage, "unknown action %q", args[0])
			}
			target, err := action.ParseArgs(entry.Manifest.Schema, args[1:])
			if err == nil {
				target, err = g.absolutize(target, entry.Manifest.PathFields)
			}
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			subj := identity.CurrentUser("cli")
			if ai {
				subj = identity.Agent("policy-test", "cli")
			}
			env, dec, err := rt.Assess(c.Context(), runtime.Submission{Subject: subj, Draft: action.Draft{Action: args[0], Target: target, Tainted: tainted}})
			if err != nil {
				return submitError(err)
			}
			if asJSON {
				return writeJSON(g.env.Stdout, map[string]any{"decision": dec, "request": env.Request, "preview": env.Execution.Preview})
			}
			w := g.env.Stdout
			fmt.Fprintf(w, "%s by %s → %s (%s)\n", env.Request.Action, subj.String(), dec.Effect, dec.ReasonCode)
			for _, r := range dec.Reasons {
				fmt.Fprintf(w, "  because %s\n", safe(r))
			}
			if len(dec.Policies) > 0 {
				fmt.Fprintf(w, "  deciding policies: %s\n", strings.Join(dec.Policies, ", "))
			}
			fmt.Fprintf(w, "  risk: %s   policy version %s\n", orDash(strings.Join(env.Request.Risk.Names(), ", ")), dec.Version)
			changeLines(w, env.Execution.Preview, "  ")
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&ai, "ai", false, "as if a model proposed it")
	c.Flags().BoolVar(&tainted, "tainted", false, "as if untrusted text was in the model's context")
	return c
}
