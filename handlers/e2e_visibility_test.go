//go:build e2e

// Browser test of the room socket's visibility frame (issue 20), in headless
// Chromium. Run with `make e2e`.
package handlers_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"agora/db"
)

// setMinimized minimizes the browser's window, as a person does who turns
// to another window, or restores it: the page is then hidden or visible
// (Page Visibility API), as it is when they do.
func (b *browser) setMinimized(minimized bool) {
	b.t.Helper()
	state := cdpbrowser.WindowStateNormal
	if minimized {
		state = cdpbrowser.WindowStateMinimized
	}
	b.do(fmt.Sprintf("window %s", state), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		w, err := chromedp.CallBrowser(ctx, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{TargetID: tg.TargetID})
		if err != nil {
			return err
		}
		_, err = chromedp.CallBrowser(ctx, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{WindowID: w.WindowID,
			Bounds: &cdpbrowser.Bounds{WindowState: state}})
		return err
	}))
	b.waitJS(fmt.Sprintf("document.hidden %v", minimized), fmt.Sprintf(`document.hidden === %v`, minimized), stepTimeout)
}

// TestE2EHiddenPageGetsPushes: bob has #general open and a phone subscribed
// to pushes. While his page is in front of him, ann's mention of him shows
// there and nothing reaches the phone. He minimizes the window: the page
// tells the server it is hidden (app.js's visibility frame), and the next
// mention reaches the phone, which decrypts it to ann's words and the
// message's URL; so does the next, after he reloads the hidden page (it
// says so as it connects). He brings the window back: mentions show on the
// page again, and the phone stays quiet.
//
// The server handles one socket's frames in order, so a message bob sends
// after turning away (or back) is stored after the server took his
// page's report, and ann mentions him once she sees it.
func TestE2EHiddenPageGetsPushes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t, "-push-private", "-push-subject", "mailto:ops@example.com")
	ps, devices := newPushService(t)
	ann := newBrowser(t, ctx, "ann", true)
	bob := newBrowser(t, ctx, "bob", true)
	ann.signUp(srv, "ann")
	bob.signUp(srv, "bob")
	ann.openRoom(srv, "general")
	bob.openRoom(srv, "general")

	// Bob's phone: a subscription as a browser's script sends it, whose keys
	// only the phone (here the test's push service) holds.
	key := evalJSAwait[string](bob, `fetch("/push/key").then(r => r.json()).then(j => j.key)`)
	uaKey, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	phone := &device{path: "/push/bob-phone", key: uaKey, auth: make([]byte, 16)}
	_, _ = rand.Read(phone.auth)
	ps.mu.Lock()
	ps.key = key
	devices[phone.path] = phone
	ps.mu.Unlock()
	sub, _ := json.Marshal(map[string]any{"endpoint": ps.URL + phone.path, "keys": map[string]string{
		"p256dh": base64.RawURLEncoding.EncodeToString(uaKey.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(phone.auth)}})
	if status := evalJSAwait[int](bob, fmt.Sprintf(`fetch("/push/subscriptions", {method: "POST", headers: {"Content-Type": "application/json"}, body: %s}).then(r => r.status)`,
		jsString(string(sub)))); status != 201 {
		t.Fatalf("subscribing bob's phone: status %d", status)
	}

	// The server's own count of its jobs, read from its database.
	store, err := db.Open(ctx, srv.db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pushJobsOnceNotified := func() int {
		t.Helper()
		deadline := time.Now().Add(liveWait)
		for {
			byKind, err := store.CountJobsByKind(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := byKind["notify"]; n.Failed > 0 {
				t.Fatalf("%d notify jobs failed", n.Failed)
			} else if n.Queued+n.Running == 0 {
				return byKind["push"].Total()
			}
			if time.Now().After(deadline) {
				t.Fatalf("notify jobs still to run: %+v", byKind["notify"])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	mention := func(text string) {
		t.Helper()
		ann.send(text)
		bob.waitJS("ann's mention on bob's page", hasMessageJS(text), liveWait)
	}
	// What bob sends comes after his page's report on the server.
	heard := func(text string) {
		t.Helper()
		bob.send(text)
		ann.waitJS("bob's message on ann's page", hasMessageJS(text), liveWait)
	}

	mention("@bob can you see this?")
	if n := pushJobsOnceNotified(); n != 0 {
		t.Fatalf("%d pushes of a mention bob's visible page shows", n)
	}

	bob.setMinimized(true)
	heard("stepping away")
	mention("@bob the deploy is done")
	pushed := func(want int, body string) {
		t.Helper()
		select {
		case got := <-ps.arrive:
			if got != phone.path {
				t.Fatalf("a push went to %s", got)
			}
		case <-time.After(liveWait):
			t.Fatalf("no push of %q reached bob's phone while his page was hidden", body)
		}
		got := ps.sent(phone.path)
		if len(got) != want || got[want-1].data["body"] != body || got[want-1].data["title"] != "ann in #general" {
			t.Fatalf("bob's phone shows %+v, want %d pushes, the last ann's %q in #general", got, want, body)
		}
		if url := got[want-1].data["url"]; !strings.HasPrefix(url, "/rooms/general?") {
			t.Errorf("the push opens %q, want the message in #general", url)
		}
	}
	pushed(1, "@bob the deploy is done")

	// A page opened while hidden says so as its socket connects.
	bob.openRoom(srv, "general")
	heard("still away")
	mention("@bob are you there?")
	pushed(2, "@bob are you there?")

	bob.setMinimized(false)
	heard("back")
	mention("@bob welcome back")
	if n := pushJobsOnceNotified(); n != 2 {
		t.Fatalf("%d push jobs, want only the two of the mentions while bob's page was hidden", n)
	}
	if got := ps.sent(phone.path); len(got) != 2 {
		t.Fatalf("bob's phone got %d pushes, want 2: %+v", len(got), got)
	}
}
