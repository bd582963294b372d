package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/server/api"
	"golang.org/x/sys/unix"
)

// door is how a request reached the daemon.
type door int

const (
	doorSocket door = iota + 1
	doorHTTP
)

// connInfo is what the daemon learned about a connection when it was
// accepted: for the socket, the peer's credentials from the kernel.
type connInfo struct {
	door door
	uid  int
	pid  int
	err  error
}

type connKey struct{}

func withConn(ctx context.Context, d door, c net.Conn) context.Context {
	ci := &connInfo{door: d, uid: -1}
	if d == doorSocket {
		ci.uid, ci.pid, ci.err = peerCred(c)
	}
	return context.WithValue(ctx, connKey{}, ci)
}

// peerCred reads SO_PEERCRED: the uid and pid of the process that
// connected, as the kernel knows them, which no request can forge.
func peerCred(c net.Conn) (uid, pid int, err error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, 0, fmt.Errorf("not a Unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, 0, err
	}
	if cerr != nil {
		return -1, 0, fmt.Errorf("peer credentials: %w", cerr)
	}
	return int(cred.Uid), int(cred.Pid), nil
}

// caller is who made a request.
type caller struct {
	subject identity.Subject
	door    door
	// session is set for browser sessions (cookie authentication).
	session *session
}

type callerKey struct{}

func callerOf(r *http.Request) *caller {
	c, _ := r.Context().Value(callerKey{}).(*caller)
	return c
}

const (
	sessionCookie = "noema_session"
	sessionTTL    = 12 * time.Hour
	loginCodeTTL  = 2 * time.Minute
	maxSessions   = 64
	maxLoginCodes = 16
)

type session struct {
	id      string
	csrf    string
	expires time.Time
}

// authState holds browser sessions and one-time login codes, in memory
// only: a restarted daemon logs every browser out.
type authState struct {
	mu       sync.Mutex
	sessions map[string]*session
	codes    map[string]time.Time
}

func newAuthState() *authState {
	return &authState{sessions: map[string]*session{}, codes: map[string]time.Time{}}
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newLoginCode mints a one-time code for /login.
func (a *authState) newLoginCode(now time.Time) (string, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c, exp := range a.codes {
		if now.After(exp) {
			delete(a.codes, c)
		}
	}
	for len(a.codes) >= maxLoginCodes {
		var oldest string
		for c, exp := range a.codes {
			if oldest == "" || exp.Before(a.codes[oldest]) {
				oldest = c
			}
		}
		delete(a.codes, oldest)
	}
	code := randomToken()
	exp := now.Add(loginCodeTTL)
	a.codes[code] = exp
	return code, exp
}

// redeem consumes a login code and opens a session.
func (a *authState) redeem(code string, now time.Time) (*session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var found string
	for c := range a.codes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(code)) == 1 {
			found = c
		}
	}
	if found == "" {
		return nil, false
	}
	exp := a.codes[found]
	delete(a.codes, found)
	if now.After(exp) {
		return nil, false
	}
	for id, s := range a.sessions {
		if now.After(s.expires) {
			delete(a.sessions, id)
		}
	}
	for len(a.sessions) >= maxSessions {
		var oldest *session
		for _, s := range a.sessions {
			if oldest == nil || s.expires.Before(oldest.expires) {
				oldest = s
			}
		}
		delete(a.sessions, oldest.id)
	}
	s := &session{id: randomToken(), csrf: randomToken(), expires: now.Add(sessionTTL)}
	a.sessions[s.id] = s
	return s, true
}

func (a *authState) session(id string, now time.Time) (*session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[id]
	if !ok {
		return nil, false
	}
	if now.After(s.expires) {
		delete(a.sessions, id)
		return nil, false
	}
	return s, true
}

func (a *authState) end(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, id)
}

// authenticate establishes who is calling, or refuses the request.
//
//   - On the socket the kernel names the peer; only the daemon's own user
//     is served.
//   - On HTTP the Host must be this daemon's address (no DNS rebinding),
//     an Origin must be this daemon's own (no cross-origin use, no CORS),
//     and the caller must present the bearer token or a browser session.
//     A browser session's unsafe requests also need its CSRF token and
//     same-origin fetch metadata.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ci, _ := r.Context().Value(connKey{}).(*connInfo)
		if ci == nil {
			writeError(w, http.StatusForbidden, api.CodeForbidden, "unknown connection")
			return
		}
		var c *caller
		switch ci.door {
		case doorSocket:
			if ci.err != nil {
				writeError(w, http.StatusForbidden, api.CodeForbidden, ci.err.Error())
				return
			}
			if ci.uid != s.uid {
				writeError(w, http.StatusForbidden, api.CodeForbidden, fmt.Sprintf("peer uid %d is not this daemon's owner (uid %d)", ci.uid, s.uid))
				return
			}
			via := "socket"
			if r.Header.Get(api.ViaHeader) == "cli" {
				via = "cli"
			}
			c = &caller{subject: identity.FromUID(ci.uid, via), door: doorSocket}
		case doorHTTP:
			if !s.hostAllowed(r.Host) {
				writeError(w, http.StatusMisdirectedRequest, api.CodeForbidden, fmt.Sprintf("host %q is not this daemon's address", r.Host))
				return
			}
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
				writeError(w, http.StatusForbidden, api.CodeForbidden, "cross-origin requests are refused")
				return
			}
			if r.Method == http.MethodGet && r.URL.Path == "/login" {
				next.ServeHTTP(w, r)
				return
			}
			var ok bool
			if c, ok = s.httpCaller(w, r); !ok {
				return
			}
		default:
			writeError(w, http.StatusForbidden, api.CodeForbidden, "unknown connection")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

// httpCaller authenticates an HTTP request by bearer token or session
// cookie, writing the refusal itself when there is neither.
func (s *Server) httpCaller(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || s.token == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="noema"`)
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "the bearer token is wrong")
			return nil, false
		}
		return &caller{subject: identity.FromUID(s.uid, "api"), door: doorHTTP}, true
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="noema"`)
		writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "log in with the link `noema web` prints, or send the token in "+s.app.Paths.APIToken()+" as a bearer token")
		return nil, false
	}
	sess, ok := s.auth.session(ck.Value, time.Now())
	if !ok {
		writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "the session has expired; log in again with `noema web`")
		return nil, false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		writeError(w, http.StatusForbidden, api.CodeForbidden, "cross-site requests are refused")
		return nil, false
	}
	if !safeMethod(r.Method) {
		got := r.Header.Get(api.CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) != 1 {
			writeError(w, http.StatusForbidden, api.CodeForbidden, "missing or wrong "+api.CSRFHeader+" header (GET /api/session gives it)")
			return nil, false
		}
	}
	return &caller{subject: identity.FromUID(s.uid, "web"), door: doorHTTP, session: sess}, true
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead
}

// hostAllowed accepts a Host header naming this daemon's port on an IP
// literal or "localhost". Any other name is refused, which defeats DNS
// rebinding: a hostile page's name that resolves to 127.0.0.1 still
// arrives with that name.
func (s *Server) hostAllowed(host string) bool {
	h, port, err := net.SplitHostPort(host)
	if err != nil || port != s.port {
		return false
	}
	if h == "localhost" {
		return true
	}
	_, err = netip.ParseAddr(h)
	return err == nil
}
