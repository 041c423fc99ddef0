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

type apiMessage struct {
	ID          int64         `json:"id"`
	Room        string        `json:"room"` // the room's slug
	Kind        string        `json:"kind"` // "text", or "notice" for what the server writes (joins, renames)
	Author      string        `json:"author"`
	AuthorName  string        `json:"author_name"`
	AuthorIsBot bool          `json:"author_is_bot"`
	Body        string        `json:"body"`
	HTML        string        `json:"html"`
	CreatedAt   time.Time     `json:"created_at"`
	EditedAt    *time.Time    `json:"edited_at"`
	Deleted     bool          `json:"deleted"`
	Reactions   []apiReaction `json:"reactions"`
	ThreadID    *int64        `json:"thread_id"`    // the root of a reply's thread; null for a message of the room
	AlsoToRoom  bool          `json:"also_to_room"` // a reply also shown in the room's list
	ReplyCount  int           `json:"reply_count"`  // a root's replies
	Preview     *apiPreview   `json:"preview"`      // the first link's page, once fetched; null for none
}

// apiPreview is a message's link preview. Image is the path of its picture
// on this server (the page's own is never linked), or null.
type apiPreview struct {
	URL         string  `json:"url"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Site        string  `json:"site"`
	Image       *string `json:"image"`
}

type apiReaction struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
}

func toAPIMessage(m chat.Message, room chat.Room) apiMessage {
	out := apiMessage{ID: m.ID, Room: room.Slug, Kind: m.Kind, Author: m.Author, AuthorName: m.AuthorName, AuthorIsBot: m.AuthorBot,
		Body: m.Body, CreatedAt: m.CreatedAt, Deleted: m.Deleted(), Reactions: make([]apiReaction, 0, len(m.Reactions))}
	if m.Kind == chat.MessageText && !m.Deleted() {
		out.HTML = views.BodyHTML(m)
	}
	if m.Edited() {
		t := m.EditedAt
		out.EditedAt = &t
	}
	for _, r := range m.Reactions {
		out.Reactions = append(out.Reactions, apiReaction{Emoji: r.Emoji, Users: r.Users})
	}
	if m.ThreadID != 0 {
		id := m.ThreadID
		out.ThreadID, out.AlsoToRoom = &id, m.InRoom
	} else if m.Thread != nil {
		out.ReplyCount = m.Thread.Count
	}
	if p := m.Preview; p != nil && !m.Deleted() {
		out.Preview = &apiPreview{URL: p.URL, Title: p.Title, Description: p.Description, Site: p.Site}
		if p.HasImage() {
			img := views.PreviewImageURL(m)
			out.Preview.Image = &img
		}
	}
	return out
}

type apiMessages struct {
	Messages []apiMessage `json:"messages"`
}

type apiPost struct {
	Body        *string `json:"body"`
	ClientMsgID string  `json:"client_msg_id"`
	ThreadID    int64   `json:"thread_id"`    // a reply in that message's thread
	AlsoToRoom  bool    `json:"also_to_room"` // a reply shown in the room's list too
	SendAt      string  `json:"send_at"`      // sent later: YYYY-MM-DDTHH:MM in the user's zone, or RFC 3339
}

// apiRoomFor loads the room in the path for reading: a private room (or
// direct conversation) the user is not in does not exist for them.
func (s *Server) apiRoomFor(c echo.Context, u chat.User) (access, error) {
	a, err := s.pathAccess(c, u)
	if err == nil && !a.Read {
		return access{}, errNoRoom
	}
	return a, err
}

func (s *Server) handleAPIMessages(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.apiRoomFor(c, u)
	if err != nil {
		return err
	}
	return s.listMessages(c, a.room)
}

// listMessages answers ?before=, ?after= and ?limit= with messages oldest
// first: the latest by default, those before an id, or those after one.
func (s *Server) listMessages(c echo.Context, room chat.Room) error {
	before, err := optionalID(c, "before")
	if err != nil {
		return err
	}
	after, err := optionalID(c, "after")
	if err != nil {
		return err
	}
	if before > 0 && after > 0 {
		return chat.Errorf(chat.EInvalid, "Ask for messages before an id or after one, not both.")
	}
	limit, err := apiLimit(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var msgs []chat.Message
	if after > 0 {
		msgs, err = s.store.MessagesAfter(ctx, room.ID, after, limit)
	} else {
		msgs, err = s.store.Messages(ctx, room.ID, before, limit)
	}
	if err != nil {
		return err
	}
	out := apiMessages{Messages: make([]apiMessage, 0, len(msgs))}
	for _, m := range msgs {
		out.Messages = append(out.Messages, toAPIMessage(m, room))
	}
	return c.JSON(http.StatusOK, out)
}

// readPost reads and checks a new message before anything is stored, so a
// refused one leaves no trace (not even a join).
func (s *Server) readPost(c echo.Context) (apiPost, error) {
	var in apiPost
	if err := readJSON(c, &in); err != nil {
		return in, err
	}
	if in.Body == nil {
		return in, chat.Errorf(chat.EInvalid, "The message needs a body.")
	}
	if in.ThreadID < 0 {
		return in, chat.Errorf(chat.EInvalid, "thread_id must be a message id.")
	}
	if cmd, _, ok := chat.ParseCommand(*in.Body); ok {
		if err := s.checkCommand(c.Request().Context(), cmd); err != nil {
			return in, err
		}
	}
	if _, err := chat.ValidateBody(*in.Body); err != nil {
		return in, err
	}
	return in, chat.ValidateClientMsgID(in.ClientMsgID)
}

// handleAPIPost posts to a room through the same path as the socket and the
// form: live in every browser. Posting to a public room joins it, as
// opening it in a browser does. A resend with the same client_msg_id
// answers 200 and the message first stored.
func (s *Server) handleAPIPost(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.apiRoomFor(c, u)
	if err != nil {
		return err
	}
	in, err := s.readPost(c)
	if err != nil {
		return err
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	if a, err = s.join(c.Request().Context(), u, a); err != nil {
		return err
	}
	if in.SendAt != "" {
		return s.postAPILater(c, u, a.room, in)
	}
	return s.postAPIMessage(c, u, a.room, in)
}

func (s *Server) postAPIMessage(c echo.Context, u chat.User, room chat.Room, in apiPost) error {
	res, err := s.compose(c.Request().Context(), u, room, *in.Body, in.ClientMsgID, inThread{root: in.ThreadID, inRoom: in.AlsoToRoom})
	if chat.ErrorCode(err) == chat.ERateLimit {
		return tooFast(c, s.postLimits.Delay(strconv.FormatInt(u.ID, 10)), chat.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	m, created := res.msg, res.created
	if res.command != "" && m.ID == 0 {
		// A command that sent no message: what it did.
		return c.JSON(http.StatusOK, apiCommand{Command: res.command, Said: res.said})
	}
	if created {
		return c.JSON(http.StatusCreated, toAPIMessage(m, room))
	}
	if m.RoomID != room.ID {
		return chat.Errorf(chat.EConflict, "That client_msg_id was used for a message elsewhere; use a fresh one for every message.")
	}
	return c.JSON(http.StatusOK, toAPIMessage(m, room))
}

// apiCommand is the answer to a body that was a command sending no message
// (/topic, /invite, /leave, /help).
type apiCommand struct {
	Command string `json:"command"`
	Said    string `json:"said"`
}

// handleAPIReplies lists a thread's replies oldest first: ?after= (a
// reply's id) and ?limit= page through them. A reply's id stands for its
// root's thread.
func (s *Server) handleAPIReplies(c echo.Context) error {
	u, _ := userFrom(c)
	root, a, err := s.threadRoot(c, u)
	if err != nil {
		return err
	}
	after, err := optionalID(c, "after")
	if err != nil {
		return err
	}
	limit, err := apiLimit(c)
	if err != nil {
		return err
	}
	msgs, err := s.store.Replies(c.Request().Context(), root.ID, after, limit)
	if err != nil {
		return err
	}
	out := apiMessages{Messages: make([]apiMessage, 0, len(msgs))}
	for _, m := range msgs {
		out.Messages = append(out.Messages, toAPIMessage(m, a.room))
	}
	return c.JSON(http.StatusOK, out)
}

// apiLimit reads ?limit=: the page size, apiPageSize unless asked.
func apiLimit(c echo.Context) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return apiPageSize, nil
	}
	limit, err := strconv.Atoi(v)
	if err != nil || limit < 1 {
		return 0, chat.Errorf(chat.EInvalid, "limit is a number from 1 to %d.", apiMaxPage)
	}
	return min(limit, apiMaxPage), nil
}

// apiMessageFor loads the message in the path: one in a room the user cannot
// read is "not found".
func (s *Server) apiMessageFor(c echo.Context) (chat.User, chat.Message, access, error) {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	return u, m, a, err
}

func (s *Server) handleAPIEdit(c echo.Context) error {
	u, m, a, err := s.apiMessageFor(c)
	if err != nil {
		return err
	}
	var in struct {
		Body *string `json:"body"`
	}
	if err := readJSON(c, &in); err != nil {
		return err
	}
	if in.Body == nil {
		return chat.Errorf(chat.EInvalid, "The edit needs a body.")
	}
	body, err := chat.ValidateBody(*in.Body)
	if err != nil {
		return err
	}
	if !a.CanEdit(u, m) {
		return a.deny(errNotAuthor)
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	// The user's own edit limit holds as for the forms: the token's budget only narrows it.
	m, err = s.editMessage(c.Request().Context(), u, a, m, body)
	if chat.ErrorCode(err) == chat.ERateLimit {
		return tooFast(c, s.limitDelay(u, s.editLimits), chat.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIMessage(m, a.room))
}

func (s *Server) handleAPIDelete(c echo.Context) error {
	u, m, a, err := s.apiMessageFor(c)
	if err != nil {
		return err
	}
	if !a.CanDelete(u, m) {
		return a.deny(errNotAuthorOrAdmin)
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	if m, err = s.deleteMessage(c.Request().Context(), u, a, m); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIMessage(m, a.room))
}

func (s *Server) handleAPIReaction(c echo.Context) error {
	u, m, a, err := s.apiMessageFor(c)
	if err != nil {
		return err
	}
	room := a.room
	var in struct {
		Emoji string `json:"emoji"`
	}
	if err := readJSON(c, &in); err != nil {
		return err
	}
	if err := s.validReaction(c.Request().Context(), in.Emoji); err != nil {
		return err
	}
	if !a.CanReact(m) {
		return a.deny("This message takes no reactions.")
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	m, err = s.toggleReaction(c.Request().Context(), u, a, m, in.Emoji)
	if chat.ErrorCode(err) == chat.ERateLimit {
		return tooFast(c, s.limitDelay(u, s.reactLimits, s.postLimits), chat.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIMessage(m, room))
}

// apiPeer is the user named in the path, for a direct conversation.
func (s *Server) apiPeer(c echo.Context, u chat.User) (chat.User, error) {
	return s.peerNamed(c, u, strings.TrimPrefix(c.Param("username"), "@"))
}

// handleAPIDMPost sends a direct message, making the conversation on first
// use, and opening it again for a user who left it.
func (s *Server) handleAPIDMPost(c echo.Context) error {
	u, _ := userFrom(c)
	peer, err := s.apiPeer(c, u)
	if err != nil {
		return err
	}
	in, err := s.readPost(c)
	if err != nil {
		return err
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	// Sending is the user's own choice: it opens a conversation they left again.
	room, err := s.reopenDM(c.Request().Context(), u, peer)
	if err != nil {
		return err
	}
	return s.postAPIMessage(c, u, room, in)
}

// handleAPIDMMessages lists a direct conversation's messages (none before
// the first one is sent).
func (s *Server) handleAPIDMMessages(c echo.Context) error {
	u, _ := userFrom(c)
	peer, err := s.apiPeer(c, u)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	room, err := s.store.RoomBySlug(ctx, chat.DMSlug(u.ID, peer.ID))
	if chat.ErrorCode(err) == chat.ENotFound {
		return c.JSON(http.StatusOK, apiMessages{Messages: []apiMessage{}})
	}
	if err != nil {
		return err
	}
	// Someone who left the conversation reads it again only once they open
	// it again (by sending to it).
	a, err := s.accessTo(ctx, u, room)
	if err != nil {
		return err
	}
	if !a.Read {
		return chat.Errorf(chat.ENotFound, "You left your conversation with %s. Send a message to open it again.", peer.Username)
	}
	return s.listMessages(c, room)
}
