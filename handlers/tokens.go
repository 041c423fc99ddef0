package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// Personal access tokens for the API, on a settings page. A new token is
// shown once, in the answer to the form that made it; the store keeps only
// its hash.

func (s *Server) renderTokens(c echo.Context, status int, u chat.User, v views.TokensView) error {
	if !chat.MayMakeTokens(u) {
		return chat.Errorf(chat.EForbidden, "Guests cannot make API tokens.")
	}
	tokens, err := s.store.Tokens(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	v.Tokens = tokens
	p, err := s.page(c, "API tokens", 0)
	if err != nil {
		return err
	}
	// The page may hold a token that is shown once: never keep it in a cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, views.TokensPage(p, v))
}

func (s *Server) handleTokensPage(c echo.Context) error {
	u, _ := userFrom(c)
	return s.renderTokens(c, http.StatusOK, u, views.TokensView{})
}

func (s *Server) handleCreateToken(c echo.Context) error {
	u, _ := userFrom(c)
	if !chat.MayMakeTokens(u) {
		return chat.Errorf(chat.EForbidden, "Guests cannot make API tokens.")
	}
	typed := c.FormValue("name")
	name, err := chat.ValidateTokenName(typed)
	if err == nil && !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		err = chat.Errorf(chat.ERateLimit, "You are making tokens too fast. Please wait a moment.")
	}
	var token string
	if err == nil {
		token, err = chat.NewAPIToken()
	}
	if err == nil {
		_, err = s.store.CreateToken(c.Request().Context(), u.ID, name, chat.HashToken(token))
	}
	switch code := chat.ErrorCode(err); code {
	case "":
		return s.renderTokens(c, http.StatusOK, u, views.TokensView{NewToken: token, NewName: name})
	case chat.EInvalid, chat.ERateLimit:
		return s.renderTokens(c, statusOf[code], u, views.TokensView{Draft: strings.ToValidUTF8(typed, "\uFFFD"), Error: chat.ErrorMessage(err)})
	default:
		return err
	}
}

func (s *Server) handleRevokeToken(c echo.Context) error {
	u, _ := userFrom(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return chat.Errorf(chat.ENotFound, "There is no such token.")
	}
	if err := s.store.RevokeToken(c.Request().Context(), u.ID, id); err != nil {
		return err
	}
	// Its open event streams end at once, on every node.
	s.closer.CloseSession(tokenSession(id), live.ClosePolicy, "token revoked")
	return c.Redirect(http.StatusSeeOther, "/settings/tokens")
}
