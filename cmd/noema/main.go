// Command noema is Noema's command-line interface. See `noema --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/noema-project/noema/internal/cli"
	"github.com/noema-project/noema/internal/platform/sandbox"
)

func main() {
	// A sandboxed child of shell.run never returns from here.
	sandbox.MaybeRunChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.DefaultEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
