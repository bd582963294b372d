package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/noema-project/noema/internal/platform/dconf/dconftest"
	"github.com/noema-project/noema/server"
	"github.com/noema-project/noema/server/webui"
)

// stack is a daemon serving the UI, run in process with a fresh
// NOEMA_HOME, whose desktop adapters write real dconf settings on a
// private session bus.
type stack struct {
	base  string
	token string
	home  string
	bus   *dconftest.Bus
}

func startStack(t *testing.T) *stack {
	t.Helper()
	bus := dconftest.StartSessionBus(t)
	for _, kv := range bus.Env() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_DIRS",
			"DBUS_SESSION_BUS_ADDRESS", "DCONF_PROFILE", "GSETTINGS_BACKEND":
			t.Setenv(k, v)
		}
	}
	home := filepath.Join(bus.Home, "noema")
	t.Setenv("NOEMA_HOME", home)
	// Plans come from the offline translator: the same every run.
	t.Setenv("NOEMA_LLM_URL", "")
	t.Setenv("NOEMA_LLM_MODEL", "")

	ui, err := webui.New()
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan server.Info, 1)
	done := make(chan error, 1)
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		done <- server.Run(ctx, server.Config{
			Version: "test", Listen: "127.0.0.1:0", Socket: "off", NoDBus: true, UI: ui, Stderr: &stderr,
			DrainTimeout: 10 * time.Second, LockWait: 5 * time.Second,
			Ready: func(i server.Info) { ready <- i },
		})
	}()
	var info server.Info
	select {
	case info = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("the daemon did not start: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("the daemon was not ready after 30 s\n%s", stderr.String())
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the daemon did not stop\n%s", stderr.String())
		}
	})
	tok, err := os.ReadFile(filepath.Join(home, "keys", "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	return &stack{base: info.HTTP, token: strings.TrimSpace(string(tok)), home: home, bus: bus}
}

// call makes a request to the daemon as a client outside the browser.
func (s *stack) call(t *testing.T, method, path, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// approvedHash is the request hash an action's approval was granted for,
// as its evidence records it.
func (s *stack) approvedHash(t *testing.T, actionID string) string {
	t.Helper()
	auth := map[string]string{"Authorization": "Bearer " + s.token}
	var list struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	code, body := s.call(t, "GET", "/api/log?type=approval.granted&action="+url.QueryEscape(actionID), "", auth)
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list.Records) != 1 {
		t.Fatalf("approval record of %s: %d %s", actionID, code, body)
	}
	var rec struct {
		Record struct {
			Data struct {
				RequestHash string `json:"request_hash"`
			} `json:"data"`
		} `json:"record"`
	}
	code, body = s.call(t, "GET", "/api/log/"+list.Records[0].ID, "", auth)
	if err := json.Unmarshal([]byte(body), &rec); code != http.StatusOK || err != nil {
		t.Fatalf("approval record: %d %s", code, body)
	}
	return rec.Record.Data.RequestHash
}

// loginLink mints a one-time login link, as `noema web` does.
func (s *stack) loginLink(t *testing.T) string {
	t.Helper()
	code, body := s.call(t, "POST", "/api/login-links", "", map[string]string{"Authorization": "Bearer " + s.token})
	if code != http.StatusCreated {
		t.Fatalf("login link: %d %s", code, body)
	}
	_, rest, _ := strings.Cut(body, `"url":"`)
	link, _, _ := strings.Cut(rest, `"`)
	if !strings.HasPrefix(link, s.base+"/login?code=") {
		t.Fatalf("login link: %s", body)
	}
	return link
}

func (s *stack) colorScheme(t *testing.T) string {
	t.Helper()
	return s.bus.Run(t, "gsettings", "get", "org.gnome.desktop.interface", "color-scheme")
}

// tamper changes the first occurrence of old in the evidence log to new
// (the same length), in place: the daemon keeps appending to the file.
func tamper(t *testing.T, home, old, new string) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(home, "evidence", "seg-*.log"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no evidence segments: %v", err)
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte(old))
	if at < 0 || len(old) != len(new) {
		t.Fatalf("%s holds no %s", segs[0], old)
	}
	f, err := os.OpenFile(segs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(new), int64(at)); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer collects the daemon's notes from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
