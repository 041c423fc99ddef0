//go:build e2e

// Browser test of Web Push on this device (issue 20), in headless
// Chromium. Run with `make e2e`.

package handlers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
)

// TestE2EPushShownByTheServiceWorker: the notification settings page
// registers /sw.js for the whole site. Its service worker is handed a push as
// a browser hands it one after decrypting (DevTools'
// ServiceWorker.deliverPushMessage), with the JSON the server sends for a
// mention, and shows it: its title, body, tag and the conversation's URL.
// Then bob turns pushes on for this browser, and the page either subscribes
// (a browser with a push service) or says plainly why it could not
// (headless Chromium here has none).
// (That the server's encrypted bytes decrypt to that JSON is the Go test
// TestPushReachesTheMembersDevices, which plays the push service.)
func TestE2EPushShownByTheServiceWorker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	bob := newBrowser(t, ctx, "bob", true)
	bob.signUp(srv, "bob")
	origin := strings.TrimSuffix(srv.url("/"), "/")

	bob.do("allow notifications", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: origin})
		return err
	}))
	evCtx, stopEvents := context.WithTimeout(bob.ctx, stepTimeout)
	defer stopEvents()
	regs := chromedp.Events(evCtx, serviceworker.WorkerRegistrationUpdated)
	bob.do("watch service workers", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{})
		return err
	}))

	bob.openPage(srv, "/settings/notifications", false)
	if !evalJSAwait[bool](bob, `navigator.serviceWorker.ready.then(r => !!r.active && r.scope === location.origin + "/")`) {
		t.Fatal("/sw.js is not the active service worker for the whole site")
	}
	bob.waitJS("the device's state", `!document.querySelector('#push-subscribe').hidden`, stepTimeout)
	bob.checkAxe("the notification settings with this device's pushes")

	var reg serviceworker.RegistrationID
	for ev, err := range regs {
		if err != nil {
			t.Fatalf("no registration of /sw.js seen: %v", err)
		}
		for _, r := range ev.Registrations {
			if r.ScopeURL == origin+"/" && !r.IsDeleted {
				reg = r.RegistrationID
			}
		}
		if reg != "" {
			break
		}
	}
	data, _ := json.Marshal(map[string]string{"title": "ann in #general", "body": "@bob the deploy is done",
		"url": "/rooms/general?around=7#message-7", "tag": "room-1"})
	bob.do("a push arrives", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{Origin: origin, RegistrationID: reg, Data: string(data)})
		return err
	}))
	bob.waitJS("the notification shown", `(navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => {
			window.shownPushes = ns.map(n => [n.title, n.body, n.data && n.data.url, n.tag].join("|"));
		}), !!window.shownPushes && window.shownPushes.length > 0)`, liveWait)
	shown := evalJS[[]string](bob, `window.shownPushes`)
	if want := "ann in #general|@bob the deploy is done|/rooms/general?around=7#message-7|room-1"; len(shown) != 1 || shown[0] != want {
		t.Fatalf("the service worker shows %q, want %q", shown, want)
	}

	// Subscribing last: a subscription headless Chromium cannot finish may
	// keep its push machinery busy (the page gives up after 8 s, the browser
	// may not), and the push above must not queue behind it.
	bob.do("send pushes to this device", chromedp.Click(chromedp.ID("push-subscribe")))
	bob.waitJS("the outcome", `/^Pushes (come to this device|could not be turned on: .+)/.test(document.querySelector('#push-device-state').textContent)`, stepTimeout+8*time.Second)
	state := bob.textOf("#push-device-state")
	t.Logf("subscribing in headless Chromium: %s", state)
	if strings.HasPrefix(state, "Pushes come") {
		if !evalJSAwait[bool](bob, `navigator.serviceWorker.ready.then(r => r.pushManager.getSubscription()).then(s => !!s)`) {
			t.Error("the page says subscribed, the browser has no subscription")
		}
	}
	bob.shots("push-settings")
}
