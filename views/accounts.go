package views

import (
	"context"
	"strings"
	"time"

	"agora/views/locale"
)

// dateText is a date and time as the admin and settings pages show them.
func dateText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// dateTextIn is dateText in the language ctx carries.
func dateTextIn(ctx context.Context, t time.Time) string {
	l := locale.From(ctx)
	switch {
	case l == locale.English:
		return dateText(t)
	case t.IsZero():
		return locale.Text(l, "date.never")
	}
	t = t.UTC()
	return Clock{Lang: l}.date("date.short", t, "Time", t.Format("15:04"), "Zone", "UTC")
}

// Device names the browser and system of a User-Agent in a few words, as the
// sessions page shows them ("Firefox on Linux"); the whole string is in the
// page's title attribute. The first known token wins, so the order matters:
// Chrome's string names Safari too, Edge's and Opera's name Chrome, an
// iPhone's names Mac OS X and Android's names Linux.
func Device(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := "A browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"EdgiOS/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "A Go program"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			return browser + " on " + o.name
		}
	}
	return browser
}

// membersText is a member count in words: "1 member", "12 members".
func membersText(ctx context.Context, n int) string { return tsn(ctx, "count.members", n) }
