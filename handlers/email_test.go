package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"agora/assets"
	"agora/chat"
	"agora/chat/jobs"
	"agora/chat/live"
	"agora/chat/mail"
	"agora/chat/mail/mailtest"
	"agora/db"
	"agora/handlers"
)

// newMailServer is a test server that sends email to a real SMTP server of
// the test's, with links to its own address, and retries within
// milliseconds.
func newMailServer(t *testing.T) (*testServer, *mailtest.Server) {
	t.Helper()
	ts, smtpd, runner := newMailServerStopped(t)
	runner.Start()
	return ts, smtpd
}

// newMailServerStopped is newMailServer with its job runner not started.
func newMailServerStopped(t *testing.T) (*testServer, *mailtest.Server, *jobs.Runner) {
	t.Helper()
	smtpd := mailtest.Start(t)
	sender, err := mail.New(smtpd.URL(), "agora <chat@example.com>", mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "agora.db")
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	hub := handlers.NewHub(live.HubConfig{})
	runner := jobs.New(store, jobs.Options{Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	srv := httptest.NewUnstartedServer(nil)
	app := handlers.New(handlers.Config{Store: store, Hub: hub, Assets: assets.FS, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Jobs: runner, Mail: sender, PublicURL: "http://" + srv.Listener.Addr().String(), MissedEmailGrace: time.Millisecond})
	srv.Config.Handler = app
	srv.Start()
	ts := &testServer{Server: srv, store: store, app: app, hub: hub, path: path}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		runner.Stop()
		ts.Close()
		store.Close()
	})
	return ts, smtpd, runner
}

var linkIn = regexp.MustCompile(`https?://[^\s]+/(settings/email/verify|password/reset)/[A-Za-z0-9_-]+`)

// mailedLink is the link in an email, checked to lead to the server.
func mailedLink(t *testing.T, ts *testServer, r mailtest.Received) string {
	t.Helper()
	link := linkIn.FindString(r.Text())
	if link == "" || !strings.HasPrefix(link, ts.URL+"/") {
		t.Fatalf("no link to %s in the email:\n%s", ts.URL, r.Data)
	}
	return strings.TrimPrefix(link, ts.URL)
}

// verifyEmail gives c's account a verified address through the mailed link.
func verifyEmail(t *testing.T, ts *testServer, smtpd *mailtest.Server, c *client, addr string) {
	t.Helper()
	expectStatus(t, c.post("/settings/email", url.Values{"email": {addr}}), http.StatusSeeOther)
	got := smtpd.Next(t)
	if len(got.To) != 1 || got.To[0] != addr {
		t.Fatalf("mailed to %v, want %s", got.To, addr)
	}
	expectStatus(t, c.get(mailedLink(t, ts, got)), http.StatusOK)
}

func TestEmailAddressIsVerifiedByItsLink(t *testing.T) {
	ts, smtpd := newMailServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")

	page := doc(t, ann.get("/settings/email").body)
	if byID(page, "email-none") == nil || byID(page, "mail-off") != nil {
		t.Fatal("a new account's email page does not say it has no address")
	}
	for _, bad := range []string{"", "ann", "ann@", "Ann <ann@example.com>", "ann@example.com\r\nBcc: eve@example.com", "ann@localhost"} {
		res := ann.post("/settings/email", url.Values{"email": {bad}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if byID(doc(t, res.body), "form-error") == nil {
			t.Fatalf("%q: no error on the page", bad)
		}
	}
	expectStatus(t, ann.post("/settings/email", url.Values{"email": {"ann@example.com"}}), http.StatusSeeOther)
	if p := byID(doc(t, ann.get("/settings/email").body), "email-pending"); p == nil || !strings.Contains(text(p), "ann@example.com") {
		t.Fatal("the page does not say which address waits for its link")
	}
	got := smtpd.Next(t)
	if got.To[0] != "ann@example.com" || got.From != "chat@example.com" {
		t.Fatalf("envelope %s -> %v", got.From, got.To)
	}
	link := mailedLink(t, ts, got)
	// Not verified until the link is followed: no mail goes there yet.
	if v, _ := ts.store.UserEmail(t.Context(), mustUserID(t, ts, "ann")); v != "" {
		t.Fatalf("verified before the link was followed: %q", v)
	}
	// The link works without a session (another device), once.
	stranger := ts.client(t)
	res := stranger.get(link)
	expectStatus(t, res, http.StatusOK)
	if byID(doc(t, res.body), "email-verified") == nil {
		t.Fatalf("no confirmation:\n%.1000s", res.body)
	}
	if v := byID(doc(t, ann.get("/settings/email").body), "email-verified"); v == nil || !strings.Contains(text(v), "ann@example.com") {
		t.Fatal("the settings page does not show the verified address")
	}
	expectStatus(t, stranger.get(link), http.StatusNotFound)
	expectStatus(t, stranger.get("/settings/email/verify/not-a-token"), http.StatusNotFound)

	// Another account cannot take a verified address.
	expectStatus(t, bob.post("/settings/email", url.Values{"email": {"ANN@example.com"}}), http.StatusSeeOther)
	res = bob.get(mailedLink(t, ts, smtpd.Next(t)))
	expectStatus(t, res, http.StatusConflict)
	if v, _ := ts.store.UserEmail(t.Context(), mustUserID(t, ts, "bob")); v != "" {
		t.Fatalf("bob got %q", v)
	}
}

func mustUserID(t *testing.T, ts *testServer, username string) int64 {
	t.Helper()
	u, err := ts.store.UserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// A reset link is mailed only to a verified address, sets the password once
// within an hour, ends every session of the account, and is for the
// account it was made for. The answer never tells accounts apart.
func TestPasswordResetByEmail(t *testing.T) {
	ts, smtpd := newMailServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	verifyEmail(t, ts, smtpd, ann, "ann@example.com")
	verifyEmail(t, ts, smtpd, bob, "bob@example.com")
	annElsewhere := ts.client(t)
	expectStatus(t, annElsewhere.post("/login", url.Values{"username": {"ann"}, "password": {"password-ann"}}), http.StatusSeeOther)

	visitor := ts.client(t)
	expectStatus(t, visitor.get("/password/forgot"), http.StatusOK)
	answers := map[string]string{}
	for _, name := range []string{"nobody", "cy-has-no-address", "ann"} {
		if name == "cy-has-no-address" {
			ts.client(t).signup(name)
		}
		res := visitor.post("/password/forgot", url.Values{"username": {name}})
		expectStatus(t, res, http.StatusOK)
		answers[name] = text(byID(doc(t, res.body), "forgot-sent"))
	}
	if answers["nobody"] == "" || answers["nobody"] != answers["ann"] || answers["ann"] != answers["cy-has-no-address"] {
		t.Fatalf("the answers differ: %q", answers)
	}
	first := mailedLink(t, ts, smtpd.Next(t))
	// By address too; the newer link replaces the older.
	expectStatus(t, visitor.post("/password/forgot", url.Values{"username": {"Ann@Example.com"}}), http.StatusOK)
	got := smtpd.Next(t)
	if got.To[0] != "ann@example.com" {
		t.Fatalf("mailed to %v", got.To)
	}
	link := mailedLink(t, ts, got)
	if link == first {
		t.Fatal("the same link twice")
	}
	expectStatus(t, visitor.get(first), http.StatusNotFound)
	if extra := smtpd.Pending(); len(extra) != 0 {
		t.Fatalf("%d more emails: to nobody or to an account without an address", len(extra))
	}

	// A weak password is refused and the link still works.
	res := visitor.post(link, url.Values{"password": {"short"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	res = visitor.get(link)
	expectStatus(t, res, http.StatusOK)
	if f := byID(doc(t, res.body), "password-link-form"); f == nil || !strings.Contains(res.body, `value="ann"`) {
		t.Fatal("the reset page does not say whose password it sets")
	}
	// Not for verifying an address.
	expectStatus(t, visitor.get(strings.Replace(link, "/password/reset/", "/settings/email/verify/", 1)), http.StatusNotFound)
	// The form's username is shown, never read: the link is for ann, whatever
	// the form says.
	res = visitor.post(link, url.Values{"username": {"bob"}, "password": {"a brand new password"}})
	expectStatus(t, res, http.StatusSeeOther)
	if who := visitor.get("/settings/profile"); !strings.Contains(who.body, `data-me="ann"`) {
		t.Fatalf("the visitor is not signed in as ann after her link:\n%.1000s", who.body)
	}
	// Every session of ann's ended; bob's did not.
	for _, c := range []*client{ann, annElsewhere} {
		if res := c.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
			t.Fatalf("a session of ann's still works: %d", res.status)
		}
	}
	expectStatus(t, bob.get("/"), http.StatusOK)
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}), http.StatusSeeOther)
	// Used twice: the second is refused and changes nothing.
	expectStatus(t, ts.client(t).post(link, url.Values{"password": {"yet another password"}}), http.StatusNotFound)
	expectStatus(t, ts.client(t).get(link), http.StatusNotFound)
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"a brand new password"}}), http.StatusSeeOther)
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"yet another password"}}), http.StatusUnauthorized)

	// Bob's link sets bob's password, whoever follows it, and signs them in
	// as bob: never as themselves, never with their password changed.
	expectStatus(t, ts.client(t).post("/password/forgot", url.Values{"username": {"bob"}}), http.StatusOK)
	bobLink := mailedLink(t, ts, smtpd.Next(t))
	annAgain := ts.client(t)
	expectStatus(t, annAgain.post("/login", url.Values{"username": {"ann"}, "password": {"a brand new password"}}), http.StatusSeeOther)
	expectStatus(t, annAgain.post(bobLink, url.Values{"new_password": {"ann took over bob"}}), http.StatusSeeOther)
	if who := annAgain.get("/settings/profile"); !strings.Contains(who.body, `data-me="bob"`) {
		t.Fatal("following bob's link did not sign in as bob")
	}
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"ann took over bob"}}), http.StatusUnauthorized)
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"a brand new password"}}), http.StatusSeeOther)
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"bob"}, "password": {"ann took over bob"}}), http.StatusSeeOther)

	// Expired: a link past its hour, made as every password link is.
	token, err := chat.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.CreatePasswordLink(t.Context(), mustUserID(t, ts, "ann"), chat.HashToken(token), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, visitor.get("/password/reset/"+token), http.StatusNotFound)
	res = visitor.post("/password/reset/"+token, url.Values{"password": {"too late for this"}})
	expectStatus(t, res, http.StatusNotFound)
	if byID(doc(t, res.body), "form-error") == nil || !strings.Contains(res.body, `href="/password/forgot"`) {
		t.Fatalf("the expired link's page does not say so, or where to ask for a new one:\n%.1000s", res.body)
	}
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"too late for this"}}), http.StatusUnauthorized)
}

// An SMTP server that refuses, then drops the connection: the email's job
// tries again, and the email arrives once.
func TestEmailSurvivesARefusingOrDroppingServer(t *testing.T) {
	ts, smtpd := newMailServer(t)
	ann := ts.client(t).signup("ann")
	smtpd.Refuse(1)
	smtpd.Drop(1)
	expectStatus(t, ann.post("/settings/email", url.Values{"email": {"ann@example.com"}}), http.StatusSeeOther)
	mailedLink(t, ts, smtpd.Next(t))
	ts.waitHooks(t, 3) // two failed runs and the one that sent it
	done, err := ts.store.JobsIn(t.Context(), chat.JobDone, 10)
	if err != nil || len(done) != 1 || done[0].Attempts != 3 || done[0].Kind != "email" {
		t.Fatalf("done jobs %+v, %v: want the email, sent on its third attempt", done, err)
	}
	if extra := smtpd.Pending(); len(extra) != 0 {
		t.Fatalf("the email came %d more times", len(extra))
	}
}

// An admin makes a reset link for a server without email: shown once, it
// works as a mailed one.
func TestAdminMakesAResetLink(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	expectStatus(t, bob.post("/admin/users/ann/reset", nil), http.StatusNotFound)
	res := ann.post("/admin/users/bob/reset", nil)
	expectStatus(t, res, http.StatusOK)
	el := byID(doc(t, res.body), "reset-link")
	if el == nil {
		t.Fatalf("no #reset-link:\n%.2000s", res.body)
	}
	link, _ := attr(el, "value")
	path := strings.TrimPrefix(link, ts.URL)
	if path == link || !strings.HasPrefix(path, "/password/reset/") {
		t.Fatalf("link %q", link)
	}
	if strings.Contains(ann.get("/admin/users").body, path) {
		t.Fatal("the link is shown again")
	}
	if a := byID(doc(t, ann.get("/admin/users").body), "audit"); a == nil || !strings.Contains(text(a), "reset link") {
		t.Error("not in the audit log")
	}
	// Email is off here: the pages say so.
	res = bob.post("/settings/email", url.Values{"email": {"bob@example.com"}})
	expectStatus(t, res, http.StatusForbidden)
	if byID(doc(t, res.body), "mail-off") == nil {
		t.Error("the email page does not say email is off")
	}
	expectStatus(t, ts.client(t).post("/password/forgot", url.Values{"username": {"bob"}}), http.StatusServiceUnavailable)

	visitor := ts.client(t)
	expectStatus(t, visitor.post(path, url.Values{"new_password": {"bob's new password"}}), http.StatusSeeOther)
	if res := bob.get("/"); res.status != http.StatusSeeOther {
		t.Fatal("bob's session survived the reset")
	}
	expectStatus(t, ts.client(t).post(path, url.Values{"new_password": {"again and again"}}), http.StatusNotFound)
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"bob"}, "password": {"bob's new password"}}), http.StatusSeeOther)
}

func TestNotificationSettings(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	page := doc(t, ann.get("/settings/notifications").body)
	if d := byID(page, "email_delay"); d == nil || value(d) != "10" {
		t.Fatal("the delay is not 10 minutes at first")
	}
	for _, bad := range []url.Values{{"email": {"always"}}, {"email": {"off"}, "email_delay": {"-1"}}, {"email": {"off"}, "email_delay": {"soon"}}} {
		res := ann.post("/settings/notifications", bad)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if byID(doc(t, res.body), "form-error") == nil {
			t.Fatalf("%v: no error on the page", bad)
		}
	}
	expectStatus(t, ann.post("/settings/notifications", url.Values{"email": {"off"}, "email_delay": {"30"}}), http.StatusSeeOther)
	n, err := ts.store.NotifySettings(t.Context(), mustUserID(t, ts, "ann"))
	if err != nil || n.Email != chat.EmailOff || n.EmailDelay != 30 {
		t.Fatalf("settings %+v, %v", n, err)
	}
}

func value(n *html.Node) string {
	v, _ := attr(n, "value")
	return v
}

// What is still unread after the delay comes in one email, text and HTML,
// with a link to each message and a one-click unsubscribe (RFC 8058) whose
// signed link turns the email off without signing in; what was read in
// time is not emailed, and an altered link changes nothing.
func TestMissedActivityEmail(t *testing.T) {
	ts, smtpd, runner := newMailServerStopped(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	cy := ts.client(t).signup("cy")
	runner.Start()
	verifyEmail(t, ts, smtpd, bob, "bob@example.com")
	verifyEmail(t, ts, smtpd, cy, "cy@example.com")
	runner.Stop()
	for _, c := range []*client{bob, cy} {
		c.get("/rooms/general")
		expectStatus(t, c.post("/settings/notifications", url.Values{"email": {"mentions"}, "email_delay": {"0"}}), http.StatusSeeOther)
	}
	ann.get("/rooms/general")
	ann.postMessage("general", "@bob and @cy: the release is at five")
	ann.postMessage("general", "nobody is mentioned here")
	expectStatus(t, ann.post("/dm/cy", nil), http.StatusSeeOther)
	expectStatus(t, ann.post("/rooms/dm-1-3/messages", url.Values{"body": {"lunch after?"}}), http.StatusSeeOther)
	// Bob reads in time; cy does not.
	expectStatus(t, bob.get("/rooms/general"), http.StatusOK)
	c, err := ts.store.CountJobs(t.Context())
	if err != nil || c.Queued < 2 {
		t.Fatalf("jobs %+v, %v: want the notify jobs of the mention and the direct message", c, err)
	}
	before := ts.app.JobsFinished()
	runner.Start()
	missed := ts.notifiedJobs(t)["missed"]
	got := smtpd.Next(t)
	ts.waitHooks(t, before+int64(missed.Total()))
	if len(got.To) != 1 || got.To[0] != "cy@example.com" {
		t.Fatalf("emailed %v, want cy only", got.To)
	}
	if extra := smtpd.Pending(); len(extra) != 0 {
		t.Fatalf("%d more emails (to bob, who read in time, or to cy again): %s", len(extra), extra[0].Text())
	}
	text, html := got.Text(), got.HTML()
	for _, want := range []string{"the release is at five", "lunch after?", ts.URL + "/messages/"} {
		if !strings.Contains(text, want) || !strings.Contains(html, want) {
			t.Errorf("%q is not in both parts:\n%s\n%s", want, text, html)
		}
	}
	if strings.Contains(text, "nobody is mentioned") {
		t.Error("a message that does not concern cy was emailed")
	}
	if got.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post: %q", got.Header("List-Unsubscribe-Post"))
	}
	unsub := strings.Trim(got.Header("List-Unsubscribe"), "<>")
	path := strings.TrimPrefix(unsub, ts.URL)
	if path == unsub || !strings.HasPrefix(path, "/notifications/unsubscribe/") {
		t.Fatalf("List-Unsubscribe: %q", got.Header("List-Unsubscribe"))
	}

	// Altered links: another id, a changed signature, none.
	id, sig, _ := strings.Cut(strings.TrimPrefix(path, "/notifications/unsubscribe/"), ".")
	flip := "A"
	if strings.HasSuffix(sig, "A") {
		flip = "B"
	}
	visitor := ts.client(t)
	for _, bad := range []string{"2." + sig, id + "." + sig[:len(sig)-1] + flip, id, id + ".", "x." + sig} {
		res := visitor.post("/notifications/unsubscribe/"+bad, url.Values{"List-Unsubscribe": {"One-Click"}})
		expectStatus(t, res, http.StatusNotFound)
		if byID(doc(t, res.body), "form-error") == nil {
			t.Errorf("%s: no reason on the page", bad)
		}
	}
	// Opening the link changes nothing (link checkers open links).
	expectStatus(t, visitor.get(path), http.StatusOK)
	for _, name := range []string{"bob", "cy"} {
		if n, _ := ts.store.NotifySettings(t.Context(), mustUserID(t, ts, name)); n.Email != chat.EmailMentions {
			t.Fatalf("%s's email is %s before the one-click POST", name, n.Email)
		}
	}
	// The one-click POST a mail client sends, without a session.
	res := visitor.post(path, url.Values{"List-Unsubscribe": {"One-Click"}})
	expectStatus(t, res, http.StatusOK)
	if byID(doc(t, res.body), "unsubscribed") == nil {
		t.Fatalf("no confirmation:\n%.1000s", res.body)
	}
	if n, _ := ts.store.NotifySettings(t.Context(), mustUserID(t, ts, "cy")); n.Email != chat.EmailOff {
		t.Fatalf("cy's email is %s after unsubscribing", n.Email)
	}
	if n, _ := ts.store.NotifySettings(t.Context(), mustUserID(t, ts, "bob")); n.Email != chat.EmailMentions {
		t.Fatal("bob's email changed")
	}
	// Off: a new mention of cy is not emailed.
	jobsBefore := ts.notifiedJobs(t)
	ann.postMessage("general", "@cy are you there?")
	if after := ts.notifiedJobs(t); !sameJobs(after, jobsBefore) {
		t.Fatalf("jobs %+v then %+v: a job for cy, who turned email off", jobsBefore, after)
	}
}

// TestMissedActivityEmailInTheirLanguage: the missed-activity email is
// written in the language the recipient chose on their profile, subject,
// text and HTML alike.
func TestMissedActivityEmailInTheirLanguage(t *testing.T) {
	ts, smtpd, runner := newMailServerStopped(t)
	ann := ts.client(t).signup("ann")
	cy := ts.client(t).signup("cy")
	runner.Start()
	verifyEmail(t, ts, smtpd, cy, "cy@example.com")
	runner.Stop()
	cy.get("/rooms/general")
	expectStatus(t, cy.post("/settings/notifications", url.Values{"email": {"mentions"}, "email_delay": {"0"}}), http.StatusSeeOther)
	expectStatus(t, cy.post("/settings/profile", url.Values{"language": {"de"}}), http.StatusSeeOther)
	ann.get("/rooms/general")
	ann.postMessage("general", "@cy: the release is at five")
	expectStatus(t, ann.post("/dm/cy", nil), http.StatusSeeOther)
	expectStatus(t, ann.post("/rooms/dm-1-2/messages", url.Values{"body": {"lunch after?"}}), http.StatusSeeOther)
	runner.Start()
	got := smtpd.Next(t)
	if s := got.Header("Subject"); s != "2 ungelesene Nachrichten auf agora" {
		t.Errorf("subject %q", s)
	}
	text, html := got.Text(), got.HTML()
	for _, want := range []string{"Hallo cy, das hast du auf agora noch nicht gelesen:", "ann in #general:", "ann in einer Direktnachricht:", "Diese E-Mails abbestellen: "} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{`<html lang="de">`, "Was du auf agora verpasst hast", "Hallo cy, das hast du noch nicht gelesen:", ">Nachricht öffnen</a>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML lacks %q:\n%s", want, html)
		}
	}
}
