package cli

import (
	"fmt"
	"strings"

	"github.com/noema-project/noema/internal/app"
	"github.com/spf13/cobra"
)

func actionsCmd(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "actions [NAME]",
		Short: "List the action catalog, or show one action",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := g.paths()
			if err != nil {
				return err
			}
			reg, dm, err := app.Catalog(p)
			if err != nil {
				return err
			}
			defer dm.Close()
			all := reg.Catalog().All()
			if len(args) == 1 {
				e, ok := reg.Catalog().Lookup(args[0])
				if !ok {
					return exitf(ExitUsage, "unknown action %q", args[0])
				}
				if asJSON {
					return writeJSON(g.env.Stdout, e.Manifest)
				}
				m := e.Manifest
				w := g.env.Stdout
				fmt.Fprintf(w, "%s — %s\n\n%s\n\n", m.Name, m.Title, m.Description)
				fmt.Fprintf(w, "target schema: %s\n", m.Schema)
				fmt.Fprintf(w, "risk:          %s\n", orDash(strings.Join(m.Risk.Names(), ", ")))
				fmt.Fprintf(w, "verification:  %s\n", m.Verification)
				fmt.Fprintf(w, "undo:          %s", m.Rollback)
				if m.RollbackNote != "" {
					fmt.Fprintf(w, " (%s)", m.RollbackNote)
				}
				fmt.Fprintln(w)
				for _, ex := range m.Examples {
					fmt.Fprintf(w, "example:       %q → %s\n", ex.Text, ex.Target)
				}
				return nil
			}
			if asJSON {
				return writeJSON(g.env.Stdout, map[string]any{"actions": all})
			}
			for _, m := range all {
				undo := "undo"
				if m.Rollback == "NONE" {
					undo = "no undo"
				}
				risk := strings.Join(m.Risk.Names(), ",")
				if risk != "" {
					risk = " risk:" + risk
				}
				fmt.Fprintf(g.env.Stdout, "%-24s %s (%s%s)\n", m.Name, m.Title, undo, risk)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
