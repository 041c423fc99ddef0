package handlers_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesTheRouter holds /api/v1/openapi.json against the
// router: every route under /api/v1/ is in the document, with its method,
// and the document has nothing the router does not serve.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	ts := newTestServer(t)
	res := ts.api(t, "").call("GET", "/api/v1/openapi.json", nil) // no token needed
	expectAPI(t, res, http.StatusOK)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Servers []struct{ URL string }                `json:"servers"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	res.json(t, &doc)
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("openapi %q, servers %+v", doc.OpenAPI, doc.Servers)
	}
	methods := map[string]bool{"get": true, "post": true, "put": true, "patch": true, "delete": true, "head": true, "options": true}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method, op := range item {
			if !methods[method] {
				continue // "parameters" and the like
			}
			var o struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil || o.OperationID == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s: an operation needs an operationId and responses", method, path)
			}
			documented[strings.ToUpper(method)+" /api/v1"+path] = true
		}
	}

	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, r := range ts.app.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "/*") || r.Method == "echo_route_not_found" {
			continue // Echo's own fallbacks for the group
		}
		served[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(served) < 10 {
		t.Fatalf("only %d API routes found in the router", len(served))
	}
	for _, key := range sortedKeys(served) {
		if !documented[key] {
			t.Errorf("%s is served but not in openapi.json", key)
		}
	}
	for _, key := range sortedKeys(documented) {
		if !served[key] {
			t.Errorf("openapi.json documents %s, which the router does not serve", key)
		}
	}

	// Every reference points at something the document defines.
	var whole any
	res.json(t, &whole)
	for _, ref := range refs(whole) {
		if resolve(whole, ref) == nil {
			t.Errorf("dangling $ref %s", ref)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, refs(e)...)
		}
	}
	return out
}

func resolve(doc any, ref string) any {
	cur := doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}
