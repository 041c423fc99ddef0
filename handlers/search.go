package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// maxSearchText bounds what one search reads of the text typed.
const maxSearchText = 256

// searchFields are the search page's filter fields: each value is folded
// into the query as field:value (several values, separated by spaces, as
// several filters), so the box and the fields mean the same.
var searchFields = []string{"from", "in", "has", "is", "after", "before", "on"}

// searchText is the request's query: q with the page's filter fields.
func searchText(c echo.Context) (q string, form views.SearchForm) {
	form.Q = strings.ToValidUTF8(c.QueryParam("q"), "")
	text := form.Q
	form.Fields = map[string]string{}
	for _, name := range searchFields {
		v := strings.ToValidUTF8(strings.TrimSpace(c.QueryParam(name)), "")
		if v == "" {
			continue
		}
		form.Fields[name] = v
		for _, one := range strings.Fields(v) {
			text += " " + name + ":" + one
		}
	}
	if len(text) > maxSearchText {
		text = strings.ToValidUTF8(text[:maxSearchText], "")
	}
	return text, form
}

func (s *Server) handleSearch(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	text, form := searchText(c)
	zone, _ := readerZone(c)
	status := http.StatusOK
	var hits []chat.SearchHit
	q, err := chat.ParseSearch(text, zone)
	if err != nil {
		if chat.ErrorCode(err) != chat.EInvalid {
			return err
		}
		form.Error, status = chat.ErrorMessage(err), http.StatusUnprocessableEntity
	} else if !q.Empty() {
		form.Notice = q.Notice()
		if hits, err = s.store.Search(ctx, u.ID, q, 50); err != nil {
			return err
		}
	}
	form.Searched = err == nil && !q.Empty()
	p, err := s.page(c, "Search", 0)
	if err != nil {
		return err
	}
	p.Query = form.Q
	return render(c, status, views.SearchPage(p, form, hits))
}

type apiSearchHit struct {
	Message apiMessage `json:"message"`
	Snippet string     `json:"snippet"` // the text around the words found, without marks
	// With is the other person of a direct conversation, "" in a room.
	With string `json:"with"`
}

// handleAPISearch is the search page's search for a token: ?q= in the same
// syntax (days in UTC), ?limit= as for messages; newest first.
func (s *Server) handleAPISearch(c echo.Context) error {
	u, _ := userFrom(c)
	text := strings.ToValidUTF8(c.QueryParam("q"), "")
	if len(text) > maxSearchText {
		return chat.Errorf(chat.EInvalid, "The query is longer than %d bytes.", maxSearchText)
	}
	limit := apiPageSize
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return chat.Errorf(chat.EInvalid, "limit is a number from 1 to %d.", apiMaxPage)
		}
		limit = min(n, apiMaxPage)
	}
	q, err := chat.ParseSearch(text, time.UTC)
	if err != nil {
		return err
	}
	if q.Empty() {
		return chat.Errorf(chat.EInvalid, "q is empty: give words or filters to search for.")
	}
	hits, err := s.store.Search(c.Request().Context(), u.ID, q, limit)
	if err != nil {
		return err
	}
	out := struct {
		Results []apiSearchHit `json:"results"`
		Notice  string         `json:"notice,omitempty"`
	}{Results: make([]apiSearchHit, 0, len(hits)), Notice: q.Notice()}
	unmark := strings.NewReplacer(chat.SnippetStart, "", chat.SnippetEnd, "")
	for _, h := range hits {
		out.Results = append(out.Results, apiSearchHit{Message: toAPIMessage(h.Message, h.Room),
			Snippet: unmark.Replace(h.Snippet), With: h.Peer.Username})
	}
	return c.JSON(http.StatusOK, out)
}
