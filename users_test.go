package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"

	"agora/db/pgtest"
)

// users runs `agora users ARGS...` as main would, and returns what it printed.
func users(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"agora", "users"}, args...), func(k string) string { return env[k] }, &out)
	return out.String(), err
}

func mustUsers(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, err := users(t, env, args...)
	if err != nil {
		t.Fatalf("agora users %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var linkRe = regexp.MustCompile(`https?://\S+/password/reset/(\S+)`)

// link is the one-time link a command printed.
func link(t *testing.T, out string) string {
	t.Helper()
	m := linkRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no link in %q", out)
	}
	return m[0]
}

// waitClosed reads a socket until it closes, and returns its close code.
func waitClosed(t *testing.T, conn *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the socket stayed open")
			}
			return websocket.CloseStatus(err)
		}
	}
}

// TestUsersCommandsOnARunningServer runs every `agora users` command on the
// SQLite file of a running server, and looks at what people of that server
// notice: a link that sets a password once, an admin page that opens, a
// deactivated account's socket closed (1008) and its session gone.
func TestUsersCommandsOnARunningServer(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "agora.db")
	r := startRun(t, map[string]string{"CHAT_DB": dbPath})
	env := map[string]string{"CHAT_DB": dbPath, "CHAT_URL": r.base}
	newBrowser(t, r.base, nil).signup("ann") // the first account: the admin
	bob := newBrowser(t, r.base, nil).signup("bob")

	out := mustUsers(t, env, "list")
	for _, want := range []string{"ann", "admin", "bob", "member", "active", "2 accounts"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}

	// create: an account with no password, and a link that sets one.
	out = mustUsers(t, env, "create", "carol")
	if !strings.Contains(out, "created carol") {
		t.Errorf("create said %q", out)
	}
	carolLink := link(t, out)
	carol := newBrowser(t, r.base, nil)
	if res := carol.post("/login", url.Values{"username": {"carol"}, "password": {""}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("carol signed in without a password")
	}
	path := strings.TrimPrefix(carolLink, r.base)
	if status, body := carol.get(path); status != http.StatusOK || !strings.Contains(body, `value="carol"`) {
		t.Fatalf("the link's page: %d\n%.500s", status, body)
	}
	if res := carol.post(path, url.Values{"new_password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a short password: %d, want 422", res.StatusCode)
	}
	if res := carol.post(path, url.Values{"new_password": {"carols-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting the password: %d, want 303", res.StatusCode)
	}
	if status, _ := carol.get("/"); status != http.StatusOK {
		t.Errorf("carol is not signed in after setting her password: %d", status)
	}
	// Spent: a second use, or anyone else's, is refused and changes nothing.
	other := newBrowser(t, r.base, nil)
	if res := other.post(path, url.Values{"new_password": {"stolen-password"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("the link used again: %d, want 404", res.StatusCode)
	}
	if status, _ := other.get(path); status != http.StatusNotFound {
		t.Errorf("the spent link's page: %d, want 404", status)
	}
	if status, _ := other.get("/password/reset/not-a-token"); status != http.StatusNotFound {
		t.Errorf("a made-up link: %d, want 404", status)
	}
	if res := newBrowser(t, r.base, nil).post("/login", url.Values{"username": {"carol"}, "password": {"carols-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("carol's new password does not sign in: %d", res.StatusCode)
	}

	// make-admin: the running server sees it at carol's next request.
	if status, _ := carol.get("/admin/users"); status != http.StatusNotFound {
		t.Fatalf("carol sees the admin pages before being made admin: %d", status)
	}
	if out := mustUsers(t, env, "make-admin", "carol"); !strings.Contains(out, "carol is an admin now") {
		t.Errorf("make-admin said %q", out)
	}
	if status, body := carol.get("/admin/users"); status != http.StatusOK || !strings.Contains(body, "operator (agora users)") {
		t.Errorf("carol as admin: %d; the audit list names the operator: %v", status, strings.Contains(body, "operator (agora users)"))
	}

	// reset-password: bob's sessions end once the link is used, his open
	// socket with them.
	bob.get("/rooms/general") // joins it
	bobSocket := bob.dial("general")
	readUntil(t, bobSocket, `data-user="bob"`) // in the hub: the server knows the socket
	resetPath := strings.TrimPrefix(link(t, mustUsers(t, env, "reset-password", "bob")), r.base)
	if status, _ := bob.get("/"); status != http.StatusOK {
		t.Fatalf("a reset link made changes before it was used: bob's page %d", status)
	}
	if res := newBrowser(t, r.base, nil).post(resetPath, url.Values{"new_password": {"bobs-new-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's reset: %d", res.StatusCode)
	}
	if code := waitClosed(t, bobSocket); code != websocket.StatusPolicyViolation {
		t.Errorf("bob's socket closed with %d after his reset, want 1008", code)
	}
	if status, _ := bob.get("/"); status != http.StatusSeeOther {
		t.Errorf("bob's old session still works after the reset: %d", status)
	}

	// deactivate: from another process, so the server learns of it from
	// the store. Bob's socket closes (1008: browsers do not reconnect).
	bob2 := newBrowser(t, r.base, nil)
	if res := bob2.post("/login", url.Values{"username": {"bob"}, "password": {"bobs-new-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's login: %d", res.StatusCode)
	}
	conn := bob2.dial("general")
	readUntil(t, conn, `data-user="bob"`)
	if out := mustUsers(t, env, "deactivate", "bob"); !strings.Contains(out, "bob is deactivated") {
		t.Errorf("deactivate said %q", out)
	}
	if status, _ := bob2.get("/"); status != http.StatusSeeOther {
		t.Errorf("a deactivated account's session still works: %d", status)
	}
	if code := waitClosed(t, conn); code != websocket.StatusPolicyViolation {
		t.Errorf("the deactivated account's socket closed with %d, want 1008", code)
	}
	if res := newBrowser(t, r.base, nil).post("/login", url.Values{"username": {"bob"}, "password": {"bobs-new-password"}}); res.StatusCode == http.StatusSeeOther {
		t.Error("a deactivated account signed in")
	}
	if out := mustUsers(t, env, "list"); !regexp.MustCompile(`bob\s+-\s+member\s+deactivated`).MatchString(out) {
		t.Errorf("list does not show bob deactivated:\n%s", out)
	}
}

// TestUsersCommandRefusals: every mistake an operator can make gets a clear
// error and changes nothing.
func TestUsersCommandRefusals(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "agora.db")
	env := map[string]string{"CHAT_DB": dbPath}
	if _, err := users(t, env, "list"); err == nil {
		t.Error("a missing database file was not refused (it would have been made)")
	}
	mustUsers(t, env, "create", "ann", "-db", dbPath) // flags after the words too; makes the file
	mustUsers(t, env, "create", "bob")
	mustUsers(t, env, "deactivate", "bob")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "say what to do"},
		{[]string{"launch"}, `unknown command "launch"`},
		{[]string{"create"}, "name one account"},
		{[]string{"create", "a", "b"}, "name one account"},
		{[]string{"list", "ann"}, "takes no name"},
		{[]string{"create", "x"}, "2 to 32"},
		{[]string{"create", "ANN"}, "taken"},
		{[]string{"create", "b0b"}, "looks too much like"}, // 0 and o look alike
		{[]string{"make-admin", "nobody"}, `no account is called "nobody"`},
		{[]string{"reset-password", "bob"}, "deactivated"},
		{[]string{"make-admin", "bob"}, "only an active person"},
	} {
		out, err := users(t, env, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("agora users %v: %v (%q), want an error saying %q", c.args, err, out, c.want)
		}
	}
	if out := mustUsers(t, env, "list"); strings.Count(out, "\n") != 4 { // the header, ann, bob, the count
		t.Errorf("a refused command changed the accounts:\n%s", out)
	}
	if out := mustUsers(t, env, "deactivate", "bob"); !strings.Contains(out, "already") {
		t.Errorf("deactivating twice: %q", out)
	}
	if out := mustUsers(t, env, "-h"); !strings.Contains(out, "reset-password NAME") {
		t.Errorf("-h: %q", out)
	}
}

// TestUsersDeactivateClosesSocketsOnEveryNode: two nodes of a cluster on one
// PostgreSQL and one NATS; `agora users deactivate`, run against the
// database, closes the account's sockets on both.
func TestUsersDeactivateClosesSocketsOnEveryNode(t *testing.T) {
	ctx := context.Background()
	pg, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Skip(err) // only when PostgreSQL is not installed
	}
	t.Cleanup(func() { pg.Stop() })
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	env := map[string]string{"CHAT_DB": dsn, "CHAT_NATS": ns.ClientURL()}
	a, b := startRun(t, env), startRun(t, env)

	newBrowser(t, a.base, nil).signup("ann")
	bobA := newBrowser(t, a.base, nil).signup("bob")
	bobB := newBrowser(t, b.base, nil)
	if res := bobB.post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's login on node b: %d", res.StatusCode)
	}
	bobA.get("/rooms/general") // joins it
	connA, connB := bobA.dial("general"), bobB.dial("general")
	readUntil(t, connA, `data-user="bob"`)
	readUntil(t, connB, `data-user="bob"`)
	if out := mustUsers(t, map[string]string{"CHAT_DB": dsn}, "deactivate", "bob"); !strings.Contains(out, "bob is deactivated") {
		t.Fatalf("deactivate said %q", out)
	}
	for name, conn := range map[string]*websocket.Conn{"a": connA, "b": connB} {
		if code := waitClosed(t, conn); code != websocket.StatusPolicyViolation {
			t.Errorf("node %s closed bob's socket with %d, want 1008", name, code)
		}
	}
	if status, _ := bobB.get("/"); status != http.StatusSeeOther {
		t.Errorf("bob's session on node b still works: %d", status)
	}
	out := mustUsers(t, map[string]string{"CHAT_DB": dsn}, "list")
	if !strings.Contains(out, "deactivated") {
		t.Errorf("list on PostgreSQL:\n%s", out)
	}
}
