package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/noema-project/noema/server/api"
)

// Every HTTP request needs the token or a session; the Host must be the
// daemon's own (no DNS rebinding); a foreign Origin is refused; there is
// no CORS; every response carries the strict security headers.
func TestHTTPNeedsTokenAndRefusesCrossOrigin(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	u, _ := url.Parse(d.info.HTTP)
	tok := e.token(t)
	if fi, err := os.Stat(filepath.Join(e.vars["NOEMA_HOME"], "keys", "api-token")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	checks := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
	}{
		{"no credentials", "GET", "/api/status", nil, 401},
		{"wrong token", "GET", "/api/status", map[string]string{"Authorization": "Bearer " + strings.Repeat("A", len(tok))}, 401},
		{"not bearer", "GET", "/api/status", map[string]string{"Authorization": "Basic " + tok}, 401},
		{"token", "GET", "/api/status", map[string]string{"Authorization": "Bearer " + tok}, 200},
		{"rebinding host", "GET", "/api/status", map[string]string{"Authorization": "Bearer " + tok, "Host": "evil.example:" + u.Port()}, 421},
		{"other port", "GET", "/api/status", map[string]string{"Authorization": "Bearer " + tok, "Host": "127.0.0.1:1"}, 421},
		{"localhost", "GET", "/api/status", map[string]string{"Authorization": "Bearer " + tok, "Host": "localhost:" + u.Port()}, 200},
		{"foreign origin", "GET", "/api/status", map[string]string{"Authorization": "Bearer " + tok, "Origin": "http://evil.example"}, 403},
		{"null origin", "POST", "/api/plan", map[string]string{"Authorization": "Bearer " + tok, "Origin": "null"}, 403},
		{"own origin", "GET", "/api/status", map[string]string{"Authorization": "Bearer " + tok, "Origin": d.info.HTTP}, 200},
		{"preflight", "OPTIONS", "/api/actions", map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, 403},
		{"preflight same origin", "OPTIONS", "/api/actions", map[string]string{"Authorization": "Bearer " + tok}, 405},
		{"login without code", "GET", "/login", nil, 403},
		{"login with a made-up code", "GET", "/login?code=abc", nil, 403},
	}
	for _, c := range checks {
		r, body := d.request(t, c.method, c.path, "", c.header)
		if r.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.StatusCode, c.status, body)
		}
		for k := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("%s: CORS header %s", c.name, k)
			}
		}
		if r.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
			t.Errorf("%s: CSP %q", c.name, r.Header.Get("Content-Security-Policy"))
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, want)
			}
		}
	}
	csp := ContentSecurityPolicy
	for _, must := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, must) {
			t.Errorf("CSP lacks %s", must)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
		t.Errorf("CSP is not strict: %s", csp)
	}
}

// A one-time login link opens a cookie session. The cookie is HttpOnly
// and SameSite=Strict; unsafe requests of a session need its CSRF token
// and same-origin fetch metadata; a session cannot mint more links; the
// link works once; logging out ends the session.
func TestBrowserSessionAndCSRF(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	ctx := context.Background()
	link, err := d.sock.LoginLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link.URL, d.info.HTTP+"/login?code=") {
		t.Fatalf("link %s", link.URL)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	setCookie := resp.Header.Get("Set-Cookie")
	if cookie == nil || !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Strict") {
		t.Fatalf("session cookie: %q", setCookie)
	}
	if again, err := noRedirect.Get(link.URL); err != nil || again.StatusCode != http.StatusForbidden {
		t.Fatalf("second use of the link: %v %v", err, again.StatusCode)
	}
	ck := map[string]string{"Cookie": sessionCookie + "=" + cookie.Value}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range ck {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	r, body := d.request(t, "GET", "/api/status", "", ck)
	var st api.Status
	if r.StatusCode != 200 || json.Unmarshal(body, &st) != nil || st.Subject.Via != "web" {
		t.Fatalf("status with the cookie: %d %s", r.StatusCode, body)
	}
	r, body = d.request(t, "GET", "/api/session", "", ck)
	var sess api.SessionResponse
	if r.StatusCode != 200 || json.Unmarshal(body, &sess) != nil || len(sess.CSRFToken) < 32 {
		t.Fatalf("session: %d %s", r.StatusCode, body)
	}
	plan := `{"text":"enable dark mode"}`
	if r, body := d.request(t, "POST", "/api/plan", plan, ck); r.StatusCode != 403 || !strings.Contains(string(body), "X-CSRF-Token") {
		t.Errorf("POST without CSRF token: %d %s", r.StatusCode, body)
	}
	if r, _ := d.request(t, "POST", "/api/plan", plan, with(map[string]string{api.CSRFHeader: "wrong"})); r.StatusCode != 403 {
		t.Errorf("POST with a wrong CSRF token: %d", r.StatusCode)
	}
	good := with(map[string]string{api.CSRFHeader: sess.CSRFToken, "Origin": d.info.HTTP, "Sec-Fetch-Site": "same-origin"})
	if r, body := d.request(t, "POST", "/api/plan", plan, good); r.StatusCode != 200 {
		t.Errorf("POST with the CSRF token: %d %s", r.StatusCode, body)
	}
	crossSite := with(map[string]string{api.CSRFHeader: sess.CSRFToken, "Sec-Fetch-Site": "cross-site"})
	if r, _ := d.request(t, "POST", "/api/plan", plan, crossSite); r.StatusCode != 403 {
		t.Errorf("cross-site fetch metadata: %d", r.StatusCode)
	}
	if r, _ := d.request(t, "GET", "/api/status", "", with(map[string]string{"Sec-Fetch-Site": "cross-site"})); r.StatusCode != 403 {
		t.Errorf("cross-site GET with the cookie: %d", r.StatusCode)
	}
	if r, _ := d.request(t, "POST", "/api/login-links", "", good); r.StatusCode != 403 {
		t.Errorf("a browser session minted a login link: %d", r.StatusCode)
	}
	if r, _ := d.request(t, "GET", "/", "", ck); r.StatusCode != 200 || r.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Errorf("UI page: %d", r.StatusCode)
	}
	if r, _ := d.request(t, "POST", "/api/logout", "", good); r.StatusCode != 204 {
		t.Errorf("logout: %d", r.StatusCode)
	}
	if r, _ := d.request(t, "GET", "/api/status", "", ck); r.StatusCode != 401 {
		t.Errorf("the session outlived logout: %d", r.StatusCode)
	}
	// The token cannot be replaced by a session id or the other way round.
	if r, _ := d.request(t, "GET", "/api/status", "", map[string]string{"Authorization": "Bearer " + sess.CSRFToken}); r.StatusCode != 401 {
		t.Errorf("CSRF token accepted as bearer: %d", r.StatusCode)
	}
}

// The socket is 0600 in a 0700 folder; the kernel names the peer; a peer
// of another user is refused even when it can reach the socket.
func TestPeerCredentials(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	fi, err := os.Stat(d.info.Socket)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket %v %v", fi.Mode(), err)
	}
	dir, _ := os.Stat(filepath.Dir(d.info.Socket))
	if dir.Mode().Perm() != 0o700 {
		t.Fatalf("socket folder mode %v", dir.Mode())
	}
	st, err := d.sock.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Subject.ID != fmt.Sprintf("uid:%d", os.Getuid()) || st.Subject.Via != "socket" || !st.Subject.IsHuman() {
		t.Fatalf("subject over the socket: %+v", st.Subject)
	}
	if os.Getuid() != 0 {
		t.Skip("the other-user half needs root to run a process as another user")
	}
	// Open the way for another user, as a careless chmod might; the
	// peer check must still refuse it.
	for _, p := range []string{e.dir, filepath.Dir(filepath.Dir(d.info.Socket)), filepath.Dir(d.info.Socket)} {
		os.Chmod(p, 0o755)
	}
	os.Chmod(d.info.Socket, 0o666)
	// The test binary, where the other user can run it.
	self, _ := os.Executable()
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(e.dir, "peer-client")
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), peerChildEnv+"="+d.info.Socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as uid 65534: %v\n%s", err, out)
	}
	if !bytes.HasPrefix(out, []byte("403 ")) || !bytes.Contains(out, []byte("peer uid 65534")) {
		t.Fatalf("another user's request: %s", out)
	}
}
