package handlers

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// Bots' own slash commands: an admin registers /name for a bot at
// /admin/bots; typed in any composer (or sent through the API), the
// command's text is posted to the bot's webhook, signed as its webhooks are,
// and waited for: the caller gets the answer, or why there is none, at once
// (a command is a question asked now, so it is a call with a timeout, not a
// job that retries later). The answer is shown to the caller alone, or,
// when the bot asks for it, posted to the room as the bot's message.

// botCommandWait bounds how long a command waits for its bot, the webhook
// client's own timeout aside.
const botCommandWait = 5 * time.Second

// botCommandsFresh is how long a node keeps the list of bot commands
// before reading it again (a command added on another node shows by then).
const botCommandsFresh = 10 * time.Second

// botCommands is the list of commands bots registered, kept a short while.
type botCommands struct {
	mu   sync.Mutex
	list []chat.BotCommand
	at   time.Time
}

// commandPayload is what a bot's webhook receives for a command.
type commandPayload struct {
	Event   string  `json:"event"` // "command"
	Bot     string  `json:"bot"`
	Command string  `json:"command"` // its name, without the slash
	Text    string  `json:"text"`    // what follows the name
	User    apiUser `json:"user"`
	Room    apiRoom `json:"room"`
}

// commandReply is what the webhook may answer: text, shown to the caller
// alone unless response_type is "in_channel" (posted as the bot's message).
type commandReply struct {
	Body         string `json:"body"`
	Text         string `json:"text"` // Slack's name for it
	ResponseType string `json:"response_type"`
}

// botCommandList returns the bots' commands, read again when old.
func (s *Server) botCommandList(ctx context.Context) ([]chat.BotCommand, error) {
	b := &s.botCmds
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.at.IsZero() && time.Since(b.at) < botCommandsFresh {
		return b.list, nil
	}
	list, err := s.store.BotCommands(ctx)
	if err != nil {
		return nil, err
	}
	b.list, b.at = list, time.Now()
	return list, nil
}

// forgetBotCommands has the next use read the list again.
func (s *Server) forgetBotCommands() {
	s.botCmds.mu.Lock()
	s.botCmds.at = time.Time{}
	s.botCmds.mu.Unlock()
}

// commandInfos are the bots' commands as the composer's list and /help show
// them; nil when they cannot be read (the built-ins are listed anyway).
func (s *Server) commandInfos(ctx context.Context) []chat.CommandInfo {
	list, err := s.botCommandList(ctx)
	if err != nil {
		s.log.Error("bot commands", "err", err)
		return nil
	}
	out := make([]chat.CommandInfo, len(list))
	for i, c := range list {
		out[i] = c.Info()
	}
	return out
}

// checkCommand refuses a command that is too long or that nobody knows.
func (s *Server) checkCommand(ctx context.Context, cmd chat.Command) error {
	if cmd.Builtin() {
		return cmd.Check()
	}
	list, err := s.botCommandList(ctx)
	if err != nil {
		return err
	}
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = c.Name
	}
	return cmd.Check(names...)
}

// botCommandNamed is the bot command called name, if there is one.
func (s *Server) botCommandNamed(ctx context.Context, name string) (chat.BotCommand, bool, error) {
	list, err := s.botCommandList(ctx)
	if err != nil {
		return chat.BotCommand{}, false, err
	}
	for _, c := range list {
		if c.Name == name {
			return c, true, nil
		}
	}
	return chat.BotCommand{}, false, nil
}

// runBotCommand asks the bot of bc, for u in the room of a, and says what
// it answered. A bot that cannot be asked, or does not answer well, is a
// refusal that says so: the text stays in the caller's composer.
func (s *Server) runBotCommand(ctx context.Context, u chat.User, a access, bc chat.BotCommand, arg string) (composed, error) {
	bot, err := s.store.BotByID(ctx, bc.BotID)
	if chat.ErrorCode(err) == chat.ENotFound {
		return composed{}, chat.Errorf(chat.EInvalid, "/%s's bot is gone.", bc.Name)
	}
	if err != nil {
		return composed{}, err
	}
	if bot.WebhookURL == "" || bot.User.Deactivated {
		return composed{}, chat.Errorf(chat.EInvalid, "@%s cannot take /%s now: it has no webhook.", bot.User.Username, bc.Name)
	}
	room := a.room
	payload, err := json.Marshal(commandPayload{Event: "command", Bot: bot.User.Username, Command: bc.Name, Text: arg,
		User: apiUser{Username: u.Username, DisplayName: u.DisplayName, IsBot: u.IsBot, IsAdmin: u.IsAdmin},
		Room: apiRoom{Slug: room.Slug, Name: room.Name, Private: room.Private, Member: a.member, Kind: room.Kind}})
	if err != nil {
		return composed{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, botCommandWait)
	defer cancel()
	body, err := s.hooks.client.Post(cctx, bot.WebhookURL, bot.Secret, payload)
	record := context.WithoutCancel(ctx)
	if err != nil {
		if rerr := s.store.RecordDelivery(record, bot.User.ID, time.Now(), "/"+bc.Name+": "+err.Error()); rerr != nil {
			s.log.Error("bot command: record failure", "bot", bot.User.Username, "err", rerr)
		}
		return composed{}, chat.Errorf(chat.EInvalid, "@%s did not answer /%s: %s. Try again later, or tell an admin.",
			bot.User.Username, bc.Name, strings.TrimSuffix(err.Error(), "."))
	}
	if err := s.store.RecordDelivery(record, bot.User.ID, time.Now(), ""); err != nil {
		s.log.Error("bot command: record delivery", "bot", bot.User.Username, "err", err)
	}
	var r commandReply
	if len(body) > 0 && json.Unmarshal(body, &r) != nil {
		return composed{}, chat.Errorf(chat.EInvalid, "@%s answered /%s with something that is not JSON.", bot.User.Username, bc.Name)
	}
	text := r.Body
	if text == "" {
		text = r.Text
	}
	if strings.TrimSpace(text) == "" {
		return composed{said: "@" + bot.User.Username + " got /" + bc.Name + "."}, nil
	}
	if r.ResponseType != "in_channel" {
		return composed{said: "@" + bot.User.Username + ": " + excerpt(strings.ToValidUTF8(text, "\uFFFD"), chat.MaxBodyChars)}, nil
	}
	// Posted as the bot's message: the bot must be able to post there.
	ba, err := s.accessTo(ctx, bot.User, room)
	if err == nil && !ba.Post && ba.Join {
		ba, err = s.join(ctx, bot.User, ba)
	}
	if err != nil || !ba.Post {
		return composed{said: "@" + bot.User.Username + " (only you see this: it is not in " + views.RoomTitle(room) + "): " +
			excerpt(strings.ToValidUTF8(text, "\uFFFD"), chat.MaxBodyChars)}, nil
	}
	m, created, err := s.sendMessage(ctx, bot.User, room, text, "")
	if err != nil {
		return composed{}, chat.Errorf(chat.EInvalid, "@%s's answer to /%s was refused: %s", bot.User.Username, bc.Name, chat.ErrorMessage(err))
	}
	return composed{msg: m, created: created}, nil
}

// ---- /admin/bots: registering commands ----------------------------------

func (s *Server) botNamed(c echo.Context) (chat.Bot, error) {
	bots, err := s.store.BotsNamed(c.Request().Context(), []string{c.Param("username")})
	if err != nil {
		return chat.Bot{}, err
	}
	if len(bots) == 0 {
		return chat.Bot{}, chat.Errorf(chat.ENotFound, "There is no bot called @%s.", c.Param("username"))
	}
	return bots[0], nil
}

func (s *Server) handleAddBotCommand(c echo.Context) error {
	bot, err := s.botNamed(c)
	if err != nil {
		return err
	}
	name, about, err := chat.ValidateBotCommand(c.FormValue("name"), c.FormValue("description"))
	if err == nil {
		err = s.store.AddBotCommand(c.Request().Context(), bot.User.ID, name, about)
	}
	if err == nil {
		s.forgetBotCommands()
		err = s.audit(c, "added bot command", bot.User.Username, "/"+name)
	}
	switch code := chat.ErrorCode(err); code {
	case "":
		return s.adminDone(c, "/admin/bots", "@"+bot.User.Username+" takes /"+name+" now.")
	case chat.EInvalid, chat.EConflict:
		return s.renderBots(c, statusOf[code], views.BotsView{CommandError: chat.ErrorMessage(err), CommandBot: bot.User.Username,
			CommandName: strings.ToValidUTF8(c.FormValue("name"), "\uFFFD"), CommandAbout: strings.ToValidUTF8(c.FormValue("description"), "\uFFFD")})
	default:
		return err
	}
}

func (s *Server) handleRemoveBotCommand(c echo.Context) error {
	bot, err := s.botNamed(c)
	if err != nil {
		return err
	}
	name := c.Param("name")
	if err := s.store.RemoveBotCommand(c.Request().Context(), bot.User.ID, name); err != nil {
		return err
	}
	s.forgetBotCommands()
	if err := s.audit(c, "removed bot command", bot.User.Username, "/"+name); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/bots", "/"+name+" is removed.")
}
