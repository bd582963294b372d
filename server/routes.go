package server

import (
	"net/http"
	"strings"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/server/api"
)

// route is one operation of the API. The table is the single source of
// the mux and of the OpenAPI document, so neither can drift.
type route struct {
	method, path string
	summary      string
	description  string
	// req and resp are zero values of the body types, for the document;
	// optionalBody says the request body may be left out.
	req, resp    any
	optionalBody bool
	query        []param
	// produces is the response media type (default application/json).
	produces string
	// status is the success status (default 200).
	status int
	// noBrowser refuses browser sessions (minting login links).
	noBrowser bool
	handle    func(w http.ResponseWriter, r *http.Request, c *caller)
}

// param is a query parameter.
type param struct {
	name, typ, desc string
	repeated        bool
}

var runParam = param{"run", "boolean", "run what is allowed and wait for its final state (default true)", false}

func (s *Server) table() []route {
	return []route{
		{method: "GET", path: "/api/status", summary: "The daemon and who you are to it", resp: api.Status{}, handle: s.status},
		{method: "GET", path: "/api/openapi.json", summary: "This document", resp: map[string]any{}, handle: s.openAPIDoc},
		{method: "GET", path: "/api/catalog", summary: "The action catalog", resp: api.CatalogResponse{}, handle: s.catalog},
		{method: "GET", path: "/api/catalog/{name}", summary: "One action type", resp: action.Manifest{}, handle: s.catalogEntry},
		{method: "POST", path: "/api/plan", summary: "Translate words into typed actions and decide each; execute nothing",
			req: api.PlanRequest{}, resp: app.PlanResult{}, handle: s.plan},
		{method: "POST", path: "/api/ask", summary: "Plan and submit: allowed actions run, the rest wait for approval",
			req: api.AskRequest{}, resp: api.AskResponse{}, query: []param{runParam}, handle: s.ask},
		{method: "POST", path: "/api/actions", summary: "Submit one typed action (a draft; the subject is the caller, never the body)",
			description: `The body is a draft, decoded strictly: unknown fields such as "subject" or "risk" are refused. Path fields must be absolute.`,
			req:         action.Draft{}, resp: api.ActionResponse{}, query: []param{runParam}, handle: s.submit},
		{method: "GET", path: "/api/actions", summary: "Recent actions, newest first", resp: api.ActionsResponse{}, query: []param{
			{"limit", "integer", "at most this many (default 50; 0 for all)", false},
			{"state", "string", "only actions in this state (repeatable)", true},
			{"parent", "string", "only undos of this action", false},
		}, handle: s.listActions},
		{method: "GET", path: "/api/actions/{id}", summary: "One action's envelope", resp: api.ActionResponse{}, handle: s.getAction},
		{method: "POST", path: "/api/actions/{id}/approve", summary: "Approve exactly the request with this hash, then run it",
			req: api.ApproveRequest{}, resp: api.ActionResponse{}, query: []param{runParam}, handle: s.approve},
		{method: "POST", path: "/api/actions/{id}/refuse", summary: "Refuse a pending action", req: api.RefuseRequest{}, optionalBody: true, resp: api.ActionResponse{}, handle: s.refuse},
		{method: "POST", path: "/api/actions/{id}/run", summary: "Run an approved action and wait for its final state", resp: api.ActionResponse{}, handle: s.run},
		{method: "POST", path: "/api/actions/{id}/undo", summary: "Undo a succeeded action (a new action whose parent is the original)",
			resp: api.ActionResponse{}, query: []param{runParam}, handle: s.undo},
		{method: "GET", path: "/api/log", summary: "Evidence records", resp: api.LogListResponse{}, query: []param{
			{"action", "string", "records of one action", false},
			{"correlation", "string", "records of one correlation id", false},
			{"type", "string", "record type (a trailing * matches a prefix)", false},
			{"since", "string", "RFC 3339 time or a duration ago (1h)", false},
			{"until", "string", "RFC 3339 time", false},
			{"limit", "integer", "at most this many", false},
			{"newest", "boolean", "newest first", false},
		}, handle: s.logList},
		{method: "GET", path: "/api/log/verify", summary: "Check every byte of the evidence log", resp: evidence.Report{}, query: []param{
			{"all_signatures", "boolean", "check every commit signature", false},
		}, handle: s.logVerify},
		{method: "GET", path: "/api/log/stream", summary: "New evidence records as server-sent events",
			description: "Each event is `event: record`, `id: <seq>`, `data: <record JSON>`. Reconnect with Last-Event-ID (or ?since=SEQ) to resume; " +
				"`event: reset` says records were missed (reload with GET /api/log), `event: lagged` that the reader fell behind and should reconnect.",
			produces: "text/event-stream", resp: "", query: []param{
				{"since", "integer", "resume after this sequence number", false},
				{"action", "string", "only records of this action", false},
				{"type", "string", "only this record type (a trailing * matches a prefix)", false},
			}, handle: s.logStream},
		{method: "GET", path: "/api/log/{id}", summary: "One evidence record", resp: api.LogShowResponse{}, query: []param{
			{"proof", "boolean", "include the Merkle inclusion proof", false},
		}, handle: s.logShow},
		{method: "POST", path: "/api/fs/search", summary: "Search files by meaning (submits fs.search)", req: api.FSSearchRequest{}, resp: api.ActionResponse{}, handle: s.fsAction("fs.search")},
		{method: "POST", path: "/api/fs/history", summary: "A file's versions (submits fs.history)", req: api.FSHistoryRequest{}, resp: api.ActionResponse{}, handle: s.fsAction("fs.history")},
		{method: "POST", path: "/api/fs/rollback", summary: "Restore a file's earlier version (submits fs.rollback)", req: api.FSRollbackRequest{}, resp: api.ActionResponse{}, query: []param{runParam}, handle: s.fsAction("fs.rollback")},
		{method: "GET", path: "/api/policy", summary: "The policies in force", resp: api.PolicyResponse{}, handle: s.policyShow},
		{method: "POST", path: "/api/policy/test", summary: "Which policy would decide an action, and why", req: api.PolicyTestRequest{}, resp: api.PolicyTestResponse{}, handle: s.policyTest},
		{method: "POST", path: "/api/login-links", summary: "A one-time link that logs a browser in (socket or bearer token only)", resp: api.LoginLinkResponse{}, status: http.StatusCreated, noBrowser: true, handle: s.loginLink},
		{method: "GET", path: "/api/session", summary: "The browser session and its CSRF token", resp: api.SessionResponse{}, handle: s.sessionInfo},
		{method: "POST", path: "/api/logout", summary: "End the browser session", status: http.StatusNoContent, handle: s.logout},
		{method: "GET", path: "/login", summary: "Redeem a one-time login link: sets the session cookie and redirects to /",
			produces: "text/html", status: http.StatusSeeOther, query: []param{{"code", "string", "the one-time code", false}}, handle: s.login},
		{method: "GET", path: "/", summary: "The web UI", produces: "text/html", resp: "", handle: s.ui},
	}
}

// mux routes the table. Requests no route matches get a JSON 404, or a
// JSON 405 with Allow when only the method is wrong.
func (s *Server) mux() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		pattern := rt.method + " " + rt.path
		if rt.path == "/" && s.cfg.UI == nil {
			pattern = "GET /{$}"
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			c := callerOf(r)
			if rt.noBrowser && c != nil && c.session != nil {
				writeError(w, http.StatusForbidden, api.CodeForbidden, "browser sessions cannot do this")
				return
			}
			rt.handle(w, r, c)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "GET /" && strings.HasPrefix(r.URL.Path, "/api/") {
			pattern = ""
			h = http.NotFoundHandler()
		}
		if pattern != "" {
			// ServeHTTP, not h: only it sets the path values.
			mux.ServeHTTP(w, r)
			return
		}
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, r.Method+" is not allowed here (allowed: "+probe.header.Get("Allow")+")")
			return
		}
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path+" (see /api/openapi.json)")
	})
}

// statusProbe learns what the mux's own not-found or method-not-allowed
// handler would answer, to answer it in JSON instead.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
