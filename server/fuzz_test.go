package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/noema-project/noema/internal/app"
)

// fuzzServer is a daemon's handler over a real pipeline, shared by the
// fuzz inputs of one process.
func fuzzServer(f *testing.F) *Server {
	e := newTestEnv(f)
	a, err := app.Open(context.Background(), app.Options{Getenv: e.getenv, LockWait: 5 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	s, err := newServer(a, Config{Getenv: e.getenv, Version: "fuzz", Stderr: &syncBuffer{}})
	if err != nil {
		f.Fatal(err)
	}
	if err := a.Runtime.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(a.Runtime.Stop)
	f.Cleanup(s.closeIndex)
	s.token = strings.Repeat("t", 43)
	s.setHTTPAddr("127.0.0.1:7717")
	s.socket = e.socket()
	return s
}

// FuzzAPI feeds arbitrary methods, paths, queries, headers and bodies to
// the daemon's handler through both doors. Whatever arrives, the answer is
// never a 5xx and never a panic, and every error is the JSON error shape.
// Requests never run actions (run=false is forced), so the fuzzer cannot
// touch the machine; they do reach the real pipeline, store and log.
func FuzzAPI(f *testing.F) {
	seeds := []struct {
		method, path, body string
		http               bool
	}{
		{"POST", "/api/actions", `{"action":"fs.write","target":{"path":"/tmp/x","content":"y"}}`, false},
		{"POST", "/api/actions", `{"action":"fs.write","subject":{"kind":"human"}}`, true},
		{"POST", "/api/actions", `{"action":"shell.run","target":{"argv":["ls"]},"verification":{"probe":"file.exists","args":{"path":"/"}}}`, false},
		{"POST", "/api/actions", `{"action":"desktop.theme.set","target":{"mode":"dark"},"dry_run":"SIMULATE","idempotency_key":"k"}`, false},
		{"POST", "/api/plan", `{"text":"enable dark mode and set the volume to 30%","now":"2026-11-23T09:00:00Z"}`, false},
		{"POST", "/api/ask", `{"text":"delete /tmp/x","dry_run":true,"context":[{"source":"a","text":"b"}]}`, false},
		{"POST", "/api/actions/act_01/approve", `{"request_hash":"00"}`, false},
		{"POST", "/api/actions/act_01/refuse", `{"reason":"no"}`, false},
		{"POST", "/api/actions/act_01/undo", ``, false},
		{"POST", "/api/actions/act_01/run", `{}`, false},
		{"GET", "/api/actions?limit=5&state=SUCCEEDED", ``, false},
		{"GET", "/api/log?type=action.*&since=1h&newest=true&limit=3", ``, false},
		{"GET", "/api/log/ev_01?proof=true", ``, false},
		{"GET", "/api/log/verify?all_signatures=1", ``, false},
		{"GET", "/api/log/stream?since=3&action=a", ``, false},
		{"POST", "/api/fs/rollback", `{"path":"/tmp/x","steps":2}`, false},
		{"POST", "/api/policy/test", `{"action":"fs.delete","target":{"path":"~/x"},"ai":true,"tainted":true}`, false},
		{"POST", "/api/login-links", ``, false},
		{"GET", "/login?code=x", ``, true},
		{"GET", "/api/session", ``, true},
		{"PUT", "/api/%zz", `{`, true},
		{"GET", "/api/catalog/fs.write", ``, true},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body, s.http, "application/json")
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, target, body string, overHTTP bool, ctype string) {
		if !validMethod(method) {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" || u.Scheme != "" {
			return
		}
		q := u.Query()
		q.Set("run", "false")
		u.RawQuery = q.Encode()
		timeout := 5 * time.Second
		if strings.Contains(u.Path, "stream") {
			timeout = 20 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(body))
		if ctype != "" && strings.IndexFunc(ctype, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0 {
			req.Header.Set("Content-Type", ctype)
		}
		d := doorSocket
		if overHTTP {
			d = doorHTTP
			req.Host = "127.0.0.1:7717"
			req.Header.Set("Authorization", "Bearer "+s.token)
		}
		req = req.WithContext(context.WithValue(req.Context(), connKey{}, &connInfo{door: d, uid: s.uid}))
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, u, body, rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Fatalf("%s %s: no CSP", method, u)
		}
		if rec.Code >= 400 && strings.HasPrefix(u.Path, "/api/") {
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s %q: %d with a body that is not the error shape: %q", method, u, body, rec.Code, rec.Body)
			}
		}
		if bytes.Contains(bytes.ToLower([]byte(strings.Join(headerKeys(rec.Header()), ","))), []byte("access-control-")) {
			t.Fatalf("CORS header on %s %s", method, u)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return true
	}
	return false
}

func headerKeys(h http.Header) []string {
	var out []string
	for k := range h {
		out = append(out, k)
	}
	return out
}
