package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/server/api"
	"github.com/noema-project/noema/server/client"
	"github.com/noema-project/noema/state"
	"github.com/noema-project/noema/verify"
	"github.com/spf13/cobra"
)

type runFlags struct {
	yes    bool
	asJSON bool
}

func (f *runFlags) add(c *cobra.Command) {
	c.Flags().BoolVarP(&f.yes, "yes", "y", false, "approve what may be approved without asking (never lifts a denial)")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
}

func doCmd(g *globals) *cobra.Command {
	var f runFlags
	var idem, reason string
	var dry bool
	c := &cobra.Command{
		Use:   "do ACTION [key=value…]",
		Short: "Submit one typed action as yourself",
		Long: `Submit one typed action from the catalog (see "noema actions") with its
target given as key=value pairs (key:=JSON for raw JSON; repeat a key for
arrays, as in argv=ls argv=-l). Relative paths are taken from the current
folder. The policy kernel decides; you are asked before anything that needs
approval; the effect is verified and recorded.`,
		Example: `  noema do desktop.theme.set mode=dark
  noema do fs.write path=notes.txt content='hello'
  noema do shell.run argv=ls argv=-l --yes`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			p, err := g.pipe(ctx)
			if err != nil {
				return err
			}
			defer p.close()
			m, ok, err := p.manifest(ctx, args[0])
			if err != nil {
				return err
			}
			if !ok {
				return exitf(ExitUsage, "unknown action %q (see `noema actions`)", args[0])
			}
			target, err := action.ParseArgs(m.Schema, args[1:])
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			target, err = g.absolutize(target, m.PathFields)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			d := action.Draft{Action: args[0], Target: target, Reason: reason, IdempotencyKey: idem}
			if dry {
				d.DryRun = action.Simulate
			}
			env, err := p.submit(ctx, d)
			if err != nil {
				return submitError(err)
			}
			return g.finish(ctx, p, []*action.Envelope{env}, f)
		},
	}
	f.add(c)
	c.Flags().StringVar(&idem, "idempotency-key", "", "submit at most once under this key")
	c.Flags().StringVar(&reason, "reason", "", "why, recorded with the action")
	c.Flags().BoolVar(&dry, "dry-run", false, "decide and show the effect, execute nothing")
	return c
}

func submitError(err error) error {
	var te *action.TargetError
	var re *runtime.RejectedError
	switch {
	case errors.As(err, &te), errors.Is(err, runtime.ErrUnknownAction),
		errors.As(err, &re) && api.IsRejection(re.Code):
		return &ExitError{Code: ExitUsage, Err: err}
	case errors.Is(err, runtime.ErrIdempotencyConflict):
		return &ExitError{Code: ExitFailure, Err: err}
	}
	return err
}

// absolutize resolves relative path fields against cwd, and "~" against
// the user's home.
func (g *globals) absolutize(target json.RawMessage, fields []string) (json.RawMessage, error) {
	return app.Absolutize(target, fields, g.env.Cwd, g.userHome())
}

// userHome is the user's home folder, or "" when it cannot be found
// (then "~" in paths is left for the adapters to refuse).
func (g *globals) userHome() string {
	if p, err := g.paths(); err == nil {
		return p.UserHome
	}
	return ""
}

func undoCmd(g *globals) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "undo ACTION_ID",
		Short: "Undo a succeeded action (a new action whose parent is the original)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			p, err := g.pipe(ctx)
			if err != nil {
				return err
			}
			defer p.close()
			env, err := p.undo(ctx, args[0])
			if errors.Is(err, runtime.ErrCannotUndo) {
				return &ExitError{Code: ExitCannotDo, Err: err}
			}
			if errors.Is(err, state.ErrNotFound) {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if err != nil {
				return submitError(err)
			}
			return g.finish(ctx, p, []*action.Envelope{env}, f)
		},
	}
	f.add(c)
	return c
}

func approveCmd(g *globals) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "approve ACTION_ID",
		Short: "Approve a pending action and run it",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			p, err := g.pipe(ctx)
			if err != nil {
				return err
			}
			defer p.close()
			env, err := p.get(ctx, args[0])
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			f.yes = true
			return g.finish(ctx, p, []*action.Envelope{env}, f)
		},
	}
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	return c
}

func refuseCmd(g *globals) *cobra.Command {
	var reason string
	var asJSON bool
	c := &cobra.Command{
		Use:   "refuse ACTION_ID",
		Short: "Refuse a pending action",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			p, err := g.pipe(ctx)
			if err != nil {
				return err
			}
			defer p.close()
			env, err := p.refuse(ctx, args[0], reason)
			if err != nil {
				return err
			}
			return g.report([]*action.Envelope{env}, asJSON)
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// finish takes submitted actions through approval and execution, prints
// them and returns the exit code of the contract.
func (g *globals) finish(ctx context.Context, p pipe, envs []*action.Envelope, f runFlags) error {
	if err := p.start(ctx); err != nil {
		return err
	}
	in := bufio.NewReader(g.env.Stdin)
	for i, env := range envs {
		if env.Execution.State == action.ApprovalPending {
			ok := f.yes
			if !ok && g.env.Interactive {
				ok = g.prompt(in, env)
				if !ok {
					refused, err := p.refuse(ctx, env.Identity.ActionID, "declined at the prompt")
					if err != nil {
						return err
					}
					envs[i] = refused
					continue
				}
			}
			if !ok {
				continue
			}
			approved, err := p.approve(ctx, env.Identity.ActionID, env.RequestHash)
			if err != nil {
				return err
			}
			env = approved
		}
		if env.Execution.State == action.Approved || env.Execution.State == action.Queued {
			if env.Request.DryRun != action.Live {
				envs[i] = env
				continue
			}
			done, err := p.run(ctx, env.Identity.ActionID)
			if err != nil {
				return err
			}
			env = done
		}
		envs[i] = env
	}
	if err := g.report(envs, f.asJSON); err != nil {
		return err
	}
	if !f.asJSON && !f.yes && !g.env.Interactive {
		for _, env := range envs {
			if env.Execution.State == action.ApprovalPending {
				fmt.Fprintf(g.env.Stderr, "noema: %s needs approval: run `noema approve %s`, or add --yes\n", env.Identity.ActionID, env.Identity.ActionID)
			}
		}
	}
	return silent(exitCode(envs))
}

// exitCode maps final states to the contract's exit codes.
func exitCode(envs []*action.Envelope) int {
	code := ExitOK
	worse := func(c int) {
		rank := map[int]int{ExitOK: 0, ExitCannotDo: 1, ExitVerifyFailed: 2, ExitFailure: 3, ExitNeedsApproval: 4, ExitDenied: 5}
		if rank[c] > rank[code] {
			code = c
		}
	}
	for _, env := range envs {
		x := env.Execution
		switch x.State {
		case action.PolicyDenied:
			worse(ExitDenied)
		case action.ApprovalPending:
			worse(ExitNeedsApproval)
		case action.Failed, action.RolledBack, action.RollbackFailed:
			if x.Error != nil && x.Error.Code == "verification_failed" {
				worse(ExitVerifyFailed)
			} else if x.State != action.RolledBack || x.UndoneBy == "" {
				worse(ExitFailure)
			}
		}
	}
	return code
}

// prompt shows the typed effect and asks; the default is No.
func (g *globals) prompt(in *bufio.Reader, env *action.Envelope) bool {
	w := g.env.Stderr
	fmt.Fprintf(w, "%s wants to run %s", env.Request.Subject.String(), safe(env.Request.Action))
	if env.Request.Undo != nil {
		fmt.Fprintf(w, " (undo of %s)", env.Request.Undo.Of)
	}
	fmt.Fprintln(w)
	changeLines(w, env.Execution.Preview, "    ")
	if names := env.Request.Risk.Names(); len(names) > 0 {
		fmt.Fprintf(w, "  risk: %s\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(w, "  policy: %s (%s)\n", env.Execution.Decision, env.Execution.ReasonCode)
	fmt.Fprintf(w, "  request %s\n", env.RequestHash[:16])
	fmt.Fprint(w, "Approve? [y/N] ")
	line, err := in.ReadString('\n')
	if err != nil && err != io.EOF {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// report prints actions.
func (g *globals) report(envs []*action.Envelope, asJSON bool) error {
	if asJSON {
		out := struct {
			Actions []actionJSON `json:"actions"`
		}{Actions: []actionJSON{}}
		for _, e := range envs {
			out.Actions = append(out.Actions, toJSON(e))
		}
		return writeJSON(g.env.Stdout, out)
	}
	w := g.env.Stdout
	for _, env := range envs {
		fmt.Fprintln(w, actionLine(env))
		changeLines(w, env.Execution.Preview, "    ")
		if v := env.Execution.Verification; v != nil {
			fmt.Fprintf(w, "    verified: %s  %s\n", v.Status, safe(verifySummary(v)))
		}
		if e := env.Execution.Error; e != nil {
			fmt.Fprintf(w, "    error: %s: %s\n", e.Code, safe(e.Message))
		}
		if env.Execution.State == action.PolicyDenied {
			fmt.Fprintf(w, "    denied: %s\n", safe(env.Execution.ReasonCode))
		}
		printResult(w, env)
	}
	return nil
}

func printResult(w io.Writer, env *action.Envelope) {
	if len(env.Execution.Result) == 0 || env.Execution.State != action.Succeeded {
		return
	}
	var m map[string]any
	if json.Unmarshal(env.Execution.Result, &m) != nil {
		return
	}
	for _, k := range []string{"content", "stdout", "stderr"} {
		if s, ok := m[k].(string); ok && s != "" {
			for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
				fmt.Fprintf(w, "    │ %s\n", safe(line))
			}
		}
	}
}

func verifySummary(r *verify.Result) string {
	if r.Probe != "" {
		return r.Probe + ": " + r.Detail
	}
	for _, c := range r.Children {
		if !c.Passed() {
			return verifySummary(&c)
		}
	}
	if len(r.Children) == 1 {
		return verifySummary(&r.Children[0])
	}
	return fmt.Sprintf("%d checks %s", len(r.Children), r.Op)
}

func statusCmd(g *globals) *cobra.Command {
	var asJSON bool
	var limit int
	c := &cobra.Command{
		Use:   "status [ACTION_ID]",
		Short: "Show recent actions, or one action's envelope",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			dc, _, err := g.daemon(ctx)
			if err != nil {
				return err
			}
			if dc != nil {
				defer dc.Close()
				return g.statusRemote(ctx, dc, args, asJSON, limit)
			}
			p, err := g.paths()
			if err != nil {
				return err
			}
			st, err := state.Open(ctx, p.StateDB())
			if err != nil {
				return err
			}
			defer st.Close()
			if len(args) == 1 {
				env, err := st.Get(ctx, args[0])
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				if asJSON {
					return writeJSON(g.env.Stdout, env)
				}
				return g.report([]*action.Envelope{env}, false)
			}
			envs, err := st.List(ctx, state.Filter{Limit: limit})
			if err != nil {
				return err
			}
			return g.report(envs, asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().IntVarP(&limit, "limit", "n", 20, "how many actions")
	return c
}

// statusRemote is status through the daemon.
func (g *globals) statusRemote(ctx context.Context, dc *client.Client, args []string, asJSON bool, limit int) error {
	if len(args) == 1 {
		env, err := dc.Get(ctx, args[0])
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		if asJSON {
			return writeJSON(g.env.Stdout, env)
		}
		return g.report([]*action.Envelope{env}, false)
	}
	envs, err := dc.List(ctx, limit)
	if err != nil {
		return err
	}
	return g.report(envs, asJSON)
}
