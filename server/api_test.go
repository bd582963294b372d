package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/server/api"
	"github.com/noema-project/noema/server/client"
	"github.com/noema-project/noema/state"
)

// A typed action submitted over the socket and over HTTP runs, is
// verified against the real file, is recorded as evidence linked to the
// action, and the chain verifies. The subject is the caller's user, with
// the door it came through.
func TestSubmitOverSocketAndHTTP(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	ctx := context.Background()
	file := filepath.Join(e.work(), "a.txt")
	cli := client.Unix(d.info.Socket, "cli")
	defer cli.Close()
	env, err := cli.Submit(ctx, action.Draft{Action: "fs.write", Target: json.RawMessage(fmt.Sprintf(`{"path":%q,"content":"hello\n"}`, file))}, true)
	if err != nil {
		t.Fatal(err)
	}
	if env.Execution.State != action.Succeeded {
		t.Fatalf("state %s: %+v", env.Execution.State, env.Execution.Error)
	}
	if b, _ := os.ReadFile(file); string(b) != "hello\n" {
		t.Fatalf("file holds %q", b)
	}
	subj := env.Request.Subject
	if subj.ID != fmt.Sprintf("uid:%d", os.Getuid()) || subj.Via != "cli" || subj.IsAI {
		t.Fatalf("subject %+v", subj)
	}

	httpc := client.HTTP(d.info.HTTP, e.token(t), nil)
	env2, err := httpc.Submit(ctx, action.Draft{Action: "fs.write", Target: json.RawMessage(fmt.Sprintf(`{"path":%q,"content":"two\n"}`, file))}, true)
	if err != nil {
		t.Fatal(err)
	}
	if env2.Execution.State != action.Succeeded || env2.Request.Subject.Via != "api" {
		t.Fatalf("over HTTP: %s via %s", env2.Execution.State, env2.Request.Subject.Via)
	}
	recs, err := httpc.Log(ctx, client.LogQuery{ActionID: env.Identity.ActionID})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 5 || len(recs) != len(env.Execution.Evidence) {
		t.Fatalf("%d records for the action, envelope lists %d", len(recs), len(env.Execution.Evidence))
	}
	for i, r := range recs {
		if r.ActionID != env.Identity.ActionID || r.ID != env.Execution.Evidence[i] {
			t.Fatalf("record %d: %+v, envelope has %s", i, r, env.Execution.Evidence[i])
		}
	}
	rep, err := httpc.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	got, err := cli.Get(ctx, env.Identity.ActionID)
	if err != nil || got.RequestHash != env.RequestHash {
		t.Fatalf("get: %v", err)
	}
	list, err := cli.List(ctx, 10)
	if err != nil || len(list) != 2 || list[0].Identity.ActionID != env2.Identity.ActionID {
		t.Fatalf("list: %v %d", err, len(list))
	}
	undone, err := cli.Undo(ctx, env2.Identity.ActionID, true)
	if err != nil || undone.Execution.State != action.Succeeded || undone.Identity.ParentActionID != env2.Identity.ActionID {
		t.Fatalf("undo: %v %+v", err, undone)
	}
	if b, _ := os.ReadFile(file); string(b) != "hello\n" {
		t.Fatalf("after undo the file holds %q", b)
	}
}

// Approval binds to the exact request hash; a refusal ends the action;
// the errors come back as the pipeline's own.
func TestApproveAndRefuse(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	ctx := context.Background()
	cli := client.Unix(d.info.Socket, "")
	defer cli.Close()
	victim := filepath.Join(e.work(), "victim.txt")
	os.WriteFile(victim, []byte("x"), 0o644)
	target := json.RawMessage(fmt.Sprintf(`{"path":%q}`, victim))
	env, err := cli.Submit(ctx, action.Draft{Action: "fs.delete", Target: target}, true)
	if err != nil {
		t.Fatal(err)
	}
	if env.Execution.State != action.ApprovalPending {
		t.Fatalf("state %s, want APPROVAL_PENDING", env.Execution.State)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatal("deleted before approval")
	}
	_, err = cli.Approve(ctx, env.Identity.ActionID, strings.Repeat("0", 64), true)
	if !errors.Is(err, runtime.ErrHashMismatch) {
		t.Fatalf("approval of another hash: %v", err)
	}
	done, err := cli.Approve(ctx, env.Identity.ActionID, env.RequestHash, true)
	if err != nil || done.Execution.State != action.Succeeded {
		t.Fatalf("approve: %v %+v", err, done)
	}
	if _, err := os.Stat(victim); err == nil {
		t.Fatal("not deleted after approval")
	}
	if _, err := cli.Approve(ctx, env.Identity.ActionID, env.RequestHash, true); !errors.Is(err, runtime.ErrWrongState) {
		t.Fatalf("second approval: %v", err)
	}

	os.WriteFile(victim, []byte("y"), 0o644)
	env, err = cli.Submit(ctx, action.Draft{Action: "fs.delete", Target: target}, true)
	if err != nil {
		t.Fatal(err)
	}
	refused, err := cli.Refuse(ctx, env.Identity.ActionID, "not today")
	if err != nil || refused.Execution.State != action.PolicyDenied || refused.Execution.ReasonCode != "refused_by_human" {
		t.Fatalf("refuse: %v %+v", err, refused)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatal("deleted after refusal")
	}
	if _, err := cli.Get(ctx, "act_nonesuch"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := cli.Submit(ctx, action.Draft{Action: "no.such"}, true); !errors.Is(err, runtime.ErrUnknownAction) {
		t.Fatalf("unknown action: %v", err)
	}
	var re *runtime.RejectedError
	if _, err := cli.Submit(ctx, action.Draft{Action: "desktop.theme.set", Target: json.RawMessage(`{"mode":"purple"}`)}, true); !errors.As(err, &re) || re.Code != api.CodeInvalidTarget {
		t.Fatalf("bad target: %v", err)
	}
	if _, err := cli.Undo(ctx, refused.Identity.ActionID, true); !errors.Is(err, runtime.ErrCannotUndo) {
		t.Fatalf("undo of a refused action: %v", err)
	}
}

// Ask plans and submits: allowed steps run, the rest wait; plan executes
// nothing; fs.* endpoints submit their actions by name, answering 404
// while the catalog lacks them.
func TestPlanAskAndFS(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	ctx := context.Background()
	cli := client.Unix(d.info.Socket, "")
	defer cli.Close()
	file := filepath.Join(e.work(), "note.txt")
	pl, err := cli.Plan(ctx, api.PlanRequest{Text: "write hello to " + file})
	if err != nil || pl.Status != "READY" || len(pl.Actions) != 1 || pl.Actions[0].Decision != "ALLOW" {
		t.Fatalf("plan: %v %+v", err, pl)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("plan executed something")
	}
	resp, err := cli.Ask(ctx, api.AskRequest{PlanRequest: api.PlanRequest{Text: "write hello to " + file}}, true)
	if err != nil || len(resp.Actions) != 1 || resp.Actions[0].Execution.State != action.Succeeded {
		t.Fatalf("ask: %v %+v", err, resp)
	}
	if b, _ := os.ReadFile(file); string(b) != "hello" {
		t.Fatalf("file holds %q", b)
	}
	resp, err = cli.Ask(ctx, api.AskRequest{PlanRequest: api.PlanRequest{Text: "delete " + file}}, true)
	if err != nil || len(resp.Actions) != 1 || resp.Actions[0].Execution.State != action.ApprovalPending {
		t.Fatalf("ask delete: %v %+v", err, resp)
	}
	resp, err = cli.Ask(ctx, api.AskRequest{PlanRequest: api.PlanRequest{Text: "flibber the jabberwock"}}, true)
	if err != nil || len(resp.Actions) != 0 || resp.Plan.Status == "READY" {
		t.Fatalf("nonsense: %v %+v", err, resp)
	}

	for _, name := range []string{"search", "history", "rollback"} {
		body := map[string]string{"search": `{"query":"notes","limit":3}`, "history": fmt.Sprintf(`{"path":%q}`, file), "rollback": fmt.Sprintf(`{"path":%q,"steps":1}`, file)}[name]
		r, data := d.request(t, "POST", "/api/fs/"+name, body, d.bearer(t))
		_, known := d.serverCatalogHas("fs." + name)
		switch {
		case !known && (r.StatusCode != http.StatusNotFound || errorCode(t, data) != api.CodeUnknownAction):
			t.Errorf("fs.%s is not in the catalog: got %d %s", name, r.StatusCode, data)
		case known && name == "rollback":
			// The file was never indexed: there is no earlier version,
			// and the answer says so instead of pretending.
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), "no history") {
				t.Errorf("rollback of an unindexed file: %d %s", r.StatusCode, data)
			}
		case known && r.StatusCode != http.StatusOK:
			t.Errorf("fs.%s: %d %s", name, r.StatusCode, data)
		}
	}
	r, data := d.request(t, "POST", "/api/fs/history", `{"path":"relative.txt"}`, d.bearer(t))
	if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusNotFound {
		t.Errorf("relative path: %d %s", r.StatusCode, data)
	}

	r, data = d.request(t, "POST", "/api/policy/test", `{"action":"fs.delete","target":{"path":"/"}}`, d.bearer(t))
	var pt api.PolicyTestResponse
	if r.StatusCode != 200 || json.Unmarshal(data, &pt) != nil || pt.Decision.Effect != "DENY" || !pt.Decision.HardDeny {
		t.Fatalf("policy test: %d %s", r.StatusCode, data)
	}
	r, data = d.request(t, "POST", "/api/policy/test", `{"action":"desktop.theme.set","target":{"mode":"dark"},"ai":true}`, d.bearer(t))
	if r.StatusCode != 200 || json.Unmarshal(data, &pt) != nil || !pt.Request.Subject.IsAI {
		t.Fatalf("policy test as AI: %d %s", r.StatusCode, data)
	}
	r, data = d.request(t, "GET", "/api/policy", "", d.bearer(t))
	if r.StatusCode != 200 || !strings.Contains(string(data), "noema.default.allow-unflagged") {
		t.Fatalf("policy: %d %s", r.StatusCode, data)
	}
	r, data = d.request(t, "GET", "/api/catalog", "", d.bearer(t))
	if r.StatusCode != 200 || !strings.Contains(string(data), `"desktop.theme.set"`) {
		t.Fatalf("catalog: %d", r.StatusCode)
	}
}

func (d *testDaemon) serverCatalogHas(name string) (*action.Manifest, bool) {
	m, err := d.sock.Manifest(context.Background(), name)
	return m, err == nil
}

// Bad requests get a 4xx with a JSON error that says what was wrong;
// nothing reaches the pipeline.
func TestBadRequests(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	auth := d.bearer(t)
	cases := []struct {
		method, path, body string
		ctype              string
		status             int
		code, mentions     string
	}{
		{"POST", "/api/actions", `{"action":"fs.write","subject":{"kind":"human","id":"uid:0"}}`, "", 400, "bad_request", "subject"},
		{"POST", "/api/actions", `{"action":"desktop.theme.set","target":{"mode":"dark"},"risk":{}}`, "", 400, "bad_request", "risk"},
		{"POST", "/api/actions", `{"action":`, "", 400, "bad_request", "draft"},
		{"POST", "/api/actions", ``, "", 400, "bad_request", "body"},
		{"POST", "/api/actions", `{"action":"desktop.theme.set","target":{"mode":"dark"}} {}`, "", 400, "bad_request", "trailing"},
		{"POST", "/api/actions", `{"action":"desktop.theme.set","target":[1]}`, "", 400, "bad_request", "target"},
		{"POST", "/api/actions", `{"action":"fs.write","target":{"path":"rel.txt","content":"x"}}`, "", 400, "bad_request", "absolute"},
		{"POST", "/api/actions", `{"action":"desktop.theme.set","target":{"mode":"purple"}}`, "", 400, "invalid_target", "mode"},
		{"POST", "/api/actions", `{"action":"no.such"}`, "", 404, "unknown_action", "no.such"},
		{"POST", "/api/actions", `{"action":"desktop.theme.set","target":{"mode":"dark"}}`, "text/plain", 415, "bad_request", "application/json"},
		{"POST", "/api/actions?run=maybe", `{"action":"desktop.theme.set"}`, "", 400, "bad_request", "run"},
		{"POST", "/api/plan", `{"text":""}`, "", 400, "bad_request", "text"},
		{"POST", "/api/plan", `{"text":"hi","now":"tomorrow"}`, "", 400, "bad_request", "now"},
		{"POST", "/api/plan", `{"text":"hi","cwd":"rel"}`, "", 400, "bad_request", "cwd"},
		{"POST", "/api/plan", `{"text":5}`, "", 400, "bad_request", "text"},
		{"POST", "/api/ask", `{"text":"hi","subject":"me"}`, "", 400, "bad_request", "subject"},
		{"POST", "/api/actions/act_x/approve", `{}`, "", 400, "bad_request", "request_hash"},
		{"POST", "/api/actions/act_x/approve", `{"request_hash":"ab"}`, "", 404, "not_found", "not found"},
		{"POST", "/api/actions/act_x/refuse", ``, "", 404, "not_found", "not found"},
		{"GET", "/api/actions?limit=-1", ``, "", 400, "bad_request", "limit"},
		{"GET", "/api/actions?state=DONE", ``, "", 400, "bad_request", "state"},
		{"GET", "/api/actions/act_x", ``, "", 404, "not_found", "not found"},
		{"GET", "/api/log?since=yesterday", ``, "", 400, "bad_request", "since"},
		{"GET", "/api/log/ev_nonesuch", ``, "", 404, "not_found", "not found"},
		{"GET", "/api/log/stream?since=x", ``, "", 400, "bad_request", "since"},
		{"GET", "/api/catalog/no.such", ``, "", 404, "unknown_action", "no.such"},
		{"POST", "/api/policy/test", `{"action":"no.such"}`, "", 404, "unknown_action", "no.such"},
		{"POST", "/api/policy/test", `{"action":"NOT A NAME"}`, "", 400, "bad_request", "action name"},
		{"POST", "/api/fs/search", `{"query":""}`, "", 400, "bad_request", "query"},
		{"GET", "/api/nowhere", ``, "", 404, "not_found", "/api/nowhere"},
		{"DELETE", "/api/actions", ``, "", 405, "method_not_allowed", "DELETE"},
		{"POST", "/api/actions", strings.Repeat("x", maxBody+10), "", 413, "too_large", "bytes"},
	}
	for _, c := range cases {
		h := map[string]string{}
		for k, v := range auth {
			h[k] = v
		}
		if c.ctype != "" {
			h["Content-Type"] = c.ctype
		}
		r, data := d.request(t, c.method, c.path, c.body, h)
		if r.StatusCode != c.status {
			t.Errorf("%s %s %.60q: status %d, want %d: %s", c.method, c.path, c.body, r.StatusCode, c.status, data)
			continue
		}
		if code := errorCode(t, data); code != c.code {
			t.Errorf("%s %s %.60q: code %s, want %s", c.method, c.path, c.body, code, c.code)
		}
		if !strings.Contains(strings.ToLower(string(data)), strings.ToLower(c.mentions)) {
			t.Errorf("%s %s %.60q: error does not mention %q: %s", c.method, c.path, c.body, c.mentions, data)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: content type %q", c.method, c.path, r.Header.Get("Content-Type"))
		}
	}
	if r, _ := d.request(t, "DELETE", "/api/actions", "", auth); r.Header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
	// Nothing above became an action.
	list, err := d.sock.List(context.Background(), 0)
	if err != nil || len(list) != 0 {
		t.Fatalf("bad requests made %d actions (%v)", len(list), err)
	}
}

// The evidence the daemon writes about itself: its start and stop.
func TestDaemonRecordsStartAndStop(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	var types []string
	err := evidence.Scan(context.Background(), filepath.Join(e.vars["NOEMA_HOME"], "evidence"), evidence.Position{}, func(en evidence.Entry) error {
		if en.Record != nil {
			types = append(types, en.Record.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(types, ",") != "server.started,server.stopped" {
		t.Fatalf("records: %v", types)
	}
	if !strings.Contains(d.stderr.String(), "noema: ready in") {
		t.Fatalf("no readiness line: %s", d.stderr)
	}
}
