//go:build e2e

package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// speakingBrowser is a browser set to a language: the Accept-Language
// it sends, navigator.language, and the locale Intl falls back to.
func speakingBrowser(t *testing.T, ctx context.Context, name string, js bool, lang, accept string) *browser {
	t.Helper()
	b := newBrowserWith(t, ctx, name, js, chromedp.Flag("lang", lang), chromedp.Flag("accept-lang", accept))
	if got := evalJS[string](b, `navigator.language`); !strings.HasPrefix(got, lang[:2]) {
		t.Fatalf("%s: navigator.language is %q, want %s", name, got, lang)
	}
	return b
}

// auditNoJS is auditPage for the page a browser without JavaScript has
// open: axe needs script to run, so the page's is allowed for axe's run
// alone, after the page loaded without it (what the page skipped stays
// skipped), and the screenshots show the page as it loaded.
func (b *browser) auditNoJS(name string) {
	b.t.Helper()
	scripts := func(on bool) {
		b.do("scripts on: "+fmt.Sprint(on), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
			return err
		}))
	}
	b.mouseAway()
	b.inEveryLook(func(scheme, size string) {
		scripts(true)
		b.checkAxe(fmt.Sprintf("%s without JavaScript (%s, %s)", name, scheme, size))
		scripts(false)
		b.shootAs(fmt.Sprintf("ux-%s-%s-%s.png", name, scheme, size))
	})
}

// pageSays fails unless the page's root names lang and each text is shown
// (in its text or, for a selector=value, that element's attribute).
func (b *browser) pageSays(lang string, texts ...string) {
	b.t.Helper()
	if got := evalJS[string](b, `document.documentElement.lang`); got != lang {
		b.t.Errorf("%s: <html lang=%q>, want %q\n%s", b.name, got, lang, b.pageSummary())
	}
	body := evalJS[string](b, `document.body.textContent`)
	for _, s := range texts {
		if !strings.Contains(body, s) {
			b.t.Errorf("%s: the page (lang %s) does not say %q:\n%.1500s", b.name, lang, s, body)
		}
	}
}

var frenchDay = regexp.MustCompile(`^(lun|mar|mer|jeu|ven|sam|dim)`)

// TestE2ELanguages: a German browser gets agora in German, with its
// script and without; a reader who picks Français on the profile gets
// French whatever the browser asks; times and day lines are written in the
// page's language, by the server and by app.js alike; axe finds nothing in
// any language, at 1280 and 390 px, light and dark.
func TestE2ELanguages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*testTimeout)
	defer cancel()
	srv := newServer(t)

	// A German browser, JavaScript on.
	ann := speakingBrowser(t, ctx, "ann", true, "de-DE", "de-DE,de,en")
	ann.navigate("open /signup", chromedp.Navigate(srv.url("/signup")))
	ann.pageSays("de", "Konto erstellen", "Benutzername", "Passwort")
	ann.auditPage(srv, "i18n-de-signup", "/signup", false)
	ann.signUp(srv, "ann")
	ann.openRoom(srv, "general")
	ann.send("Guten Morgen zusammen")
	ann.pageSays("de", "Räume", "Räume entdecken", "Neuer Raum", "Heute", "Guten Morgen zusammen")
	if got := evalJS[string](ann, `document.querySelector("#composer button[type=submit]").textContent`); got != "Senden" {
		t.Errorf("the German composer's button says %q", got)
	}
	if got := evalJS[string](ann, `document.querySelector("#body").placeholder`); got != "Nachricht an #general" {
		t.Errorf("the German composer's placeholder is %q", got)
	}
	// The day line app.js keeps and the times it writes are German: a time
	// of day with no AM/PM, and the cookie that tells the server so.
	if got := evalJS[[]string](ann, `[...document.querySelectorAll("#messages .day-divider")].map(e => e.textContent)`); len(got) == 0 || got[len(got)-1] != "Heute" {
		t.Errorf("the German day lines are %q", got)
	}
	times := evalJS[[]string](ann, `[...document.querySelectorAll("#messages time")].map(e => e.textContent)`)
	for _, tm := range times {
		if strings.Contains(tm, "M") {
			t.Errorf("a German page shows the time %q", tm)
		}
	}
	ann.waitJS("the clock cookie in German", `document.cookie.includes("agora_hc=de")`, liveWait)
	// Chromium names days as the server does for the page's language.
	for _, tc := range []struct{ lang, want string }{
		{"de", "Montag, 7. Dezember"}, {"fr", "lundi 7 décembre"}, {"es", "lunes, 7 de diciembre"},
	} {
		got := evalJS[string](ann, fmt.Sprintf(`new Intl.DateTimeFormat(%q, {weekday: "long", day: "numeric", month: "long"}).format(new Date(2026, 11, 7))`, tc.lang))
		if got != tc.want {
			t.Errorf("Chromium writes 7 December 2026 in %s as %q, the server as %q", tc.lang, got, tc.want)
		}
	}
	ann.auditPage(srv, "i18n-de-room", "/rooms/general", true)
	ann.auditPage(srv, "i18n-de-profile", "/settings/profile", false)

	// The same in German without JavaScript.
	bob := speakingBrowser(t, ctx, "bob", false, "de-DE", "de-DE,de")
	bob.signUp(srv, "bob")
	if status := bob.navigate("open the room", chromedp.Navigate(srv.url("/rooms/general"))); status != http.StatusOK {
		t.Fatalf("bob's room page: %d", status)
	}
	bob.pageSays("de", "Räume", "Heute", "Guten Morgen zusammen", "Senden", "Mitglieder")
	bob.auditNoJS("i18n-de-room-nojs")

	// A German browser whose reader picks Français on the profile.
	cara := speakingBrowser(t, ctx, "cara", true, "de-DE", "de-DE,de")
	cara.signUp(srv, "cara")
	cara.navigate("open the profile", chromedp.Navigate(srv.url("/settings/profile")))
	cara.do("pick Français", chromedp.SetValue(chromedp.ID("language"), "fr"))
	cara.navigate("save the profile", chromedp.Click(chromedp.CSS(`.settings-form button[type="submit"]`)))
	cara.pageSays("fr", "Votre profil", "Langue")
	cara.openRoom(srv, "general")
	cara.pageSays("fr", "Salons", "Parcourir les salons", "Aujourd’hui", "Guten Morgen zusammen")
	if got := evalJS[string](cara, `document.querySelector("#composer button[type=submit]").textContent`); got != "Envoyer" {
		t.Errorf("the French composer's button says %q", got)
	}
	// app.js formats in the page's language, not the German browser's.
	cara.waitJS("the clock cookie in French", `document.cookie.includes("agora_hc=fr:")`, liveWait)
	// The server writes them so from the next page on, the cookie saying
	// how this browser writes French times.
	cara.openRoom(srv, "general")
	if title := evalJS[string](cara, `document.querySelector("#messages time[data-local]").title`); !frenchDay.MatchString(title) {
		t.Errorf("a French reader's time title is %q", title)
	}
	cara.auditPage(srv, "i18n-fr-room", "/rooms/general", true)
	cara.auditPage(srv, "i18n-fr-profile", "/settings/profile", false)

	// Spanish, from the browser alone, signed out and in.
	dan := speakingBrowser(t, ctx, "dan", true, "es-ES", "es-ES,es")
	dan.navigate("open /login", chromedp.Navigate(srv.url("/login")))
	dan.pageSays("es", "Iniciar sesión", "¿Olvidaste tu contraseña?")
	dan.auditPage(srv, "i18n-es-login", "/login", false)
	dan.signUp(srv, "dan")
	dan.openRoom(srv, "general")
	dan.pageSays("es", "Salas", "Hoy", "Guten Morgen zusammen")
	dan.auditPage(srv, "i18n-es-room", "/rooms/general", true)
	dan.navigate("open a page that is not there", chromedp.Navigate(srv.url("/no/such/page")))
	dan.pageSays("es", "No encontrado", "No hay nada en esta dirección.")
	dan.checkAxe("the Spanish 404")
}

// TestE2ELanguagesLive: an English and a German reader in one room, each
// over a real socket in Chromium. What the room's sockets are sent live (a
// new message, "(edited)", "message deleted", who is typing, a notice)
// reaches each in their own language. Then the admin pages, in German,
// French and Spanish: axe finds nothing at 1280 and 390 px, light and dark.
func TestE2ELanguagesLive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*testTimeout)
	defer cancel()
	srv := newServer(t)
	ann := speakingBrowser(t, ctx, "ann", true, "en-US", "en-US,en")
	ann.signUp(srv, "ann") // the first account: an admin
	bea := speakingBrowser(t, ctx, "bea", true, "de-DE", "de-DE,de")
	bea.signUp(srv, "bea")
	ann.openRoom(srv, "general")
	bea.openRoom(srv, "general")

	ann.send("first words")
	ann.send("second thoughts")
	bea.waitJS(`"second thoughts" at bea's`, hasMessageJS("second thoughts"), liveWait)
	ids := evalJS[[]string](ann, `[...document.querySelectorAll('#messages > .message')].filter(e => /first words|second thoughts/.test(e.textContent)).map(e => e.dataset.id)`)
	if len(ids) != 2 {
		t.Fatalf("ann's messages: %q", ids)
	}
	post := func(b *browser, path string, form map[string]string) {
		b.t.Helper()
		q, _ := json.Marshal(form)
		status := evalJSAwait[int](b, fmt.Sprintf(`fetch(%q, {method: "POST", body: new URLSearchParams(%s), redirect: "manual"}).then(r => r.status || 303)`, path, q))
		if status >= 400 {
			t.Fatalf("%s: POST %s answered %d", b.name, path, status)
		}
	}
	post(ann, "/messages/"+ids[0]+"/edit", map[string]string{"body": "first words, better"})
	post(ann, "/messages/"+ids[1]+"/delete", nil)
	post(ann, "/rooms/general/topic", map[string]string{"topic": "Weekly plans"})
	edited := `document.querySelector('#message-%s .edited')?.textContent === %q`
	deleted := `document.querySelector('#message-%s .deleted-mark')?.textContent === %q`
	bea.waitJS("(bearbeitet) at bea's", fmt.Sprintf(edited, ids[0], "(bearbeitet)"), liveWait)
	ann.waitJS("(edited) at ann's", fmt.Sprintf(edited, ids[0], "(edited)"), liveWait)
	bea.waitJS("Nachricht gelöscht at bea's", fmt.Sprintf(deleted, ids[1], "Nachricht gelöscht"), liveWait)
	ann.waitJS("message deleted at ann's", fmt.Sprintf(deleted, ids[1], "message deleted"), liveWait)
	bea.waitJS("the topic's notice in German", `[...document.querySelectorAll('#messages .notice')].some(e => e.textContent.includes("ann hat das Thema festgelegt: Weekly plans"))`, liveWait)
	ann.waitJS("the topic's notice in English", `[...document.querySelectorAll('#messages .notice')].some(e => e.textContent.includes("ann set the topic: Weekly plans"))`, liveWait)

	// Typing, each way. (#typing is replaced by each frame: what it said
	// is kept as it comes, so a mark that expired meanwhile still counts.)
	watch := `window.__typings = []; new MutationObserver(() => window.__typings.push(document.querySelector('#typing').textContent)).observe(document.body, {subtree: true, childList: true, characterData: true})`
	ann.do("watch #typing", chromedp.Evaluate[chromedp.Void](watch))
	bea.do("watch #typing", chromedp.Evaluate[chromedp.Void](watch))
	bea.do("bea types", chromedp.SendKeys(chromedp.ID("body"), "ja"))
	ann.waitJS("bea is typing… at ann's", `window.__typings.includes("bea is typing…")`, liveWait)
	// A fresh page: the typing signal is throttled to one per 2 s, and ann
	// typed her messages a moment ago.
	ann.openRoom(srv, "general")
	ann.do("ann types", chromedp.SendKeys(chromedp.ID("body"), "and so"))
	bea.waitJS("ann schreibt … at bea's", `window.__typings.includes("ann schreibt …")`, liveWait)
	bea.mouseAway()
	bea.shootAs("ux-i18n-de-live-light-desktop.png")
	bea.setColorScheme("dark")
	bea.phoneViewport()
	bea.shootAs("ux-i18n-de-live-dark-phone.png")
	bea.desktopViewport()
	bea.setColorScheme("light")
	bea.checkAxe("the German room after live fragments")
	for _, b := range []*browser{ann, bea} {
		body := evalJS[string](b, `document.querySelector('#messages').textContent`)
		other := map[*browser][]string{ann: {"bearbeitet", "gelöscht", "Thema festgelegt"}, bea: {"(edited)", "message deleted", "set the topic"}}[b]
		for _, s := range other {
			if strings.Contains(body, s) {
				t.Errorf("%s's page shows %q, the other reader's language", b.name, s)
			}
		}
	}

	// The admin pages in every language but English (the English ones are
	// TestE2EAccessibility's).
	post(ann, "/admin/invites", map[string]string{"uses": "2", "days": "7"})
	post(ann, "/admin/groups", map[string]string{"name": "design"})
	post(ann, "/admin/hooks", map[string]string{"room": "general", "username": "ci"})
	post(ann, "/admin/groups/design/members", map[string]string{"username": "bea"})
	for _, lang := range []string{"de", "fr", "es"} {
		post(ann, "/settings/profile", map[string]string{"language": lang})
		for _, page := range []struct{ name, path string }{
			{"users", "/admin/users"}, {"rooms", "/admin/rooms"}, {"invites", "/admin/invites"}, {"jobs", "/admin/jobs"},
			{"delete-room", "/admin/rooms/general/delete"}, {"deactivate", "/admin/users/bea/deactivate"},
			{"emoji", "/admin/emoji"}, {"groups", "/admin/groups"}, {"hooks", "/admin/hooks"},
		} {
			ann.auditPage(srv, "i18n-"+lang+"-admin-"+page.name, page.path, false)
			if got := evalJS[string](ann, `document.documentElement.lang`); got != lang {
				t.Errorf("%s in %s: <html lang=%q>", page.path, lang, got)
			}
		}
	}
	ann.navigate("open the Spanish users page", chromedp.Navigate(srv.url("/admin/users")))
	ann.pageSays("es", "Usuario", "Hacer admin", "tú", "Registro de auditoría")
}
