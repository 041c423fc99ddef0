package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// A flash is the line an admin page shows after a change ("bob is
// deactivated."). It crosses the redirect in a short-lived cookie scoped to
// that page, not in the URL: a link from anywhere else could otherwise put
// words of its choosing on an admin's page.
const flashCookie = "agora_flash"

// adminDone goes back to an admin page, which then says what was done.
func (s *Server) adminDone(c echo.Context, page, text string) error {
	c.SetCookie(&http.Cookie{
		Name: flashCookie, Value: url.QueryEscape(text), Path: page, MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.isTLS(c),
	})
	return c.Redirect(http.StatusSeeOther, page)
}

// takeFlash is the line left for this page, if any, which it shows once.
func (s *Server) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	c.SetCookie(&http.Cookie{
		Name: flashCookie, Path: c.Request().URL.Path, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.isTLS(c),
	})
	text, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return ""
	}
	return text
}
