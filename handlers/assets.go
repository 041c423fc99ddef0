package handlers

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// handleAsset serves the embedded static files. Their URLs carry a version
// (?v=), so browsers may keep them for a year.
func (s *Server) handleAsset(c echo.Context) error {
	name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
	if s.assets == nil || name == "." || strings.HasPrefix(name, "..") {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(s.assets, name)
	if err != nil {
		return echo.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".webmanifest" {
		ctype = "application/manifest+json"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if c.QueryParam("v") == s.assetVersion {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	return c.Blob(http.StatusOK, ctype, b)
}

// handleMeCSS is the signed-in user's own style rules: their messages and
// mentions of them stand out (their name in the accent colour is enough:
// no "(you)" on every header of their own). Fragments are the same for everyone; this is
// what makes them look personal. Usernames are [A-Za-z0-9_-], safe in a selector.
func (s *Server) handleMeCSS(c echo.Context) error {
	u, _ := userFrom(c)
	me := strings.ToLower(u.Username)
	css := `.message[data-author="` + me + `"]{--author-color:var(--accent)}` + "\n" +
		`.message[data-mentions~="` + me + `"]{background:var(--mention-bg);box-shadow:inset 3px 0 0 var(--mention)}` + "\n" +
		`.mention[data-user="` + me + `"]{background:var(--mention);color:var(--mention-fg)}` + "\n" +
		`.reaction[data-users~="` + me + `"]{border-color:var(--accent);background:var(--accent-soft)}` + "\n" +
		`#presence li[data-user="` + me + `"]::after{content:" (you)";color:var(--muted)}` + "\n"
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}
