//go:build e2e

// Browser tests of the conversation tools (issue 21): search filters, pins
// and saved messages, slash commands, the quick switcher. They reuse the
// harness of e2e_test.go. Run them with `make e2e`.
package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// resultsShown are the texts of the search page's results.
func (b *browser) resultsShown() []string {
	b.t.Helper()
	return evalJS[[]string](b, `[...document.querySelectorAll('#results a.result-link')].map(a => a.textContent.trim())`)
}

// TestE2ESearchFilters: the search page's filter fields narrow a search,
// with JavaScript and without; a bad value is said on the page, the text
// kept; the page passes axe in both schemes at both widths.
func TestE2ESearchFilters(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	alice.postForms("general", []string{"launch checklist for friday", "launch party at https://example.com/party"})
	bob.openRoom(srv, "general")
	bob.postForms("general", []string{"launch retro notes"})
	carol := newBrowser(t, alice.ctx, "carol", false)
	carol.signUp(srv, "carol")

	for _, b := range []*browser{bob, carol} {
		if status := b.navigate("open search", chromedp.Navigate(srv.url("/search"))); status != http.StatusOK {
			t.Fatalf("%s: /search answered %d", b.name, status)
		}
		b.do("open the filters and fill them",
			chromedp.Click(chromedp.CSS(`.search-filters summary`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name="from"]`)),
			chromedp.SendKeys(chromedp.ID("search-page-q"), "launch -party"),
			chromedp.SendKeys(chromedp.CSS(`input[name="from"]`), "alice"),
		)
		if status := b.navigate("search", chromedp.Click(chromedp.CSS(`.search-form button[type="submit"]`))); status != http.StatusOK {
			t.Fatalf("%s: the search answered %d\n%s", b.name, status, b.pageSummary())
		}
		if got := b.resultsShown(); len(got) != 1 || got[0] != "launch checklist for friday" {
			t.Errorf("%s: `launch -party` from alice shows %q, want only the checklist", b.name, got)
		}
		if v := evalJS[string](b, `document.querySelector('input[name="from"]').value`); v != "alice" {
			t.Errorf("%s: the from field holds %q after the search", b.name, v)
		}
		// has:link typed in the box, with the fields as they are.
		b.do("type has:link", chromedp.SetValue(chromedp.ID("search-page-q"), "has:link"))
		if status := b.navigate("search again", chromedp.Click(chromedp.CSS(`.search-form button[type="submit"]`))); status != http.StatusOK {
			t.Fatalf("%s: the search answered %d", b.name, status)
		}
		if got := b.resultsShown(); len(got) != 1 || !strings.HasPrefix(got[0], "launch party") {
			t.Errorf("%s: has:link from alice shows %q, want the party", b.name, got)
		}
		// A bad value: 422, said on the page, the text kept.
		b.do("type a bad day", chromedp.SetValue(chromedp.ID("search-page-q"), "launch before:friday"))
		if status := b.navigate("search with a bad day", chromedp.Click(chromedp.CSS(`.search-form button[type="submit"]`))); status != http.StatusUnprocessableEntity {
			t.Errorf("%s: a bad day answered %d, want 422", b.name, status)
		}
		if e := evalJS[string](b, `document.getElementById("form-error")?.textContent || ""`); !strings.Contains(e, "YYYY-MM-DD") {
			t.Errorf("%s: the page says %q about before:friday", b.name, e)
		}
		if v := evalJS[string](b, `document.getElementById("search-page-q").value`); v != "launch before:friday" {
			t.Errorf("%s: the box holds %q after the refusal", b.name, v)
		}
	}

	bob.auditPage(srv, "search-filters", "/search?q=launch&from=alice&has=link", false)
	bob.auditPage(srv, "search-notice", "/search?q=launch+body:x", false)
	// The refused search (422) in both schemes.
	bob.navigate("a refused search", chromedp.Navigate(srv.url("/search?q=launch+has:video")))
	for _, scheme := range []string{"light", "dark"} {
		bob.setColorScheme(scheme)
		bob.checkAxe("/search?q=launch+has:video (" + scheme + ")")
		bob.shootAs("ux-search-error-" + scheme + "-desktop.png")
	}
	bob.setColorScheme("light")
}
