package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/views/locale"
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
//
// A group mention is shown the same way to the group's members: the page
// shows it only to those who can read the room, and the mention count was
// kept for those who could when it was sent. Being added to a group changes
// these rules, so the browser asks again on every page (an ETag keeps that
// to a 304).
//
// "(you)" is in the reader's language, so the ETag differs by language too.
func (s *Server) handleMeCSS(c echo.Context) error {
	u, _ := userFrom(c)
	groups, err := s.store.UserGroups(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	me := strings.ToLower(u.Username)
	var b strings.Builder
	b.WriteString(`.message[data-author="` + me + `"]{--author-color:var(--accent)}` + "\n" +
		`.message[data-author="` + me + `"] .preview-remove{display:block}` + "\n")
	// Group names, like usernames, are [A-Za-z0-9_-] (chat.ValidateGroupName).
	for _, name := range append([]string{me}, groups...) {
		b.WriteString(`.message[data-mentions~="` + name + `"]{background:var(--mention-bg);box-shadow:inset 3px 0 0 var(--mention)}` + "\n")
	}
	b.WriteString(`.mention[data-user="` + me + `"]{background:var(--mention);color:var(--mention-fg)}` + "\n")
	for _, name := range groups {
		b.WriteString(`.mention[data-group="` + name + `"]{background:var(--mention);color:var(--mention-fg)}` + "\n")
	}
	b.WriteString(`.reaction[data-users~="` + me + `"]{border-color:var(--accent);background:var(--accent-soft)}` + "\n" +
		`#presence li[data-user="` + me + `"]::after{content:"` + cssString(locale.T(c.Request().Context(), "presence.you")) + `";color:var(--muted)}` + "\n")
	css := b.String()
	sum := sha256.Sum256([]byte(css))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := c.Response().Header()
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", etag)
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

// cssString escapes s for a double-quoted CSS string.
var cssString = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\a `).Replace
