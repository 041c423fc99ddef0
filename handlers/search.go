package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

func (s *Server) handleSearch(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	q := strings.ToValidUTF8(c.QueryParam("q"), "")
	if len(q) > 256 {
		q = q[:256]
	}
	var hits []chat.SearchHit
	if strings.TrimSpace(q) != "" {
		var err error
		if hits, err = s.store.Search(ctx, u.ID, q, 50); err != nil {
			return err
		}
	}
	p, err := s.page(c, "Search", 0)
	if err != nil {
		return err
	}
	p.Query = q
	return render(c, http.StatusOK, views.SearchPage(p, q, hits))
}
