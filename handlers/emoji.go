package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// emojiResultsMax is how many emoji a search shows at most.
const emojiResultsMax = 200

// handleEmoji is the emoji picker: the whole catalogue, or a search of it
// (?q=), for a message's reactions (?for={message id}) or the composer.
// htmx asks for the grid alone.
func (s *Server) handleEmoji(c echo.Context) error {
	v := views.EmojiView{Query: strings.TrimSpace(strings.ToValidUTF8(c.QueryParam("q"), ""))}
	if len([]rune(v.Query)) > 64 {
		v.Query = string([]rune(v.Query)[:64])
	}
	forID, err := queryInt(c, "for", "for must be a message id.")
	if err != nil {
		return err
	}
	v.For = max(forID, 0)
	custom, err := s.store.CustomEmojiList(c.Request().Context())
	if err != nil {
		return err
	}
	q := strings.ToLower(strings.Trim(v.Query, ":"))
	for _, e := range custom {
		if strings.Contains(e.Name, q) {
			v.Custom = append(v.Custom, e)
		}
	}
	if v.Query == "" {
		v.Groups = chat.EmojiGroups()
	} else if found := chat.SearchEmoji(v.Query, emojiResultsMax); len(found) > 0 {
		v.Groups = []chat.EmojiGroup{{Name: "Found", Emoji: found}}
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return render(c, http.StatusOK, views.EmojiResults(v))
	}
	p, err := s.page(c, "Emoji", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.EmojiPage(p, v))
}
