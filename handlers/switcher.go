package handlers

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
	"agora/views/locale"
)

// maxSwitcher bounds the quick switcher's answers.
const maxSwitcher = 20

// handleGo is the quick switcher: rooms, direct conversations and people
// the user may open, fuzzy matched to ?q=. Without JavaScript it is a page
// of links; the Ctrl+K dialog (switcher.js) asks for the list alone.
func (s *Server) handleGo(c echo.Context) error {
	u, _ := userFrom(c)
	q := strings.TrimSpace(strings.ToValidUTF8(c.QueryParam("q"), ""))
	if r := []rune(q); len(r) > 64 {
		q = string(r[:64])
	}
	items, err := s.switcherItems(c, u, q)
	if err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") != "" {
		return render(c, http.StatusOK, views.GoResults(items))
	}
	p, err := s.page(c, "Go to", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.GoPage(p, q, items))
}

// switcherItems are what u may open that matches q, best first: rooms they
// may read or join (the access policy decides), their direct
// conversations, and people they may message.
func (s *Server) switcherItems(c echo.Context, u chat.User, q string) ([]views.GoItem, error) {
	ctx := c.Request().Context()
	type scored struct {
		views.GoItem
		score int
	}
	var out []scored
	seen := map[string]bool{}
	add := func(it views.GoItem, names ...string) {
		best, ok := 0, false
		for _, n := range names {
			if sc, hit := chat.FuzzyScore(q, n); hit && (!ok || sc > best) {
				best, ok = sc, true
			}
		}
		if ok && !seen[it.URL] {
			seen[it.URL] = true
			out = append(out, scored{it, best})
		}
	}
	nav, err := s.store.Nav(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, r := range nav {
		if r.IsDM() && r.Peer.ID != 0 {
			add(views.GoItem{Kind: "dm", Name: "@" + r.Peer.Name(), Detail: "@" + r.Peer.Username, URL: "/dm/" + r.Peer.Username},
				r.Peer.Username, r.Peer.Name())
		}
	}
	rooms, err := s.store.BrowseRooms(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, r := range rooms {
		if a := chat.Access(u, r.Room, r.Member); !a.Read && !a.Join {
			continue
		}
		detail := r.Topic
		if !r.Member && detail != "" {
			detail = locale.T(c.Request().Context(), "switcher.not_joined") + " · " + detail
		} else if !r.Member {
			detail = locale.T(c.Request().Context(), "switcher.not_joined")
		}
		add(views.GoItem{Kind: "room", Name: views.RoomTitle(r.Room), Detail: detail, URL: "/rooms/" + r.Slug}, r.Name, r.Slug)
	}
	if chat.MayHoldDMs(u) {
		people, err := s.store.People(ctx, chat.SubsequencePattern(q), 50)
		if err != nil {
			return nil, err
		}
		for _, p := range people {
			add(views.GoItem{Kind: "person", Name: p.Name(), Detail: "@" + p.Username, URL: "/dm/" + p.Username}, p.Username, p.Name())
		}
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		return cmp.Or(b.score-a.score, strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)))
	})
	items := make([]views.GoItem, 0, min(len(out), maxSwitcher))
	for _, it := range out[:min(len(out), maxSwitcher)] {
		items = append(items, it.GoItem)
	}
	return items, nil
}
