//go:build e2e

// Browser tests of what admins keep for an organisation: groups made and
// filled through the page's plain forms, a group mention that stands out
// for the group's members alone, and the dashboard's charts. Screenshots
// go to testdata/screenshots.
package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// highlightOf tells whether the message holding text is highlighted as a
// mention of the reader, and whether its group mention wears the reader's
// own mention colour (every mention has a quieter background).
func (b *browser) highlightOf(text string) (message, mention bool) {
	b.t.Helper()
	got := evalJS[[2]bool](b, fmt.Sprintf(`(id => {
		const m = document.getElementById(id), g = m.querySelector('.mention[data-group]');
		const probe = document.createElement('span');
		probe.style.background = 'var(--mention)';
		m.append(probe);
		const marked = getComputedStyle(probe).backgroundColor;
		probe.remove();
		return [getComputedStyle(m).boxShadow.includes('inset'), !!g && getComputedStyle(g).backgroundColor === marked];
	})(%s)`, jsString(b.messageIDOf(text))))
	return got[0], got[1]
}

// TestE2EGroups: an admin makes @design and adds bob with the page's forms
// (a name that is a username is refused on the page); alice's @design
// reaches bob live and stands out for him, not for alice, who is not in it.
func TestE2EGroups(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")

	alice.openPage(srv, "/admin/groups", false)
	alice.fill("a group named like a user", [2]string{`#new-group input[name="name"]`, "BOB"})
	if st := alice.press("make it", `#new-group button[type="submit"]`); st != http.StatusConflict {
		t.Fatalf("a group called BOB answered %d\n%s", st, alice.pageSummary())
	}
	alice.expectText("#form-error", "username")
	alice.fill("the group's name", [2]string{`#new-group input[name="name"]`, "design"})
	if st := alice.press("make it", `#new-group button[type="submit"]`); st != http.StatusOK {
		t.Fatalf("making @design landed on %d\n%s", st, alice.pageSummary())
	}
	alice.fill("bob as a member", [2]string{`#group-design input[name="username"]`, "bob"})
	alice.press("add him", `#group-design form[action$="/members"] button[type="submit"]`)
	alice.expectText("#group-design .group-members", "bob")
	alice.auditPage(srv, "admin-groups", "/admin/groups", false)

	bob.openRoom(srv, "general")
	alice.openRoom(srv, "general")
	alice.sendComposed("@design the mockups are in", "the mockups are in")
	bob.waitJS("alice's group mention, live", hasMessageJS("the mockups are in"), liveWait)
	if msg, mention := bob.highlightOf("the mockups are in"); !msg || !mention {
		t.Errorf("for bob, in @design, the message is highlighted %v and the mention %v; want both", msg, mention)
	}
	if msg, mention := alice.highlightOf("the mockups are in"); msg || mention {
		t.Errorf("for alice, not in @design, the message is highlighted %v and the mention %v; want neither", msg, mention)
	}
	bob.shots("e2e-group-mention")
}

// serverDB opens the server's database file beside it, closed when the
// test ends.
func serverDB(t *testing.T, srv *agoraServer) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+srv.db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// backdate moves what the server wrote days back, in its database file
// (the server reads the dashboard's numbers fresh on every request): the
// server itself only ever writes now.
func backdate(t *testing.T, conn *sql.DB, table string, id int64, days int) {
	t.Helper()
	if _, err := conn.Exec("UPDATE "+table+" SET created_at = created_at - ? WHERE id = ?", int64(days)*int64(24*time.Hour/time.Millisecond), id); err != nil {
		t.Fatal(err)
	}
}

// lastID is the newest row of table.
func lastID(t *testing.T, conn *sql.DB, table string) int64 {
	t.Helper()
	var id int64
	if err := conn.QueryRow("SELECT coalesce(max(id), 0) FROM " + table).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// uploadAt posts a file of size bytes to the room as the page's form
// does (multipart, the session's cookie) and fails unless it is accepted.
func (b *browser) uploadAt(slug, name string, size int) {
	b.t.Helper()
	status := evalJSAwait[int](b, fmt.Sprintf(`(() => {
		const f = new FormData();
		f.append("file", new Blob(["x".repeat(%d)], {type: "application/octet-stream"}), %s);
		return fetch(%s, {method: "POST", body: f, redirect: "manual", credentials: "same-origin"}).then(r => r.type === "opaqueredirect" ? 303 : r.status);
	})()`, size, jsString(name), jsString("/rooms/"+slug+"/files")))
	if status != http.StatusSeeOther {
		b.t.Fatalf("%s: uploading %s answered %d", b.name, name, status)
	}
}

// TestE2EAdminDashboard: the admin link opens the dashboard; its four
// charts are images with a title and a description, drawn by the server,
// with a bar for each day that had messages; the page passes axe at 1280
// and 390 px, light and dark (the screenshots are looked at).
func TestE2EAdminDashboard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")
	conn := serverDB(t, srv)
	for _, name := range []string{"design reviews", "ops", "random"} {
		alice.postFormAt("/rooms", map[string]string{"name": name})
	}
	bob.postFormAt("/rooms/ops/join", nil)

	// A month of talk: more on weekdays, quiet some days, bob on fewer.
	days := map[int]bool{}
	for i := range 24 {
		room := []string{"general", "design-reviews", "ops", "general", "random", "ops"}[i%6]
		alice.postFormAt("/rooms/"+room+"/messages", map[string]string{"body": fmt.Sprintf("alice's note %d", i)})
		ago := (i * 7) % 29
		backdate(t, conn, "messages", lastID(t, conn, "messages"), ago)
		days[29-ago] = true
		if i%3 == 0 {
			bob.postFormAt("/rooms/ops/messages", map[string]string{"body": fmt.Sprintf("bob's reply %d", i)})
			backdate(t, conn, "messages", lastID(t, conn, "messages"), ago)
		}
	}
	for i, size := range []int{120_000, 450_000, 80_000} {
		alice.uploadAt("general", fmt.Sprintf("mockup-%d.bin", i), size)
		backdate(t, conn, "files", lastID(t, conn, "files"), 25-i*10)
		backdate(t, conn, "messages", lastID(t, conn, "messages"), 25-i*10)
		days[29-(25-i*10)] = true
	}

	alice.openPage(srv, "/", false)
	if st := alice.press("open the admin pages", "#admin-link"); st != http.StatusOK || alice.location() != srv.url("/admin") {
		t.Fatalf("the admin link landed on %d at %s", st, alice.location())
	}
	type chart struct {
		Role, Title, Desc string
		Bars, Rows        int
	}
	for _, id := range []string{"messages", "people", "rooms", "storage"} {
		c := evalJS[chart](alice, fmt.Sprintf(`(f => {
			const svg = f.querySelector("svg");
			return {role: svg.getAttribute("role"), title: svg.querySelector(":scope > title").textContent,
				desc: svg.querySelector(":scope > desc").textContent, bars: svg.querySelectorAll("rect.bar").length,
				rows: f.querySelectorAll("tbody tr").length};
		})(document.getElementById(%s))`, jsString("chart-"+id)))
		if c.Role != "img" || c.Title == "" || c.Desc == "" {
			t.Errorf("#chart-%s: role %q, title %q, desc %q", id, c.Role, c.Title, c.Desc)
		}
		switch id {
		case "messages", "people":
			if c.Bars != len(days) || c.Rows != 30 {
				t.Errorf("#chart-%s: %d bars and %d rows, want a bar for each of the %d days with messages, 30 rows", id, c.Bars, c.Rows, len(days))
			}
		case "rooms":
			if c.Bars != 4 || !strings.Contains(c.Desc, "#ops") {
				t.Errorf("#chart-rooms: %d bars, %q; want 4, ops the busiest", c.Bars, c.Desc)
			}
		}
	}
	// The numbers of a chart open without a script: a details element.
	alice.do("open the messages' numbers", chromedp.Click(chromedp.CSS("#chart-messages summary")))
	if !evalJS[bool](alice, `document.querySelector("#table-messages").checkVisibility()`) {
		t.Error("the messages' table does not show when its summary is clicked")
	}
	alice.do("close it", chromedp.Click(chromedp.CSS("#chart-messages summary")))
	alice.auditPage(srv, "admin-dashboard", "/admin", false)
	// The page scrolls in its main pane, so a shot holds one screenful: the
	// lower charts (busiest rooms, storage) are shot scrolled into view.
	for _, phone := range []bool{false, true} {
		size := "desktop"
		if phone {
			size = "phone"
			alice.phoneViewport()
		}
		for _, scheme := range []string{"light", "dark"} {
			alice.setColorScheme(scheme)
			alice.do("scroll to the busiest rooms", chromedp.ScrollIntoView(chromedp.CSS("#chart-rooms")))
			alice.shootAs(fmt.Sprintf("ux-admin-dashboard-lower-%s-%s.png", scheme, size))
		}
	}
	alice.desktopViewport()
	alice.setColorScheme("light")
}
