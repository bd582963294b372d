package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noema-project/noema/internal/platform/sandbox"
	"github.com/noema-project/noema/server/client"
)

// The test binary doubles as a socket client for the peer-credential
// test, run as another user.
const peerChildEnv = "NOEMA_TEST_PEER_SOCKET"

var binDir string

func TestMain(m *testing.M) {
	sandbox.MaybeRunChild()
	if sock := os.Getenv(peerChildEnv); sock != "" {
		os.Exit(peerChild(sock))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// peerChild asks the daemon at sock for its status and prints the HTTP
// status code and body.
func peerChild(sock string) int {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Get("http://noema/api/status")
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	return 0
}

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// noemaBinary builds cmd/noema once per test run.
func noemaBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "noema-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		binDir = dir
		out := filepath.Join(dir, "noema")
		cmd := exec.Command("go", "build", "-o", out, "github.com/noema-project/noema/cmd/noema")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, msg)
			return
		}
		buildOnce.path = out
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	help, err := exec.Command(buildOnce.path, "serve", "--help").CombinedOutput()
	if err != nil || !bytes.Contains(help, []byte("--listen")) {
		t.Fatalf("the noema binary has no serve command (add serveCmd(g) and webCmd(g) to NewRoot in internal/cli/root.go): %s", help)
	}
	return buildOnce.path
}

// testEnv is an installation in a fresh temporary folder: HOME, the XDG
// folders and NOEMA_HOME. Its folder name is short because the socket
// lives in it.
type testEnv struct {
	dir  string
	vars map[string]string
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsrv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &testEnv{dir: dir, vars: map[string]string{
		"HOME":            filepath.Join(dir, "home"),
		"NOEMA_HOME":      filepath.Join(dir, "noema"),
		"XDG_RUNTIME_DIR": filepath.Join(dir, "run"),
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_DATA_HOME":   filepath.Join(dir, "data"),
		"XDG_CACHE_HOME":  filepath.Join(dir, "cache"),
		"PATH":            os.Getenv("PATH"),
	}}
	for _, k := range []string{"HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"} {
		if err := os.MkdirAll(e.vars[k], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(e.work(), 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *testEnv) getenv(k string) string { return e.vars[k] }

// work is a folder for the files tests act on.
func (e *testEnv) work() string { return filepath.Join(e.dir, "work") }

func (e *testEnv) socket() string {
	return filepath.Join(e.vars["XDG_RUNTIME_DIR"], "noema", "noema.sock")
}

// environ is the environment for a subprocess.
func (e *testEnv) environ() []string {
	var out []string
	for k, v := range e.vars {
		out = append(out, k+"="+v)
	}
	return out
}

func (e *testEnv) token(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.vars["NOEMA_HOME"], "keys", "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// testDaemon is a daemon run in process.
type testDaemon struct {
	env    *testEnv
	info   Info
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
	sock   *client.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs the daemon in process on a loopback port of the
// kernel's choosing; mod may adjust the configuration.
func startDaemon(t testing.TB, e *testEnv, mod func(*Config)) *testDaemon {
	t.Helper()
	ready := make(chan Info, 1)
	d := &testDaemon{env: e, done: make(chan error, 1), stderr: &syncBuffer{}}
	cfg := Config{
		Getenv: e.getenv, Version: "test", Listen: "127.0.0.1:0", NoDBus: true, Stderr: d.stderr,
		DrainTimeout: 20 * time.Second, LockWait: 5 * time.Second,
		Ready: func(i Info) { ready <- i },
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { d.done <- Run(ctx, cfg) }()
	select {
	case d.info = <-ready:
	case err := <-d.done:
		cancel()
		t.Fatalf("daemon did not start: %v\n%s", err, d.stderr)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("daemon not ready after 30s\n%s", d.stderr)
	}
	if d.info.Socket != "" {
		d.sock = client.Unix(d.info.Socket, "")
	}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop stops the daemon and waits; it reports Run's error.
func (d *testDaemon) stop(t testing.TB) error {
	d.cancel()
	if d.sock != nil {
		d.sock.Close()
	}
	select {
	case err, ok := <-d.done:
		if !ok {
			return nil
		}
		close(d.done)
		if err != nil {
			t.Errorf("daemon: %v\n%s", err, d.stderr)
		}
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("daemon did not stop\n%s", d.stderr)
	}
	return nil
}

// request makes an HTTP request to the daemon's loopback address.
func (d *testDaemon) request(t testing.TB, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, d.info.HTTP+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// bearer is the header map with the API token.
func (d *testDaemon) bearer(t testing.TB) map[string]string {
	return map[string]string{"Authorization": "Bearer " + d.env.token(t)}
}

// errorCode reads the code of a JSON error body, failing the test when
// the body is not one.
func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error body: %q", body)
	}
	return e.Error.Code
}
