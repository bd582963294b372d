// Command noema is Noema's command-line interface. See `noema --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/noema-project/noema/internal/cli"
	"github.com/noema-project/noema/internal/platform/sandbox"
)

func main() {
	// A sandboxed child of shell.run never returns from here.
	sandbox.MaybeRunChild()
	if !longRunning(os.Args[1:]) {
		// A command lives for milliseconds: collecting garbage costs more
		// than the memory it frees. The limit still bounds the heap.
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(512 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.DefaultEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}

// longRunning reports the commands that keep running (the daemon, the
// FUSE view), which keep the normal garbage collector.
func longRunning(args []string) bool {
	for _, a := range args {
		switch a {
		case "serve", "mount":
			return true
		}
	}
	return false
}
