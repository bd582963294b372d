// Package listen is the only place Noema opens network listeners. It binds
// to a Unix socket or a loopback address unless the owner's configuration
// grants a wider one, so no listener is ever exposed by accident.
package listen

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// IsLoopback reports whether addr (host:port) names a loopback address.
// Host names other than "localhost" are refused: they could resolve to
// anything.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// TCP listens on addr, which must be loopback unless grantedWide is set by
// the owner's configuration.
func TCP(ctx context.Context, addr string, grantedWide bool) (net.Listener, error) {
	if !IsLoopback(addr) && !grantedWide {
		return nil, fmt.Errorf("listen %s: not a loopback address; Noema listens beyond this machine only when its owner grants it in the configuration", addr)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return l, nil
}

// Unix listens on a Unix socket.
func Unix(ctx context.Context, path string) (net.Listener, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	return l, nil
}
