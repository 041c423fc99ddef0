package handlers_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// readZip reads a zip answer back: each entry's text by name.
func readZip(t *testing.T, res response) map[string]string {
	t.Helper()
	if ct := res.header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("Content-Type %q, status %d: %.300s", ct, res.status, res.body)
	}
	zr, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
	if err != nil {
		t.Fatalf("not a whole zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, rc); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		rc.Close()
		out[f.Name] = b.String()
	}
	return out
}

// TestExports: an admin downloads everything, a person their own data; no
// one else gets either, and neither holds a secret.
func TestExports(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	ann.postMessage("general", "ann's news")
	bob.postMessage("general", "bob's reply")
	expectStatus(t, ann.post("/dm/bob", nil), http.StatusSeeOther)
	ann.post("/rooms/"+dmSlugOf(t, ann, "bob")+"/messages", url.Values{"body": {"a word in private"}})
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"hidden"}, "private": {"1"}}), http.StatusSeeOther)
	ann.postMessage("hidden", "ann alone")

	expectStatus(t, bob.get("/admin/export"), http.StatusNotFound)
	res := ann.get("/admin/export")
	expectStatus(t, res, http.StatusOK)
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="agora-export-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	z := readZip(t, res)
	for _, want := range []string{"users.jsonl", "rooms.jsonl", "messages/general.jsonl", "messages/hidden.jsonl"} {
		if _, ok := z[want]; !ok {
			t.Errorf("the server's export lacks %s", want)
		}
	}
	if !strings.Contains(z["messages/general.jsonl"], "bob's reply") || !strings.Contains(z["messages/hidden.jsonl"], "ann alone") {
		t.Error("the server's export lacks messages")
	}
	for name, data := range z {
		if strings.Contains(data, "argon2") {
			t.Errorf("%s holds a password hash", name)
		}
	}
	if !strings.Contains(ann.get("/admin/users").body, "exported the server") {
		t.Error("the audit list does not say the server was exported")
	}

	// Bob's own: his message, the conversation ann opened with him; not
	// ann's messages in rooms, nor her private room.
	z = readZip(t, bob.get("/settings/export"))
	all := ""
	for _, data := range z {
		all += data
	}
	for _, want := range []string{"bob's reply", "a word in private"} {
		if !strings.Contains(all, want) {
			t.Errorf("bob's export lacks %q", want)
		}
	}
	for _, not := range []string{"ann's news", "ann alone", "hidden"} {
		if strings.Contains(all, not) {
			t.Errorf("bob's export holds %q", not)
		}
	}
	// Signed out: the login page.
	if res := ts.client(t).get("/settings/export"); res.status != http.StatusSeeOther {
		t.Errorf("signed out: %d", res.status)
	}
	// A few an hour each.
	limited := false
	for range 5 {
		if res := bob.get("/settings/export"); res.status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("exports are not limited")
	}
}

// dmSlugOf is the slug of the signed-in user's conversation with peer, from
// where /dm/{peer} leads.
func dmSlugOf(t *testing.T, c *client, peer string) string {
	t.Helper()
	page := c.get("/dm/" + peer)
	n := byID(doc(t, page.body), "composer")
	if n == nil {
		t.Fatalf("no composer on /dm/%s", peer)
	}
	action, _ := attr(n, "action")
	return strings.TrimSuffix(strings.TrimPrefix(action, "/rooms/"), "/messages")
}
