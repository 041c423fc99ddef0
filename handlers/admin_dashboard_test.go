package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

type statsJSON struct {
	From         string `json:"from"`
	To           string `json:"to"`
	Messages     int64  `json:"messages"`
	ActivePeople int64  `json:"active_people"`
	Days         []struct {
		Date         string `json:"date"`
		Messages     int64  `json:"messages"`
		ActivePeople int64  `json:"active_people"`
		StorageBytes int64  `json:"storage_bytes"`
	} `json:"days"`
	BusiestRooms []struct {
		Slug     string `json:"slug"`
		Name     string `json:"name"`
		Private  bool   `json:"private"`
		Messages int64  `json:"messages"`
	} `json:"busiest_rooms"`
	Storage struct {
		Bytes      int64 `json:"bytes"`
		Files      int64 `json:"files"`
		LimitBytes int64 `json:"limit_bytes"`
	} `json:"storage"`
}

// tableValues is a dashboard table's rows: label → data-value.
func tableValues(t *testing.T, page *html.Node, id string) (labels []string, values []int64) {
	t.Helper()
	table := byID(page, id)
	if table == nil {
		t.Fatalf("no #%s on the dashboard", id)
	}
	for _, tr := range findAll(table, func(n *html.Node) bool { _, ok := attr(n, "data-value"); return n.Data == "tr" && ok }) {
		v, _ := attr(tr, "data-value")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("#%s: data-value %q", id, v)
		}
		label, _ := attr(tr, "data-date")
		if label == "" {
			label = text(findAll(tr, func(n *html.Node) bool { return n.Data == "td" })[0])
		}
		labels, values = append(labels, strings.TrimSpace(label)), append(values, n)
	}
	return labels, values
}

// /admin opens on the last 30 days: four SVG charts, each an image with a
// title and its numbers as a table, the same numbers as the API's JSON for
// an admin's token; nobody else sees either.
func TestAdminDashboard(t *testing.T) {
	ts := newTestServer(t)
	root := ts.client(t).signup("root")
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")

	// Hidden from everyone but admins, page and API alike.
	expectStatus(t, ann.get("/admin"), http.StatusNotFound)
	api := ts.api(t, ann.makeToken("script"))
	res := api.call("GET", "/api/v1/admin/stats", nil)
	expectAPI(t, res, http.StatusForbidden)
	if code := res.errCode(t); code != "forbidden" {
		t.Errorf("a member's token: error %q", code)
	}
	res = ts.api(t, "").call("GET", "/api/v1/admin/stats", nil)
	expectAPI(t, res, http.StatusUnauthorized)
	res = ts.api(t, "not-a-token").call("GET", "/api/v1/admin/stats", nil)
	expectAPI(t, res, http.StatusUnauthorized)
	if res := ann.get("/api/v1/admin/stats"); res.status != http.StatusUnauthorized {
		t.Errorf("a session cookie on the API: %d, want 401", res.status)
	}

	// Something to count: ann writes 3 in general, bob 2 in a room of his
	// and one file, ann a DM (counted, never listed as a room); the
	// joins are notices, not messages.
	for i := range 3 {
		ann.postMessage("general", "hello "+strconv.Itoa(i))
	}
	expectStatus(t, bob.post("/rooms", url.Values{"name": {"Ops Talk"}}), http.StatusSeeOther)
	bob.postMessage("ops-talk", "deploying")
	bob.mustUpload("ops-talk", "notes.txt", []byte(strings.Repeat("n", 3000)), "the notes")
	expectStatus(t, ann.post("/rooms/general/messages", url.Values{"body": {"  "}}), http.StatusUnprocessableEntity) // refused: not counted
	expectAPI(t, api.call("POST", "/api/v1/dm/bob/messages", map[string]string{"body": "psst"}), http.StatusCreated)

	today := time.Now().UTC().Format(time.DateOnly)
	var st statsJSON
	res = ts.api(t, root.makeToken("dash")).call("GET", "/api/v1/admin/stats", nil)
	expectAPI(t, res, http.StatusOK)
	res.json(t, &st)
	if len(st.Days) != 30 || st.To != today || st.Days[29].Date != today || st.From != st.Days[0].Date {
		t.Fatalf("stats from %s to %s in %d days, want 30 ending %s", st.From, st.To, len(st.Days), today)
	}
	last := st.Days[29]
	if st.Messages != 6 || last.Messages != 6 || st.ActivePeople != 2 || last.ActivePeople != 2 {
		t.Errorf("today: %d messages by %d people (total %d, %d), want 6 by 2", last.Messages, last.ActivePeople, st.Messages, st.ActivePeople)
	}
	if len(st.BusiestRooms) != 2 || st.BusiestRooms[0].Slug != "general" || st.BusiestRooms[0].Messages != 3 ||
		st.BusiestRooms[1].Slug != "ops-talk" || st.BusiestRooms[1].Name != "Ops Talk" || st.BusiestRooms[1].Messages != 2 {
		t.Errorf("busiest rooms: %+v", st.BusiestRooms)
	}
	if st.Storage.Bytes != 3000 || st.Storage.Files != 1 || last.StorageBytes != 3000 || st.Days[28].StorageBytes != 0 {
		t.Errorf("storage: %+v, today %d, yesterday %d", st.Storage, last.StorageBytes, st.Days[28].StorageBytes)
	}

	// The page: the admin link leads here; four charts, each with its
	// numbers, which are the API's.
	lobby := doc(t, root.get("/").body)
	if a := byID(lobby, "admin-link"); a == nil || func() string { h, _ := attr(a, "href"); return h }() != "/admin" {
		t.Error("the admin link does not open the dashboard")
	}
	page := root.get("/admin")
	expectStatus(t, page, http.StatusOK)
	d := doc(t, page.body)
	for _, id := range []string{"messages", "people", "rooms", "storage"} {
		fig := byID(d, "chart-"+id)
		if fig == nil {
			t.Fatalf("no #chart-%s", id)
		}
		svgs := findAll(fig, func(n *html.Node) bool { return n.Data == "svg" })
		if len(svgs) != 1 {
			t.Fatalf("#chart-%s holds %d svg", id, len(svgs))
		}
		role, _ := attr(svgs[0], "role")
		titles := findAll(svgs[0], func(n *html.Node) bool { return n.Data == "title" && n.Parent == svgs[0] })
		if role != "img" || len(titles) != 1 || strings.TrimSpace(text(titles[0])) == "" {
			t.Errorf("#chart-%s: svg role %q, %d titles", id, role, len(titles))
		}
		if findAll(fig, func(n *html.Node) bool { return n.Data == "table" }) == nil {
			t.Errorf("#chart-%s has no table of its numbers", id)
		}
	}
	for id, want := range map[string]func(i int) int64{
		"table-messages": func(i int) int64 { return st.Days[i].Messages },
		"table-people":   func(i int) int64 { return st.Days[i].ActivePeople },
		"table-storage":  func(i int) int64 { return st.Days[i].StorageBytes },
	} {
		dates, values := tableValues(t, d, id)
		if len(values) != 30 {
			t.Fatalf("#%s has %d rows, want 30", id, len(values))
		}
		for i := range values {
			if dates[i] != st.Days[i].Date || values[i] != want(i) {
				t.Errorf("#%s row %d: %s %d, the API says %s %d", id, i, dates[i], values[i], st.Days[i].Date, want(i))
			}
		}
	}
	rooms, counts := tableValues(t, d, "table-rooms")
	if strings.Join(rooms, ",") != "#general,#Ops Talk" || len(counts) != 2 || counts[0] != 3 || counts[1] != 2 {
		t.Errorf("the rooms' table: %v %v", rooms, counts)
	}
	// A bar for each day with messages: today's, as tall as the scale's top
	// allows, and none for the empty days.
	bars := findAll(byID(d, "chart-messages"), func(n *html.Node) bool { return n.Data == "rect" })
	if len(bars) != 1 {
		t.Fatalf("%d bars in the messages chart, want 1 (today)", len(bars))
	}
	if date, _ := attr(bars[0], "data-date"); date != today {
		t.Errorf("the bar is of %s, want today", date)
	}
	summary := text(byID(d, "stats-summary"))
	for _, want := range []string{"6 messages", "2 people active", "2.9 KB in 1 file"} {
		if !strings.Contains(strings.Join(strings.Fields(summary), " "), want) {
			t.Errorf("the summary %q does not say %q", summary, want)
		}
	}
}
