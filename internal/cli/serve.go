package cli

import (
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/noema-project/noema/server"
	"github.com/noema-project/noema/server/webui"
	"github.com/spf13/cobra"
)

func serveCmd(g *globals) *cobra.Command {
	var cfg server.Config
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: the API on a Unix socket and on 127.0.0.1, and the D-Bus service",
		Long: `Run Noema's daemon. While it runs it alone owns the state (the evidence log,
the action store), and the other noema commands go through it.

It serves the REST API (described at /api/openapi.json) on a Unix socket at
$XDG_RUNTIME_DIR/noema/noema.sock, where callers are known by their user id,
and over HTTP on 127.0.0.1:7717, where requests need the token in
$NOEMA_HOME/keys/api-token or a browser session from ` + "`noema web`" + `.
An address other than loopback is refused unless your config.toml says
[server] allow_remote = true. With a session bus it also serves
org.noema.Noema1 on D-Bus.

SIGTERM (or Ctrl-C) stops it after the requests in flight finish; a second
Ctrl-C stops at once, and the next start recovers what was cut short.`,
		Example: `  noema serve
  noema serve --listen 127.0.0.1:8080
  noema serve --listen off`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg.Getenv = g.env.Getenv
			cfg.Version = Version
			cfg.Recovery = g.recovery
			cfg.Stderr = g.env.Stderr
			ui, err := webui.New()
			if err != nil {
				return fmt.Errorf("web UI: %w", err)
			}
			cfg.UI = ui
			return server.Run(c.Context(), cfg)
		},
	}
	c.Flags().StringVar(&cfg.Listen, "listen", "", "HTTP address (default: [server] listen in config.toml, else 127.0.0.1:7717; off for none)")
	c.Flags().StringVar(&cfg.Socket, "socket", "", "Unix socket path (default: $NOEMA_SOCKET, else $XDG_RUNTIME_DIR/noema/noema.sock; off for none)")
	c.Flags().BoolVar(&cfg.NoDBus, "no-dbus", false, "do not offer the D-Bus service")
	c.Flags().DurationVar(&cfg.DrainTimeout, "drain-timeout", 60*time.Second, "how long a stop waits for requests in flight")
	return c
}

func webCmd(g *globals) *cobra.Command {
	var printOnly bool
	c := &cobra.Command{
		Use:   "web",
		Short: "Open the web UI in a browser (or print a one-time login link)",
		Long: `Ask the running daemon for a one-time login link, valid for two minutes,
and open it with xdg-open when there is a display; otherwise (or with
--print) print it. The link sets a session cookie for this browser only.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			dc, _, err := g.daemon(ctx)
			if err != nil {
				return err
			}
			if dc == nil {
				return errors.New("the noema daemon is not running: start it with `noema serve` (or `systemctl --user start noema`)")
			}
			defer dc.Close()
			link, err := dc.LoginLink(ctx)
			if err != nil {
				return err
			}
			if !printOnly && (g.env.Getenv("DISPLAY") != "" || g.env.Getenv("WAYLAND_DISPLAY") != "") {
				err := openBrowser(link.URL)
				if err == nil {
					fmt.Fprintln(g.env.Stderr, "noema: opened the web UI in your browser")
					return nil
				}
				fmt.Fprintf(g.env.Stderr, "noema: could not open a browser (%v); open this link instead:\n", err)
			}
			fmt.Fprintln(g.env.Stdout, link.URL)
			return nil
		},
	}
	c.Flags().BoolVar(&printOnly, "print", false, "print the link instead of opening a browser")
	return c
}

// openBrowser hands url to xdg-open. The link works once, so it matters
// little that the browser, not this process, holds it afterwards.
func openBrowser(url string) error {
	path, err := exec.LookPath("xdg-open")
	if err != nil {
		return err
	}
	cmd := exec.Command(path, url)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		// Some openers stay in the foreground while the browser runs.
		return nil
	}
}
