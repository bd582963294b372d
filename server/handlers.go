package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/cognition"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/evidence/evindex"
	"github.com/noema-project/noema/identity"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/server/api"
	"github.com/noema-project/noema/state"
	"github.com/noema-project/noema/translate"
)

// Limits on what a request may ask for.
const (
	maxTextBytes     = 16 << 10
	maxContextItems  = 8
	maxContextBytes  = 64 << 10
	defaultListLimit = 50
)

func (s *Server) status(w http.ResponseWriter, r *http.Request, c *caller) {
	writeJSON(w, http.StatusOK, api.Status{
		Version: s.cfg.Version, PID: os.Getpid(), Home: s.app.Paths.Home, Socket: s.socket, HTTP: s.httpURL,
		Recovery: s.app.Runtime.Recovery(), DBus: s.dbusOn, StartedAt: s.started, Subject: c.subject,
	})
}

func (s *Server) openAPIDoc(w http.ResponseWriter, r *http.Request, c *caller) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
}

func (s *Server) catalog(w http.ResponseWriter, r *http.Request, c *caller) {
	writeJSON(w, http.StatusOK, api.CatalogResponse{Actions: s.app.Registry.Catalog().All()})
}

func (s *Server) catalogEntry(w http.ResponseWriter, r *http.Request, c *caller) {
	e, ok := s.app.Registry.Catalog().Lookup(r.PathValue("name"))
	if !ok {
		writeError(w, http.StatusNotFound, api.CodeUnknownAction, fmt.Sprintf("unknown action %q (see `noema actions`)", r.PathValue("name")))
		return
	}
	writeJSON(w, http.StatusOK, e.Manifest)
}

// planInput checks a plan request and turns it into the pipeline's input.
func (s *Server) planInput(req *api.PlanRequest, c *caller, preview bool) (app.PlanInput, error) {
	in := app.PlanInput{Text: strings.TrimSpace(req.Text), Preview: req.Preview || preview, Human: c.subject, Now: time.Now()}
	switch {
	case in.Text == "":
		return in, bad("text: say what you want done")
	case len(in.Text) > maxTextBytes:
		return in, bad("text: over %d bytes", maxTextBytes)
	case !utf8.ValidString(in.Text) || strings.ContainsRune(in.Text, 0):
		return in, bad("text: not valid UTF-8 text")
	}
	if req.Now != "" {
		t, err := time.Parse(time.RFC3339, req.Now)
		if err != nil {
			return in, bad("now: want an RFC 3339 time: %v", err)
		}
		in.Now = t.In(time.Local)
	}
	in.Cwd, in.Home = s.app.Paths.UserHome, s.app.Paths.UserHome
	if req.Cwd != "" {
		if !filepath.IsAbs(req.Cwd) || strings.ContainsRune(req.Cwd, 0) {
			return in, bad("cwd: want an absolute path")
		}
		in.Cwd = filepath.Clean(req.Cwd)
	}
	if len(req.Context) > maxContextItems {
		return in, bad("context: at most %d items", maxContextItems)
	}
	for i, u := range req.Context {
		if len(u.Text) > maxContextBytes {
			return in, bad("context[%d]: over %d bytes", i, maxContextBytes)
		}
		in.Context = append(in.Context, cognition.Untrusted{Source: u.Source, Text: u.Text})
	}
	return in, nil
}

func (s *Server) plan(w http.ResponseWriter, r *http.Request, c *caller) {
	var req api.PlanRequest
	if err := decode(r, &req, false); err != nil {
		reply(w, err)
		return
	}
	in, err := s.planInput(&req, c, false)
	if err != nil {
		reply(w, err)
		return
	}
	out, _ := app.Plan(r.Context(), s.app.Runtime, s.planner, in)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) ask(w http.ResponseWriter, r *http.Request, c *caller) {
	var req api.AskRequest
	if err := decode(r, &req, false); err != nil {
		reply(w, err)
		return
	}
	run, err := runFlag(r)
	if err != nil {
		reply(w, err)
		return
	}
	in, err := s.planInput(&req.PlanRequest, c, true)
	if err != nil {
		reply(w, err)
		return
	}
	resp, err := s.doAsk(r.Context(), in, req.DryRun, run)
	if err != nil {
		reply(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// doAsk plans, records the model proposals that were refused, submits the
// plan's actions and (with run) runs those allowed outright. The HTTP API
// and D-Bus share it.
func (s *Server) doAsk(ctx context.Context, in app.PlanInput, dry, run bool) (*api.AskResponse, error) {
	out, subs := app.Plan(ctx, s.app.Runtime, s.planner, in)
	resp := &api.AskResponse{Plan: out, Actions: []*action.Envelope{}}
	if len(out.Refused) > 0 {
		if err := acquire(ctx, s.writes); err != nil {
			return nil, err
		}
		for _, ref := range out.Refused {
			s.app.Runtime.Reject(ctx, runtime.Submission{Subject: identity.Agent(out.Model, in.Human.Via), Draft: action.Draft{Action: ref.Action, Reason: in.Text}},
				"model_call_refused", errors.New(ref.Tool+": "+ref.Reason))
		}
		<-s.writes
	}
	if dry || (out.Status != translate.Ready && out.Status != translate.Partial) {
		return resp, nil
	}
	for _, sub := range subs {
		env, err := s.submitOne(ctx, sub)
		if err != nil {
			status, code := api.Classify(err)
			if status >= 500 && code != api.CodeCanceled {
				return nil, err
			}
			resp.Rejected = append(resp.Rejected, api.Rejected{Action: sub.Draft.Action, Error: api.ErrorBody{Code: code, Message: err.Error()}})
			continue
		}
		resp.Actions = append(resp.Actions, env)
	}
	if run {
		for i, env := range resp.Actions {
			done, err := s.runIfApproved(ctx, env)
			if err != nil {
				return nil, err
			}
			resp.Actions[i] = done
		}
	}
	return resp, nil
}

// submitOne submits within the write bound.
func (s *Server) submitOne(ctx context.Context, sub runtime.Submission) (*action.Envelope, error) {
	if err := acquire(ctx, s.writes); err != nil {
		return nil, err
	}
	defer func() { <-s.writes }()
	return s.app.Runtime.Submit(ctx, sub)
}

// runIfApproved runs an APPROVED live action to its final state; other
// actions are returned as they are.
func (s *Server) runIfApproved(ctx context.Context, env *action.Envelope) (*action.Envelope, error) {
	st := env.Execution.State
	if (st != action.Approved && st != action.Queued) || env.Request.DryRun != action.Live {
		return env, nil
	}
	return s.runAction(ctx, env.Identity.ActionID)
}

func (s *Server) runAction(ctx context.Context, id string) (*action.Envelope, error) {
	if err := acquire(ctx, s.runs); err != nil {
		return nil, err
	}
	defer func() { <-s.runs }()
	return s.app.Runtime.Run(ctx, id)
}

func runFlag(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("run")
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, bad("run: want true or false")
	}
	return b, nil
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, c *caller) {
	run, err := runFlag(r)
	if err != nil {
		reply(w, err)
		return
	}
	data, err := readBody(r, false)
	if err != nil {
		reply(w, err)
		return
	}
	d, err := action.DecodeDraft(data)
	if err != nil {
		reply(w, bad("%v", err))
		return
	}
	if err := s.checkPaths(d.Action, d.Target); err != nil {
		reply(w, err)
		return
	}
	s.submitAndRun(w, r, runtime.Submission{Subject: c.subject, Draft: d}, run)
}

func (s *Server) submitAndRun(w http.ResponseWriter, r *http.Request, sub runtime.Submission, run bool) {
	env, err := s.submitOne(r.Context(), sub)
	if err != nil {
		fail(w, err)
		return
	}
	if run {
		if env, err = s.runIfApproved(r.Context(), env); err != nil {
			fail(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, api.ActionResponse{Action: env})
}

// checkPaths refuses relative paths in a target's path fields: over the
// API there is no working folder they could be relative to.
func (s *Server) checkPaths(name string, target json.RawMessage) error {
	e, ok := s.app.Registry.Catalog().Lookup(name)
	if !ok || len(e.Manifest.PathFields) == 0 || len(target) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(target, &m) != nil {
		return nil // the runtime's schema check says what is wrong
	}
	for _, f := range e.Manifest.PathFields {
		if f == "argv" {
			continue
		}
		if p, ok := m[f].(string); ok && p != "" && !filepath.IsAbs(p) && !strings.HasPrefix(p, "~/") {
			return bad("target.%s: want an absolute path, got %q", f, p)
		}
	}
	return nil
}

func (s *Server) listActions(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	f := state.Filter{Limit: defaultListLimit, Parent: q.Get("parent")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			reply(w, bad("limit: want a number (0 for all)"))
			return
		}
		f.Limit = n
	}
	for _, st := range q["state"] {
		if !action.State(st).Valid() {
			reply(w, bad("state: %q is not an action state", st))
			return
		}
		f.States = append(f.States, action.State(st))
	}
	envs, err := s.app.Runtime.List(r.Context(), f)
	if err != nil {
		fail(w, err)
		return
	}
	if envs == nil {
		envs = []*action.Envelope{}
	}
	writeJSON(w, http.StatusOK, api.ActionsResponse{Actions: envs})
}

func (s *Server) getAction(w http.ResponseWriter, r *http.Request, c *caller) {
	env, err := s.app.Runtime.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ActionResponse{Action: env})
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, c *caller) {
	var req api.ApproveRequest
	if err := decode(r, &req, false); err != nil {
		reply(w, err)
		return
	}
	run, err := runFlag(r)
	if err != nil {
		reply(w, err)
		return
	}
	if req.RequestHash == "" {
		reply(w, bad("request_hash: approve the exact request you were shown (its request_hash)"))
		return
	}
	env, err := s.approveOne(r.Context(), r.PathValue("id"), c.subject, req.RequestHash)
	if err != nil {
		fail(w, err)
		return
	}
	if run {
		if env, err = s.runIfApproved(r.Context(), env); err != nil {
			fail(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, api.ActionResponse{Action: env})
}

func (s *Server) approveOne(ctx context.Context, id string, who identity.Subject, hash string) (*action.Envelope, error) {
	if err := acquire(ctx, s.writes); err != nil {
		return nil, err
	}
	defer func() { <-s.writes }()
	return s.app.Runtime.Approve(ctx, id, who, hash)
}

func (s *Server) refuseOne(ctx context.Context, id string, who identity.Subject, reason string) (*action.Envelope, error) {
	if err := acquire(ctx, s.writes); err != nil {
		return nil, err
	}
	defer func() { <-s.writes }()
	return s.app.Runtime.Refuse(ctx, id, who, reason)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, c *caller) {
	var req api.RefuseRequest
	if err := decode(r, &req, true); err != nil {
		reply(w, err)
		return
	}
	if len(req.Reason) > maxTextBytes {
		reply(w, bad("reason: over %d bytes", maxTextBytes))
		return
	}
	env, err := s.refuseOne(r.Context(), r.PathValue("id"), c.subject, req.Reason)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ActionResponse{Action: env})
}

func (s *Server) run(w http.ResponseWriter, r *http.Request, c *caller) {
	if err := decode(r, &struct{}{}, true); err != nil {
		reply(w, err)
		return
	}
	env, err := s.runAction(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ActionResponse{Action: env})
}

func (s *Server) undo(w http.ResponseWriter, r *http.Request, c *caller) {
	if err := decode(r, &struct{}{}, true); err != nil {
		reply(w, err)
		return
	}
	run, err := runFlag(r)
	if err != nil {
		reply(w, err)
		return
	}
	env, err := func() (*action.Envelope, error) {
		if err := acquire(r.Context(), s.writes); err != nil {
			return nil, err
		}
		defer func() { <-s.writes }()
		return s.app.Runtime.Undo(r.Context(), r.PathValue("id"), c.subject)
	}()
	if err != nil {
		fail(w, err)
		return
	}
	if run {
		if env, err = s.runIfApproved(r.Context(), env); err != nil {
			fail(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, api.ActionResponse{Action: env})
}

// fsAction submits one of the AIOS-FS actions with the body as its
// target. The actions belong to the files adapter; when it does not offer
// them the answer is 404 unknown_action.
func (s *Server) fsAction(name string) func(http.ResponseWriter, *http.Request, *caller) {
	return func(w http.ResponseWriter, r *http.Request, c *caller) {
		var target any
		switch name {
		case "fs.search":
			var t api.FSSearchRequest
			if err := decode(r, &t, false); err != nil {
				reply(w, err)
				return
			}
			if strings.TrimSpace(t.Query) == "" {
				reply(w, bad("query: say what to look for"))
				return
			}
			target = t
		case "fs.history":
			var t api.FSHistoryRequest
			if err := decode(r, &t, false); err != nil {
				reply(w, err)
				return
			}
			target = t
		case "fs.rollback":
			var t api.FSRollbackRequest
			if err := decode(r, &t, false); err != nil {
				reply(w, err)
				return
			}
			target = t
		}
		raw, err := json.Marshal(target)
		if err != nil {
			fail(w, err)
			return
		}
		if _, ok := s.app.Registry.Catalog().Lookup(name); !ok {
			writeError(w, http.StatusNotFound, api.CodeUnknownAction, fmt.Sprintf("unknown action %q: this build does not offer it", name))
			return
		}
		if err := s.checkPaths(name, raw); err != nil {
			reply(w, err)
			return
		}
		run, err := runFlag(r)
		if err != nil {
			reply(w, err)
			return
		}
		s.submitAndRun(w, r, runtime.Submission{Subject: c.subject, Draft: action.Draft{Action: name, Target: raw}}, run)
	}
}

func (s *Server) policyShow(w http.ResponseWriter, r *http.Request, c *caller) {
	set := s.app.Policy.Set()
	out := api.PolicyResponse{Version: set.Version, Rules: set.Rules}
	if s.app.PolicyLoad.Err != nil {
		out.LoadError = s.app.PolicyLoad.Err.Error()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) policyTest(w http.ResponseWriter, r *http.Request, c *caller) {
	var req api.PolicyTestRequest
	if err := decode(r, &req, false); err != nil {
		reply(w, err)
		return
	}
	d := action.Draft{Action: req.Action, Target: req.Target, Tainted: req.Tainted}
	if err := d.Check(); err != nil {
		reply(w, bad("%v", err))
		return
	}
	e, ok := s.app.Registry.Catalog().Lookup(req.Action)
	if !ok {
		writeError(w, http.StatusNotFound, api.CodeUnknownAction, fmt.Sprintf("unknown action %q", req.Action))
		return
	}
	if len(d.Target) > 0 {
		cwd := s.app.Paths.UserHome
		if req.Cwd != "" {
			if !filepath.IsAbs(req.Cwd) {
				reply(w, bad("cwd: want an absolute path"))
				return
			}
			cwd = req.Cwd
		}
		t, err := app.Absolutize(d.Target, e.Manifest.PathFields, cwd, s.app.Paths.UserHome)
		if err != nil {
			reply(w, bad("target: %v", err))
			return
		}
		d.Target = t
	}
	subj := c.subject
	if req.AI {
		subj = identity.Agent("policy-test", c.subject.Via)
	}
	env, dec, err := s.app.Runtime.Assess(r.Context(), runtime.Submission{Subject: subj, Draft: d})
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.PolicyTestResponse{Decision: dec, Request: env.Request, Preview: env.Execution.Preview})
}

func (s *Server) logList(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	eq := evindex.Query{ActionID: q.Get("action"), CorrelationID: q.Get("correlation"), Type: q.Get("type")}
	if v := q.Get("since"); v != "" {
		t, err := parseSince(v, time.Now())
		if err != nil {
			reply(w, err)
			return
		}
		eq.Since = t
	}
	if v := q.Get("until"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			reply(w, bad("until: want an RFC 3339 time"))
			return
		}
		eq.Until = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			reply(w, bad("limit: want a number"))
			return
		}
		eq.Limit = n
	}
	if v := q.Get("newest"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			reply(w, bad("newest: want true or false"))
			return
		}
		eq.Newest = b
	}
	hits, err := s.withIndex(r.Context(), func(idx *evindex.Index) ([]evindex.Hit, error) { return idx.Find(r.Context(), eq) })
	if err != nil {
		fail(w, err)
		return
	}
	out := api.LogListResponse{Records: []api.LogRecord{}}
	for _, h := range hits {
		out.Records = append(out.Records, api.LogRecord{ID: h.ID, Type: h.Type, ActionID: h.ActionID, CorrelationID: h.CorrelationID, Subject: h.Subject, Time: h.Time, Seq: h.Seq})
	}
	writeJSON(w, http.StatusOK, out)
}

// parseSince reads a duration ago (1h) or an RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, bad("since: want a duration (1h) or an RFC 3339 time")
	}
	return t, nil
}

// withIndex runs fn on the evidence index, one request at a time: the
// index catches up from the segments inside each query, and two catch-ups
// at once would collide.
func (s *Server) withIndex(ctx context.Context, fn func(*evindex.Index) ([]evindex.Hit, error)) ([]evindex.Hit, error) {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	idx, err := s.evidenceIndex(ctx)
	if err != nil {
		return nil, err
	}
	return fn(idx)
}

func (s *Server) logShow(w http.ResponseWriter, r *http.Request, c *caller) {
	var withProof bool
	if v := r.URL.Query().Get("proof"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			reply(w, bad("proof: want true or false"))
			return
		}
		withProof = b
	}
	var rec *evidence.Record
	_, err := s.withIndex(r.Context(), func(idx *evindex.Index) ([]evindex.Hit, error) {
		var err error
		rec, err = idx.Get(r.Context(), r.PathValue("id"))
		return nil, err
	})
	if err != nil {
		if strings.HasSuffix(err.Error(), "not found") {
			writeError(w, http.StatusNotFound, api.CodeNotFound, err.Error())
			return
		}
		fail(w, err)
		return
	}
	out := api.LogShowResponse{Record: rec}
	if withProof {
		pub := s.app.Evidence.PublicKey()
		pr, err := evidence.ProveInclusion(r.Context(), s.app.Paths.Evidence(), pub, rec.Seq)
		if err != nil {
			fail(w, err)
			return
		}
		out.Proof, out.PublicKey = pr, pub.String()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) logVerify(w http.ResponseWriter, r *http.Request, c *caller) {
	var opts evidence.VerifyOptions
	if v := r.URL.Query().Get("all_signatures"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			reply(w, bad("all_signatures: want true or false"))
			return
		}
		opts.AllSignatures = b
	}
	// One verification at a time: it reads the whole log.
	s.verifyMu.Lock()
	defer s.verifyMu.Unlock()
	rep, err := evidence.Verify(r.Context(), s.app.Paths.Evidence(), s.app.Evidence.PublicKey(), opts)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) loginLink(w http.ResponseWriter, r *http.Request, c *caller) {
	if err := decode(r, &struct{}{}, true); err != nil {
		reply(w, err)
		return
	}
	if s.httpURL == "" {
		writeError(w, http.StatusConflict, api.CodeConflict, "the daemon serves no HTTP (started with --listen off)")
		return
	}
	code, exp := s.auth.newLoginCode(time.Now())
	writeJSON(w, http.StatusCreated, api.LoginLinkResponse{URL: s.httpURL + "/login?code=" + url.QueryEscape(code), ExpiresAt: exp.UTC()})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *caller) {
	sess, ok := s.auth.redeem(r.URL.Query().Get("code"), time.Now())
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintln(w, "This login link is not valid: it was used already or has expired. Run `noema web` for a new one.")
		return
	}
	// Who can act through the API is worth a record: a browser now can,
	// until the session expires.
	s.record(r.Context(), "server.session_opened", map[string]any{"expires_at": sess.expires.UTC(), "user_agent": truncate(r.UserAgent(), 200)})
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sess.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		MaxAge: int(sessionTTL / time.Second),
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) sessionInfo(w http.ResponseWriter, r *http.Request, c *caller) {
	if c.session == nil {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "not a browser session")
		return
	}
	writeJSON(w, http.StatusOK, api.SessionResponse{Subject: c.subject, CSRFToken: c.session.csrf, ExpiresAt: c.session.expires.UTC()})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *caller) {
	if c.session != nil {
		s.auth.end(c.session.id)
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	}
	w.WriteHeader(http.StatusNoContent)
}

// ui serves the web pages, or a placeholder when this build has none.
func (s *Server) ui(w http.ResponseWriter, r *http.Request, c *caller) {
	if s.cfg.UI != nil {
		s.cfg.UI.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Noema</title></head>`+
		`<body><h1>Noema</h1><p>The daemon is running. This build has no web pages; the API is described at `+
		`<a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>`)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
