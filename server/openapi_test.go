package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// The OpenAPI document lists exactly the routes the daemon serves, each
// route answers at its documented path and method, and every schema
// reference resolves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, e, nil)
	r, data := d.request(t, "GET", "/api/openapi.json", "", d.bearer(t))
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range (&Server{}).table() {
		served[rt.method+" "+rt.path] = true
		if !documented[rt.method+" "+rt.path] {
			t.Errorf("route %s %s is not documented", rt.method, rt.path)
		}
	}
	var ops []string
	for op := range documented {
		ops = append(ops, op)
		if !served[op] {
			t.Errorf("documented %s is not served", op)
		}
	}
	sort.Strings(ops)

	// Each documented operation reaches its handler: whatever it answers
	// (often a 4xx for the empty request), it is not the router's "no such
	// endpoint" or "method not allowed".
	auth := d.bearer(t)
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		path = strings.NewReplacer("{id}", "x", "{name}", "x").Replace(path)
		if path == "/api/log/stream" {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			req, _ := http.NewRequestWithContext(ctx, method, d.info.HTTP+path, nil)
			req.Header.Set("Authorization", auth["Authorization"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Errorf("%s: %v", op, err)
			}
			if resp != nil {
				resp.Body.Close()
			}
			cancel()
			continue
		}
		r, body := d.request(t, method, path, "", auth)
		if r.StatusCode == http.StatusMethodNotAllowed || (r.StatusCode == 404 && strings.Contains(string(body), "no such endpoint")) {
			t.Errorf("%s is documented but not routed: %d %s", op, r.StatusCode, body)
		}
		if r.StatusCode >= 500 {
			t.Errorf("%s: %d %s", op, r.StatusCode, body)
		}
	}

	// Every $ref resolves.
	var refs []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	var whole any
	json.Unmarshal(data, &whole)
	walk(whole)
	if len(refs) == 0 {
		t.Fatal("no schema references at all")
	}
	for _, ref := range refs {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if _, found := doc.Components.Schemas[name]; !ok || !found {
			t.Errorf("dangling $ref %s", ref)
		}
	}
	// The draft a caller may send has no subject and no risk.
	var draft struct {
		Properties map[string]any `json:"properties"`
	}
	json.Unmarshal(doc.Components.Schemas["action.Draft"], &draft)
	if draft.Properties["action"] == nil || draft.Properties["subject"] != nil || draft.Properties["risk"] != nil {
		t.Errorf("action.Draft schema: %v", draft.Properties)
	}
}
