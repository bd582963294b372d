package verify

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestProbesReadTheSystem(t *testing.T) {
	e := NewEngine()
	ctx := context.Background()
	dir := t.TempDir()
	f := filepath.Join(dir, "a")
	os.WriteFile(f, []byte("hello"), 0o644)
	h, _ := FileBLAKE3(f)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	cases := []struct {
		name string
		spec Spec
		want Status
	}{
		{"exists", Probe("file.exists", PathArgs{Path: f}), Passed},
		{"exists wrong kind", Probe("file.exists", PathArgs{Path: f, Kind: "dir"}), Failed},
		{"absent", Probe("file.absent", PathArgs{Path: filepath.Join(dir, "b")}), Passed},
		{"absent but there", Probe("file.absent", PathArgs{Path: f}), Failed},
		{"hash", Probe("file.hash", HashArgs{Path: f, BLAKE3: h}), Passed},
		{"hash differs", Probe("file.hash", HashArgs{Path: f, BLAKE3: "00"}), Failed},
		{"http ok", Probe("http.ok", HTTPArgs{URL: srv.URL}), Passed},
		{"http 404", Probe("http.ok", HTTPArgs{URL: srv.URL + "/missing"}), Failed},
		{"port open", Probe("port.open", PortArgs{Port: port}), Passed},
		{"bad args", Spec{Probe: "file.exists", Args: json.RawMessage(`[`)}, Error},
		{"unknown probe", Probe("no.such", nil), Error},
		{"all", AllOf(Probe("file.exists", PathArgs{Path: f}), Probe("file.absent", PathArgs{Path: f})), Failed},
		{"any", Spec{Any: []Spec{Probe("file.absent", PathArgs{Path: f}), Probe("file.exists", PathArgs{Path: f})}}, Passed},
		{"not", Spec{Not: &Spec{Probe: "file.absent", Args: mustJSON(PathArgs{Path: f})}}, Passed},
		{"not of error is not success", Spec{Not: &Spec{Probe: "file.exists", Args: json.RawMessage(`[`)}}, Error},
		{"empty is skipped", Spec{}, Skipped},
	}
	for _, c := range cases {
		if got := e.Run(ctx, c.spec); got.Status != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, got.Status, got.Detail, c.want)
		}
	}
	l.Close()
	if got := e.Run(ctx, Probe("port.open", PortArgs{Port: port})); got.Status != Failed {
		t.Errorf("closed port: %s", got.Status)
	}
}

func mustJSON(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func TestEventually(t *testing.T) {
	e := NewEngine()
	f := filepath.Join(t.TempDir(), "later")
	go func() {
		time.Sleep(150 * time.Millisecond)
		os.WriteFile(f, nil, 0o644)
	}()
	r := e.Run(context.Background(), Spec{Eventually: &Eventually{Spec: Probe("file.exists", PathArgs{Path: f}), Timeout: Duration(3 * time.Second), Interval: Duration(20 * time.Millisecond)}})
	if r.Status != Passed {
		t.Fatalf("eventually: %s %s", r.Status, r.Detail)
	}
	start := time.Now()
	r = e.Run(context.Background(), Spec{Eventually: &Eventually{Spec: Probe("file.exists", PathArgs{Path: f + "x"}), Timeout: Duration(200 * time.Millisecond)}})
	if r.Status != TimedOut || time.Since(start) > 2*time.Second {
		t.Fatalf("eventually timeout: %s after %v", r.Status, time.Since(start))
	}
	if r.Passed() {
		t.Fatal("a timed-out verification passed")
	}
}

func TestSpecValidation(t *testing.T) {
	for _, bad := range []string{`{}`, `{"probe":"a","all":[]}`, `{"eventually":{"spec":{"probe":"a"},"timeout":"0s"}}`, `{"eventually":{"spec":{"probe":"a"},"timeout":"1h"}}`} {
		var s Spec
		if err := json.Unmarshal([]byte(bad), &s); err != nil {
			continue
		}
		if s.Validate() == nil {
			t.Errorf("%s validated", bad)
		}
	}
}

func FuzzSpec(f *testing.F) {
	f.Add([]byte(`{"all":[{"probe":"file.exists","args":{"path":"/"}},{"not":{"probe":"file.absent","args":{"path":"/"}}}]}`))
	f.Add([]byte(`{"eventually":{"spec":{"probe":"file.exists","args":{"path":"/tmp"}},"timeout":"10ms"}}`))
	e := NewEngine()
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Spec
		if json.Unmarshal(data, &s) != nil {
			return
		}
		if e.Check(s) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		r := e.Run(ctx, s)
		if s.IsZero() && r.Passed() {
			t.Fatal("an empty spec passed")
		}
	})
}
