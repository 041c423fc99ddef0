package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// Bot accounts, made by admins: a bot has an API token and, if it has a
// webhook, a secret that signs what is posted to it. Both are shown once.
// Everyone else finds nothing here (404).

func (s *Server) renderBots(c echo.Context, status int, v views.BotsView) error {
	bots, err := s.store.Bots(c.Request().Context())
	if err != nil {
		return err
	}
	v.Bots = bots
	cmds, err := s.store.BotCommands(c.Request().Context())
	if err != nil {
		return err
	}
	v.Commands = map[int64][]chat.BotCommand{}
	for _, k := range cmds {
		v.Commands[k.BotID] = append(v.Commands[k.BotID], k)
	}
	p, err := s.page(c, "Bots", 0)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, views.BotsPage(p, v))
}

func (s *Server) handleBotsPage(c echo.Context) error {
	return s.renderBots(c, http.StatusOK, views.BotsView{OK: s.takeFlash(c)})
}

func (s *Server) handleCreateBot(c echo.Context) error {
	u, _ := userFrom(c)
	ctx := c.Request().Context()
	username := strings.TrimPrefix(strings.TrimSpace(c.FormValue("username")), "@")
	typedURL := c.FormValue("webhook_url")
	v := views.BotsView{Username: strings.ToValidUTF8(username, "\uFFFD"), Webhook: strings.ToValidUTF8(typedURL, "\uFFFD")}
	hookURL, err := chat.ValidateWebhookURL(typedURL)
	if err == nil {
		err = chat.ValidateUsername(username)
	}
	if err == nil {
		// Like a person's, a bot's name may not pass for someone else's.
		var taken bool
		if taken, err = s.store.NameLooksTaken(ctx, username, 0); err == nil && taken {
			err = chat.Errorf(chat.EConflict, "The name %q is taken, or looks too much like one that is.", username)
		}
	}
	var token, secret string
	if err == nil {
		token, err = chat.NewAPIToken()
	}
	if err == nil {
		secret, err = chat.NewToken()
	}
	if err == nil {
		_, err = s.store.CreateBot(ctx, username, u.ID, hookURL, secret, chat.HashToken(token))
	}
	if err == nil {
		detail := "no webhook"
		if hookURL != "" {
			detail = "webhook " + hookURL
		}
		err = s.audit(c, "made bot", username, detail)
	}
	switch code := chat.ErrorCode(err); code {
	case "":
		return s.renderBots(c, http.StatusOK, views.BotsView{NewBot: username, NewToken: token, NewSecret: secret})
	case chat.EInvalid, chat.EConflict:
		v.Error = chat.ErrorMessage(err)
		return s.renderBots(c, http.StatusUnprocessableEntity, v)
	default:
		return err
	}
}
