package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"agora/chat"
)

// TestLanguageFromBrowser: pages are written in the language the browser
// asks for, where agora speaks it, and in English otherwise; the root
// names the language.
func TestLanguageFromBrowser(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	for _, tc := range []struct{ accept, lang, says string }{
		{"", "en", "Log in"},
		{"en-US,en;q=0.9", "en", "Log in"},
		{"de-DE,de;q=0.9,en;q=0.8", "de", "Anmelden"},
		{"fr-CA,fr;q=0.9", "fr", "Se connecter"},
		{"es-419,es;q=0.9", "es", "Iniciar sesión"},
		{"it-IT,it;q=0.9,de;q=0.5", "de", "Anmelden"},
		{"ja,ko", "en", "Log in"},
		{"de;q=garbage,,;;", "de", "Anmelden"},
		{"fr-FR,fr;q=0.9,fr;q=0.9;q=0.8", "fr", "Se connecter"},
		{";;,,", "en", "Log in"},
		{strings.Repeat("x-", 5000), "en", "Log in"},
	} {
		res := c.do("GET", "/login", nil, map[string]string{"Accept-Language": tc.accept})
		expectStatus(t, res, http.StatusOK)
		if !strings.Contains(res.body, `<html lang="`+tc.lang+`"`) || !strings.Contains(res.body, "<h1>"+tc.says+"</h1>") {
			t.Errorf("Accept-Language %.40q: want lang %s saying %q:\n%.400s", tc.accept, tc.lang, tc.says, res.body)
		}
	}
	// Errors come in the browser's language too, their message included.
	res := c.do("POST", "/login", url.Values{"username": {"nobody"}, "password": {"wrong-password"}}, map[string]string{"Accept-Language": "de"})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Benutzername oder Passwort falsch.") {
		t.Errorf("a failed German login: %d\n%.600s", res.status, res.body)
	}
	c.signup("ann")
	res = c.do("GET", "/no/such/page", nil, map[string]string{"Accept-Language": "es"})
	if res.status != http.StatusNotFound || !strings.Contains(res.body, "No hay nada en esta dirección.") {
		t.Errorf("a Spanish 404: %d\n%.600s", res.status, res.body)
	}
}

// TestLanguageFromProfile: the profile's choice wins over the browser's,
// "" gives the browser its say again, and a language agora does not speak
// is refused with the form.
func TestLanguageFromProfile(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.postMessage("general", "hello")
	german := map[string]string{"Accept-Language": "de-DE,de;q=0.9"}
	page := ann.do("GET", "/rooms/general", nil, german).body
	for _, want := range []string{`<html lang="de"`, `placeholder="Nachricht an #general"`, ">Senden</button>", `data-today="Heute"`, `role="separator">Heute</div>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the German room page lacks %s", want)
		}
	}
	// A refused message's reason, made in English where it is refused, is
	// shown in German beside the text kept in the composer.
	res := ann.do("POST", "/rooms/general/messages", url.Values{"body": {"  "}}, german)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Die Nachricht ist leer.") {
		t.Errorf("an empty message in German: %d\n%.3000s", res.status, res.body)
	}
	expectStatus(t, ann.do("POST", "/settings/profile", url.Values{"language": {"fr"}}, german), http.StatusSeeOther)
	page = ann.do("GET", "/rooms/general", nil, german).body
	for _, want := range []string{`<html lang="fr"`, `placeholder="Écrire dans #general"`, ">Envoyer</button>", "Aujourd’hui"} {
		if !strings.Contains(page, want) {
			t.Errorf("the room page of a reader who chose French lacks %s", want)
		}
	}
	if p := ann.get("/settings/profile").body; !strings.Contains(p, `<option value="fr" lang="fr" selected>Français</option>`) {
		t.Errorf("the profile does not show French chosen:\n%.2000s", p)
	}
	res = ann.post("/settings/profile", url.Values{"language": {"xx"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="form-error"`) {
		t.Errorf("an unknown language: %d\n%.600s", res.status, res.body)
	}
	if p := ann.get("/rooms/general").body; !strings.Contains(p, `<html lang="fr"`) {
		t.Error("a refused language changed the one chosen")
	}
	expectStatus(t, ann.post("/settings/profile", url.Values{"language": {""}}), http.StatusSeeOther)
	if p := ann.do("GET", "/rooms/general", nil, german).body; !strings.Contains(p, `<html lang="de"`) {
		t.Error("back to the browser's language, a German browser does not get German")
	}
	if p := ann.get("/rooms/general").body; !strings.Contains(p, `<html lang="en">`) || !strings.Contains(p, ">Send</button>") {
		t.Error("back to the browser's language, a browser asking nothing does not get English")
	}
}

// TestLanguageListsApart: readers of one room in different languages each
// get the room's shared list in their own (it is rendered once per look,
// and the language is part of the look).
func TestLanguageListsApart(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.postMessage("general", "hello")
	for i := 0; i < 2; i++ {
		de := ann.do("GET", "/rooms/general", nil, map[string]string{"Accept-Language": "de"}).body
		en := bob.get("/rooms/general").body
		if !strings.Contains(de, `aria-label="Aktionen zur Nachricht"`) || strings.Contains(de, `aria-label="Message actions"`) {
			t.Errorf("round %d: the German reader's list is not German", i)
		}
		if !strings.Contains(en, `aria-label="Message actions"`) || strings.Contains(en, "Aktionen zur Nachricht") {
			t.Errorf("round %d: the English reader's list is not English", i)
		}
	}
}

// TestLanguageLiveFragments: one room, two sockets, two languages. What the
// room's sockets are sent live (a new message, its edit and deletion, who
// is typing, who is here) comes to each in its reader's language, and the
// English reader gets exactly the English words.
func TestLanguageLiveFragments(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	expectStatus(t, bob.post("/settings/profile", url.Values{"language": {"de"}}), http.StatusSeeOther)
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	a, b := ann.dial("general", -1), bob.dial("general", -1)
	if !strings.Contains(b.readUntil(`data-user="ann"`), `aria-label="Jetzt online"`) {
		t.Errorf("bob's list of who is here is not German:\n%.1000s", b.text.String())
	}
	a.readUntil(`data-user="bob"`)

	a.say("guten Tag")
	b.readUntil("guten Tag")
	a.readUntil("guten Tag")
	id := ann.lastMessageID("general")
	expectStatus(t, ann.post("/messages/"+strconv.FormatInt(id, 10)+"/edit", url.Values{"body": {"good day"}}), http.StatusSeeOther)
	de, en := b.readUntil("(bearbeitet)"), a.readUntil("(edited)")
	if strings.Contains(de, "(edited)") || strings.Contains(en, "(bearbeitet)") {
		t.Errorf("an edit crossed languages:\nbob: %.3000s\nann: %.3000s", de, en)
	}
	if !strings.Contains(de, `aria-label="Aktionen zur Nachricht"`) || !strings.Contains(en, `aria-label="Message actions"`) {
		t.Error("the new message's menu is not in each reader's language")
	}

	b.send([]byte(`{"typing":"1","HEADERS":{"HX-Trigger":"typing-signal"}}`))
	a.readUntil("bob is typing…")
	a.send([]byte(`{"typing":"1","HEADERS":{"HX-Trigger":"typing-signal"}}`))
	b.readUntil("ann schreibt …")

	expectStatus(t, ann.post("/messages/"+strconv.FormatInt(id, 10)+"/delete", nil), http.StatusSeeOther)
	de, en = b.readUntil("Nachricht gelöscht"), a.readUntil(">message deleted<")
	if strings.Contains(de, ">message deleted<") || strings.Contains(en, "Nachricht gelöscht") || strings.Contains(en, "schreibt") {
		t.Errorf("a deletion crossed languages:\nbob: %.3000s\nann: %.3000s", de, en)
	}
}

// TestLanguageNotices: a notice the server writes is read in each reader's
// language, on the page and live; one stored before notices kept their
// words shows as it was stored.
func TestLanguageNotices(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	expectStatus(t, bob.post("/settings/profile", url.Values{"language": {"de"}}), http.StatusSeeOther)
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	b := bob.dial("general", -1)
	ctx := context.Background()
	general := ts.room(t, "general")
	annUser, err := ts.store.UserByUsername(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.store.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: annUser.ID, Kind: chat.MessageNotice, Body: "ann waved (an old notice)"}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, ann.post("/rooms/general/topic", url.Values{"topic": {"Pläne & <Ideen>"}}), http.StatusSeeOther)
	if got := b.readUntil("hat das Thema festgelegt"); !strings.Contains(got, "ann hat das Thema festgelegt: Pläne &amp; &lt;Ideen&gt;") {
		t.Errorf("bob's live notice:\n%.3000s", got)
	}
	de := bob.get("/rooms/general").body
	en := ann.get("/rooms/general").body
	for _, want := range []string{"bob ist #general beigetreten", "ann hat das Thema festgelegt: Pläne &amp; &lt;Ideen&gt;", "ann waved (an old notice)"} {
		if !strings.Contains(de, want) {
			t.Errorf("bob's page lacks %q", want)
		}
	}
	for _, want := range []string{"bob joined #general", "ann set the topic: Pläne &amp; &lt;Ideen&gt;", "ann waved (an old notice)"} {
		if !strings.Contains(en, want) {
			t.Errorf("ann's page lacks %q", want)
		}
	}
	// What is stored stays English: the API and search read the body.
	msgs, err := ts.store.MessagesAfter(ctx, general.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, m.Body)
	}
	if !slices.Contains(bodies, "ann set the topic: Pläne & <Ideen>") || !slices.Contains(bodies, "bob joined #general") {
		t.Errorf("stored bodies: %q", bodies)
	}
}

// TestLanguageAdminPages: the admin pages and their flashes, values and
// all, in the admin's language; English as it was.
func TestLanguageAdminPages(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ts.client(t).signup("bob")
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"plans"}}), http.StatusSeeOther)
	german := map[string]string{"Accept-Language": "de"}
	ann.do("POST", "/admin/rooms/plans/archive", nil, german)
	res := ann.do("GET", "/admin/rooms", nil, german)
	if !strings.Contains(res.body, `id="form-ok" role="status">#plans ist archiviert.</p>`) {
		t.Errorf("the German flash:\n%.4000s", res.body)
	}
	for path, want := range map[string][]string{
		"/admin/users":              {"<th>Benutzer</th>", ">Zum Admin machen</button>", `aria-label="Einen Link zum Zurücksetzen des Passworts für bob erstellen"`},
		"/admin/rooms":              {">Umbenennen</button>", `placeholder="wie der Server"`, "Derzeit: folgt der Einstellung des Servers: für immer.", ">archiviert</span>", ">Wieder öffnen</button>"},
		"/admin/invites":            {"<option value=\"7\" selected>7 Tage</option>", "<option value=\"1\">1 Tag</option>"},
		"/admin/jobs":               {"0 wartend, 0 laufend, 0 fehlgeschlagen"},
		"/admin/emoji":              {"Ein hier hinzugefügtes Emoji schreibt man <code>:name:</code> in Nachrichten", ">Emoji hinzufügen</button>"},
		"/admin/groups":             {">Gruppe erstellen</button>", "Noch keine Gruppen."},
		"/settings/notifications":   {" Nie</label>", "E-Mails gehen an eine bestätigte Adresse: <a", " Aus auf allen Geräten</label>"},
		"/settings/email":           {"wann du E-Mails über Verpasstes bekommst."},
		"/admin/rooms/plans/delete": {"Gib den Namen des Raums, <strong>plans</strong>, zur Bestätigung ein"},
	} {
		page := ann.do("GET", path, nil, german).body
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s in German lacks %s", path, w)
			}
		}
	}
	if page := ann.get("/admin/rooms").body; !strings.Contains(page, `placeholder="server's"`) || !strings.Contains(page, ">Unarchive</button>") {
		t.Error("the English rooms page changed")
	}
	// A new hook's URL, shown once: in English as it was written, and in German.
	en := ann.post("/admin/hooks", url.Values{"room": {"general"}, "username": {"ci"}}).body
	if !strings.Contains(en, `aria-label="The new hook's URL"`) || !strings.Contains(en, "<p>The new hook's URL. Copy it now: it will not be shown again. Whoever has it can post to the room.</p>") {
		t.Errorf("the English new hook:\n%.6000s", en)
	}
	de := ann.do("POST", "/admin/hooks", url.Values{"room": {"general"}, "username": {"cd"}}, german).body
	for _, w := range []string{`aria-label="Die URL des neuen Hooks"`, "<p>Die URL des neuen Hooks. Kopiere sie jetzt:", "<th>Zuletzt benutzt</th>", ">Hook erstellen</button>"} {
		if !strings.Contains(de, w) {
			t.Errorf("the German hooks page lacks %s", w)
		}
	}
}
