// Package client talks to a running Noema daemon over its Unix socket (or
// its HTTP API with the bearer token). The CLI uses it so that, while the
// daemon runs, there is one owner of the state; errors come back as the
// pipeline's own (errors.Is works as it would in process).
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/noema-project/noema/action"
	"github.com/noema-project/noema/evidence"
	"github.com/noema-project/noema/internal/app"
	"github.com/noema-project/noema/runtime"
	"github.com/noema-project/noema/server/api"
)

// Client calls the daemon's API.
type Client struct {
	hc     *http.Client
	base   string
	token  string
	header http.Header
}

// Unix returns a client for the daemon's socket. via "cli" asks the
// daemon to record actions as coming through the CLI (the daemon honours
// it only from its own user on the socket).
func Unix(socket, via string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 4,
		DisableCompression:  true,
	}
	c := &Client{hc: &http.Client{Transport: tr}, base: "http://noema", header: http.Header{}}
	if via != "" {
		c.header.Set(api.ViaHeader, via)
	}
	return c
}

// HTTP returns a client for the HTTP API at base (http://127.0.0.1:7717)
// with the bearer token.
func HTTP(base, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{hc: hc, base: strings.TrimSuffix(base, "/"), token: token, header: http.Header{}}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Find returns a client for the daemon at socket when one answers there
// and serves the state in home, with its status; nil when no daemon runs
// (no socket, or a stale one) or it serves another NOEMA_HOME. A daemon
// that is there but does not answer is an error: working beside it would
// only wait for its lock.
func Find(ctx context.Context, socket, home, via string) (*Client, *api.Status, error) {
	if _, err := os.Stat(socket); err != nil {
		return nil, nil, nil
	}
	c := Unix(socket, via)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		c.Close()
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, nil, nil
		}
		var ae *Error
		if errors.As(err, &ae) {
			return nil, nil, fmt.Errorf("the noema daemon at %s refused this process: %w", socket, err)
		}
		return nil, nil, fmt.Errorf("the noema daemon at %s does not answer: %w", socket, err)
	}
	if st.Home != home {
		c.Close()
		return nil, nil, nil
	}
	return c, st, nil
}

// Error is an error answer from the daemon.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, runtime.ErrUnknownAction) and the like hold for
// the daemon's answers as for the pipeline's own errors.
func (e *Error) Is(target error) bool {
	s := api.Sentinel(e.Code)
	return s != nil && s == target
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("noema daemon: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("noema daemon: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e api.Error
		if json.Unmarshal(data, &e) != nil || e.Error.Code == "" {
			return &Error{Status: resp.StatusCode, Code: api.CodeInternal, Message: fmt.Sprintf("noema daemon: %s: %s", resp.Status, bytes.TrimSpace(data))}
		}
		ae := &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
		if api.IsRejection(ae.Code) {
			return &runtime.RejectedError{Code: ae.Code, Err: ae}
		}
		return ae
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("noema daemon: decode %s %s: %w", method, path, err)
	}
	return nil
}

func runQuery(run bool) url.Values {
	if run {
		return nil
	}
	return url.Values{"run": {"false"}}
}

// Status describes the daemon.
func (c *Client) Status(ctx context.Context) (*api.Status, error) {
	var st api.Status
	return &st, c.do(ctx, "GET", "/api/status", nil, nil, &st)
}

// Manifest returns one action type of the daemon's catalog.
func (c *Client) Manifest(ctx context.Context, name string) (*action.Manifest, error) {
	var m action.Manifest
	return &m, c.do(ctx, "GET", "/api/catalog/"+url.PathEscape(name), nil, nil, &m)
}

// Plan plans words; nothing executes.
func (c *Client) Plan(ctx context.Context, req api.PlanRequest) (*app.PlanResult, error) {
	var out app.PlanResult
	return &out, c.do(ctx, "POST", "/api/plan", nil, req, &out)
}

// Ask plans and submits; with run, allowed actions run to their end.
func (c *Client) Ask(ctx context.Context, req api.AskRequest, run bool) (*api.AskResponse, error) {
	var out api.AskResponse
	return &out, c.do(ctx, "POST", "/api/ask", runQuery(run), req, &out)
}

// Submit submits a draft; with run, an allowed action runs to its end.
func (c *Client) Submit(ctx context.Context, d action.Draft, run bool) (*action.Envelope, error) {
	var out api.ActionResponse
	err := c.do(ctx, "POST", "/api/actions", runQuery(run), d, &out)
	return out.Action, err
}

// Get returns one action.
func (c *Client) Get(ctx context.Context, id string) (*action.Envelope, error) {
	var out api.ActionResponse
	err := c.do(ctx, "GET", "/api/actions/"+url.PathEscape(id), nil, nil, &out)
	return out.Action, err
}

// List returns recent actions, newest first; limit 0 lists all.
func (c *Client) List(ctx context.Context, limit int, states ...action.State) ([]*action.Envelope, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	for _, s := range states {
		q.Add("state", string(s))
	}
	var out api.ActionsResponse
	err := c.do(ctx, "GET", "/api/actions", q, nil, &out)
	return out.Actions, err
}

// Approve approves the request with hash; with run, runs it to its end.
func (c *Client) Approve(ctx context.Context, id, hash string, run bool) (*action.Envelope, error) {
	var out api.ActionResponse
	err := c.do(ctx, "POST", "/api/actions/"+url.PathEscape(id)+"/approve", runQuery(run), api.ApproveRequest{RequestHash: hash}, &out)
	return out.Action, err
}

// Refuse refuses a pending action.
func (c *Client) Refuse(ctx context.Context, id, reason string) (*action.Envelope, error) {
	var out api.ActionResponse
	err := c.do(ctx, "POST", "/api/actions/"+url.PathEscape(id)+"/refuse", nil, api.RefuseRequest{Reason: reason}, &out)
	return out.Action, err
}

// Run runs an approved action and waits for its final state.
func (c *Client) Run(ctx context.Context, id string) (*action.Envelope, error) {
	var out api.ActionResponse
	err := c.do(ctx, "POST", "/api/actions/"+url.PathEscape(id)+"/run", nil, nil, &out)
	return out.Action, err
}

// Undo undoes a succeeded action; with run, an allowed undo runs.
func (c *Client) Undo(ctx context.Context, id string, run bool) (*action.Envelope, error) {
	var out api.ActionResponse
	err := c.do(ctx, "POST", "/api/actions/"+url.PathEscape(id)+"/undo", runQuery(run), nil, &out)
	return out.Action, err
}

// LogQuery selects evidence records.
type LogQuery struct {
	ActionID, CorrelationID, Type string
	Since                         time.Time
	Limit                         int
	Newest                        bool
}

// Log lists evidence records.
func (c *Client) Log(ctx context.Context, q LogQuery) ([]api.LogRecord, error) {
	v := url.Values{}
	for k, s := range map[string]string{"action": q.ActionID, "correlation": q.CorrelationID, "type": q.Type} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Newest {
		v.Set("newest", "true")
	}
	var out api.LogListResponse
	err := c.do(ctx, "GET", "/api/log", v, nil, &out)
	return out.Records, err
}

// Verify checks the evidence log.
func (c *Client) Verify(ctx context.Context) (*evidence.Report, error) {
	var rep evidence.Report
	return &rep, c.do(ctx, "GET", "/api/log/verify", nil, nil, &rep)
}

// LoginLink asks for a one-time browser login link.
func (c *Client) LoginLink(ctx context.Context) (*api.LoginLinkResponse, error) {
	var out api.LoginLinkResponse
	return &out, c.do(ctx, "POST", "/api/login-links", nil, nil, &out)
}

// Event is one server-sent event of the evidence stream.
type Event struct {
	ID     string
	Type   string
	Record *evidence.Record
	Data   string
}

// Stream follows the evidence stream, calling fn for each event until fn
// returns an error, ctx ends or the daemon closes the stream. since (when
// not empty) resumes after that record sequence number.
func (c *Client) Stream(ctx context.Context, since string, query url.Values, fn func(Event) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/log/stream?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if since != "" {
		req.Header.Set("Last-Event-ID", since)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("noema daemon: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("noema daemon: %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	err = readEvents(resp.Body, fn)
	var stop *stopError
	switch {
	case errors.As(err, &stop):
		return stop.err
	case err != nil && ctx.Err() != nil:
		return nil // the caller ended the stream
	}
	return err
}

// stopError carries the error fn returned, to tell it from a read error.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

// readEvents parses a server-sent event stream, calling fn for each event.
func readEvents(r io.Reader, fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ev Event
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if ev.Type == "" && ev.Data == "" {
				continue
			}
			if ev.Type == "" {
				ev.Type = "message"
			}
			if ev.Type == "record" {
				var r evidence.Record
				if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
					return fmt.Errorf("noema daemon: bad record event: %w", err)
				}
				ev.Record = &r
			}
			if err := fn(ev); err != nil {
				return &stopError{err}
			}
			ev = Event{}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Type = value
		case "data":
			if ev.Data != "" {
				ev.Data += "\n"
			}
			ev.Data += value
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("noema daemon: %w", err)
	}
	return nil
}
