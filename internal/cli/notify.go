package cli

import (
	"fmt"

	"github.com/noema-project/noema/adapters/timekeeping"
	"github.com/spf13/cobra"
)

// notifyCmd delivers one due reminder or timer; a systemd user timer made
// for the reminder runs it, so reminders fire even when the daemon is not
// running. Delivery is exactly once: an item the daemon already showed is
// left alone.
func notifyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    "notify ID",
		Short:  "Deliver a due reminder or timer (run by its systemd timer)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			// A running daemon delivers through its own scheduler and holds
			// the state; it needs no help.
			if d, _, err := g.daemon(c.Context()); err == nil && d != nil {
				d.Close()
				fmt.Fprintln(g.env.Stdout, "the noema daemon delivers", args[0])
				return nil
			}
			a, err := g.open(c.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			s := a.Modules.Time.Scheduler(timekeeping.NewDBusNotifier(""), timekeeping.SchedulerOptions{})
			delivered, err := s.Deliver(c.Context(), args[0])
			if err != nil {
				return err
			}
			if delivered {
				fmt.Fprintln(g.env.Stdout, "delivered", args[0])
			} else {
				fmt.Fprintln(g.env.Stdout, "nothing to deliver for", args[0])
			}
			return nil
		},
	}
}
