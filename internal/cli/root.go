package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/noema-project/noema/internal/app"
	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X ...cli.Version=…".
var Version = "0.1.0-dev"

// Env is what a command runs with; tests substitute it.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Interactive reports whether a person can answer prompts.
	Interactive bool
	Cwd         string
}

// DefaultEnv is the process environment.
func DefaultEnv() Env {
	cwd, _ := os.Getwd()
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Interactive: isTerminal(os.Stdin), Cwd: cwd}
}

type globals struct {
	env      Env
	recovery bool
	preview  bool // plan: read old values for previews
}

// Run executes the CLI with args and returns the exit code.
func Run(ctx context.Context, env Env, args []string) int {
	root := NewRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		if ee, ok := err.(*ExitError); !ok || ee.Err != nil {
			fmt.Fprintln(env.Stderr, "noema:", safe(err.Error()))
		}
		if _, ok := err.(*ExitError); !ok && isUsage(err) {
			return ExitUsage
		}
	}
	return Code(err)
}

// NewRoot builds the command tree.
func NewRoot(env Env) *cobra.Command {
	g := &globals{env: env}
	root := &cobra.Command{
		Use:   "noema",
		Short: "An assistant you can trust with your machine",
		Long: `Noema turns what you ask into typed actions, lets a policy kernel decide
what is allowed, asks you before anything risky, runs only what was approved,
proves each effect by reading the system back, records every step in a
tamper-evident evidence log, and can undo what it did.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.PersistentFlags().BoolVar(&g.recovery, "recovery", env.Getenv("NOEMA_RECOVERY") == "1",
		"recovery mode: no model-proposed actions; undo, rollback and the log still work")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	root.AddCommand(
		versionCmd(g), actionsCmd(g), doCmd(g), undoCmd(g), approveCmd(g), refuseCmd(g), statusCmd(g),
		logCmd(g), policyCmd(g), planCmd(g), askCmd(g), notifyCmd(g), serveCmd(g), webCmd(g), fsCmd(g),
	)
	return root
}

func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "accepts ", "requires at least", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// open opens the whole pipeline.
func (g *globals) open(ctx context.Context) (*app.App, error) {
	a, err := app.Open(ctx, app.Options{Getenv: g.env.Getenv, Recovery: g.recovery})
	if err != nil {
		return nil, err
	}
	if a.PolicyLoad.Err != nil {
		fmt.Fprintf(g.env.Stderr, "noema: policy files not loaded, using the last good set: %s\n", safe(a.PolicyLoad.Err.Error()))
	}
	return a, nil
}

func (g *globals) paths() (app.Paths, error) { return app.ResolvePaths(g.env.Getenv) }

func versionCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if asJSON {
				return writeJSON(g.env.Stdout, map[string]string{"version": Version})
			}
			fmt.Fprintln(g.env.Stdout, "noema", Version)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
