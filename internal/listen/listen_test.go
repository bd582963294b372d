package listen

import (
	"context"
	"testing"
)

func TestOnlyLoopbackWithoutGrant(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7717": true, "[::1]:7717": true, "localhost:1": true, "127.9.9.9:1": true,
		"0.0.0.0:7717": false, "[::]:7717": false, "192.168.1.5:80": false, "example.com:80": false, ":7717": false, "garbage": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
	if _, err := TCP(context.Background(), "0.0.0.0:0", false); err == nil {
		t.Fatal("listened on all interfaces without a grant")
	}
	l, err := TCP(context.Background(), "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
