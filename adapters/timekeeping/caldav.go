package timekeeping

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"
)

// maxReportBytes caps a calendar-query answer.
const maxReportBytes = 64 << 20

// calDAV keeps events in a CalDAV calendar collection (RFC 4791), one
// object per event at <collection>/<uid>.ics. Discovery of the collection
// uses go-webdav; object reads, writes and the calendar-query report are
// done here so that every iCalendar body passes through decodeICS and its
// limits.
type calDAV struct {
	opts CalDAVOptions
	base *url.URL
	http *authClient
	dav  *caldav.Client
	loc  *time.Location

	mu         sync.Mutex
	collection string // resolved calendar path, with a trailing slash
}

// authClient adds the configured credentials to every request.
type authClient struct {
	c                     *http.Client
	user, password, token string
}

func (a *authClient) Do(req *http.Request) (*http.Response, error) {
	switch {
	case a.token != "":
		req.Header.Set("Authorization", "Bearer "+a.token)
	case a.user != "" || a.password != "":
		req.SetBasicAuth(a.user, a.password)
	}
	return a.c.Do(req)
}

func newCalDAV(opts CalDAVOptions, loc *time.Location) (*calDAV, error) {
	base, err := url.Parse(opts.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("CalDAV URL %q is not an http(s) URL", opts.URL)
	}
	if base.User != nil {
		return nil, errors.New("CalDAV URL must not carry credentials; set the user and password options")
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: opts.Timeout}
	}
	ac := &authClient{c: hc, user: opts.User, password: opts.Password, token: opts.Token}
	dav, err := caldav.NewClient(ac, base.String())
	if err != nil {
		return nil, fmt.Errorf("CalDAV client: %w", err)
	}
	c := &calDAV{opts: opts, base: base, http: ac, dav: dav, loc: loc}
	if opts.CalendarPath != "" {
		c.collection = collectionPath(opts.CalendarPath)
	}
	return c, nil
}

func collectionPath(p string) string {
	p = path.Clean("/" + p)
	if p != "/" {
		p += "/"
	}
	return p
}

func (c *calDAV) Where() string {
	u := *c.base
	c.mu.Lock()
	if c.collection != "" {
		u.Path = c.collection
	}
	c.mu.Unlock()
	return u.String()
}

// calendarPath returns the collection, discovering it on first use: the
// user's principal, its calendar home, and the first calendar there that
// holds events.
func (c *calDAV) calendarPath(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.collection != "" {
		return c.collection, nil
	}
	principal, err := c.dav.FindCurrentUserPrincipal(ctx)
	if err != nil {
		return "", fmt.Errorf("CalDAV server %s: find the user's principal: %w", c.base.Redacted(), err)
	}
	home, err := c.dav.FindCalendarHomeSet(ctx, principal)
	if err != nil {
		return "", fmt.Errorf("CalDAV server %s: find the calendar home of %s: %w", c.base.Redacted(), principal, err)
	}
	cals, err := c.dav.FindCalendars(ctx, home)
	if err != nil {
		return "", fmt.Errorf("CalDAV server %s: list calendars in %s: %w", c.base.Redacted(), home, err)
	}
	for _, cal := range cals {
		if len(cal.SupportedComponentSet) == 0 || slices.ContainsFunc(cal.SupportedComponentSet, func(s string) bool { return strings.EqualFold(s, ical.CompEvent) }) {
			c.collection = collectionPath(cal.Path)
			return c.collection, nil
		}
	}
	return "", fmt.Errorf("CalDAV server %s has no calendar for events in %s; create one or set the calendar path", c.base.Redacted(), home)
}

func (c *calDAV) objectPath(ctx context.Context, uid, ref string) (string, error) {
	if ref != "" {
		return ref, nil
	}
	col, err := c.calendarPath(ctx)
	if err != nil {
		return "", err
	}
	return col + url.PathEscape(uid) + ".ics", nil
}

// do sends one request to a path on the server.
func (c *calDAV) do(ctx context.Context, method, p string, body []byte, header http.Header) (*http.Response, error) {
	u := c.base.ResolveReference(&url.URL{Path: p})
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("CalDAV server %s is unreachable: %w", c.base.Redacted(), err)
		var op *net.OpError
		if body != nil && !(errors.As(err, &op) && op.Op == "dial") {
			// The request may have reached the server.
			err = &uncertainError{err}
		}
		return nil, err
	}
	return resp, nil
}

// uncertainError is a failed write whose effect on the server is unknown.
type uncertainError struct{ error }

func (e *uncertainError) Unwrap() error { return e.error }

// statusError describes a failed request, with the start of the server's
// explanation.
func statusError(op string, resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	hint := ""
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = " (check the CalDAV user and password or token)"
	case http.StatusNotFound, http.StatusConflict:
		hint = " (does the calendar collection exist?)"
	}
	text := strings.TrimSpace(string(msg))
	if text != "" {
		text = ": " + text
	}
	return fmt.Errorf("CalDAV %s: server answered %s%s%s", op, resp.Status, hint, text)
}

func (c *calDAV) Put(ctx context.Context, uid string, ev *ical.Component) (string, error) {
	p, err := c.objectPath(ctx, uid, "")
	if err != nil {
		return "", err
	}
	cal := newCalendar()
	cal.Children = append(cal.Children, ev)
	data, err := encodeICS([]*ical.Calendar{cal})
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, http.MethodPut, p, data, http.Header{
		"Content-Type":  {"text/calendar; charset=utf-8"},
		"If-None-Match": {"*"}, // never replace an existing object
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return "", statusError("create "+p, resp)
	}
	return p, nil
}

func (c *calDAV) Get(ctx context.Context, uid, ref string) (Event, bool, error) {
	p, err := c.objectPath(ctx, uid, ref)
	if err != nil {
		return Event{}, false, err
	}
	resp, err := c.do(ctx, http.MethodGet, p, nil, http.Header{"Accept": {"text/calendar"}})
	if err != nil {
		return Event{}, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		return Event{}, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return Event{}, false, statusError("read "+p, resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxICSBytes+1))
	if err != nil {
		return Event{}, false, fmt.Errorf("CalDAV read %s: %w", p, err)
	}
	cals, err := decodeICS(data)
	if err != nil {
		return Event{}, false, fmt.Errorf("CalDAV object %s: %w", p, err)
	}
	v, ok := parseEvents(cals, c.loc).byUID(uid)
	return v.Event, ok, nil
}

func (c *calDAV) Delete(ctx context.Context, uid, ref string) (bool, error) {
	p, err := c.objectPath(ctx, uid, ref)
	if err != nil {
		return false, err
	}
	resp, err := c.do(ctx, http.MethodDelete, p, nil, nil)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent, http.StatusAccepted:
		return true, nil
	case http.StatusNotFound, http.StatusGone:
		return false, nil
	}
	return false, statusError("delete "+p, resp)
}

// calendarQuery is the REPORT body for events overlapping a time range
// (RFC 4791 section 7.8). The server expands recurrences to decide which
// objects match; Between then expands them again to list occurrences.
const calendarQuery = `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="%s" end="%s"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>`

func (c *calDAV) Between(ctx context.Context, from, to time.Time) ([]Event, []string, error) {
	col, err := c.calendarPath(ctx)
	if err != nil {
		return nil, nil, err
	}
	const f = "20060102T150405Z"
	body := fmt.Sprintf(calendarQuery, from.UTC().Format(f), to.UTC().Format(f))
	resp, err := c.do(ctx, "REPORT", col, []byte(body), http.Header{
		"Content-Type": {"application/xml; charset=utf-8"},
		"Depth":        {"1"},
	})
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return nil, nil, statusError("query "+col, resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("CalDAV query %s: %w", col, err)
	}
	objs, err := parseMultistatus(data)
	if err != nil {
		return nil, nil, fmt.Errorf("CalDAV query %s: %w", col, err)
	}
	var all parsedCalendar
	for _, o := range objs {
		cals, err := decodeICS([]byte(o.data))
		if err != nil {
			all.skipped = append(all.skipped, fmt.Sprintf("%s: %v", o.href, err))
			continue
		}
		p := parseEvents(cals, c.loc)
		all.events = append(all.events, p.events...)
		all.skipped = append(all.skipped, p.skipped...)
	}
	return all.eventsBetween(from, to), all.skipped, nil
}

// davObject is one calendar object in a multistatus answer.
type davObject struct {
	href, data string
}

// parseMultistatus reads the calendar objects out of a REPORT answer
// (RFC 4918 multistatus with CalDAV calendar-data), ignoring responses
// whose propstat failed.
func parseMultistatus(data []byte) ([]davObject, error) {
	if len(data) > maxReportBytes {
		return nil, fmt.Errorf("answer larger than %d bytes", maxReportBytes)
	}
	var ms struct {
		Responses []struct {
			Href     string `xml:"DAV: href"`
			Propstat []struct {
				Status string `xml:"DAV: status"`
				Prop   struct {
					Data string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
				} `xml:"DAV: prop"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal(data, &ms); err != nil {
		return nil, fmt.Errorf("malformed multistatus: %w", err)
	}
	var out []davObject
	for _, r := range ms.Responses {
		for _, ps := range r.Propstat {
			if ps.Prop.Data == "" || !statusOK(ps.Status) {
				continue
			}
			out = append(out, davObject{href: r.Href, data: ps.Prop.Data})
		}
	}
	return out, nil
}

// statusOK reads "HTTP/1.1 200 OK"; an absent status counts as success.
func statusOK(s string) bool {
	f := strings.Fields(s)
	return len(f) < 2 || strings.HasPrefix(f[1], "2")
}
