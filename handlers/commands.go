package handlers

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"agora/chat"
	"agora/views"
)

// composed is what a composer's body did: a message sent, or a command run
// (said is what to tell its caller alone; left: they left the room).
type composed struct {
	msg     chat.Message
	created bool
	command string
	said    string
	left    bool
}

// compose is the composer's door onto the message path, the same for the
// socket, the form and the API: a body that starts with "/" is a command,
// anything else (and "//...", as "/...") a message through send, in the
// thread in names if any (a command acts on the room, wherever it is typed).
// Webhooks and bots' replies go to sendMessage directly: their text is
// never a command.
func (s *Server) compose(ctx context.Context, u chat.User, room chat.Room, body, clientID string, in inThread) (composed, error) {
	cmd, text, ok := chat.ParseCommand(body)
	if !ok {
		m, created, err := s.send(ctx, u, room, text, clientID, nil, in)
		return composed{msg: m, created: created}, err
	}
	res, err := s.runCommand(ctx, u, room, cmd, clientID)
	res.command = cmd.Name
	// The caller is told beside the composer, where the text stays: a
	// refusal here is about the command, never a reason to close a socket
	// (but an archived room is still one).
	if code := chat.ErrorCode(err); (code == chat.EForbidden || code == chat.ENotFound) && !errors.Is(err, chat.ErrArchived) {
		err = chat.Errorf(chat.EInvalid, "%s", chat.ErrorMessage(err))
	}
	return res, err
}

func (s *Server) runCommand(ctx context.Context, u chat.User, room chat.Room, cmd chat.Command, clientID string) (composed, error) {
	if err := s.checkCommand(ctx, cmd); err != nil {
		return composed{}, err
	}
	a, err := s.accessTo(ctx, u, room)
	if err != nil {
		return composed{}, err
	}
	if !a.Post {
		return composed{}, a.deny("You are not a member of " + views.RoomTitle(room) + ".")
	}
	if !cmd.Builtin() {
		bc, ok, err := s.botCommandNamed(ctx, cmd.Name)
		if err != nil {
			return composed{}, err
		}
		if !ok { // removed since it was checked
			return composed{}, cmd.Check()
		}
		return s.runBotCommand(ctx, u, a, bc, cmd.Arg)
	}
	send := func(body string) (composed, error) {
		m, created, err := s.sendMessage(ctx, u, room, body, clientID)
		return composed{msg: m, created: created}, err
	}
	switch cmd.Name {
	case "me":
		if cmd.Arg == "" {
			return composed{}, chat.Errorf(chat.EInvalid, "/me needs what you do, as in /me waves.")
		}
		// Italics end at a line's end, so each line is wrapped on its own:
		// wrapped whole, a second line would show its underscores.
		lines := strings.Split(cmd.Arg, "\n")
		for i, l := range lines {
			if l = strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "_")); l != "" {
				l = "_" + l + "_"
			}
			lines[i] = l
		}
		return send(strings.Join(lines, "\n"))
	case "shrug":
		return send(strings.TrimSpace(cmd.Arg + " " + chat.Shrug))
	case "topic":
		if room.IsDM() {
			return composed{}, chat.Errorf(chat.EInvalid, "A direct conversation has no topic.")
		}
		if !a.Topic {
			return composed{}, a.deny("You cannot set the topic of this room.")
		}
		topic, err := chat.ValidateTopic(cmd.Arg)
		if err != nil {
			return composed{}, err
		}
		if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
			return composed{}, chat.Errorf(chat.ERateLimit, "You are changing things too fast. Please wait a moment.")
		}
		if _, err := s.setTopic(ctx, u, room, topic); err != nil {
			return composed{}, err
		}
		if topic == "" {
			return composed{said: "Topic cleared."}, nil
		}
		return composed{said: "Topic set."}, nil
	case "invite":
		name := strings.TrimPrefix(cmd.Arg, "@")
		if name == "" || strings.ContainsAny(name, " \t\n") {
			return composed{}, chat.Errorf(chat.EInvalid, "/invite takes one person, as in /invite @ann.")
		}
		if room.IsDM() {
			return composed{}, chat.Errorf(chat.EInvalid, "A direct conversation is for its two people: make a room to talk with more.")
		}
		added, err := s.addMember(ctx, u, a, name)
		if chat.ErrorCode(err) == chat.ENotFound {
			return composed{}, chat.Errorf(chat.EInvalid, "There is nobody called @%s here.", name)
		}
		if err != nil {
			return composed{}, err
		}
		if !added {
			return composed{said: "@" + name + " is in " + views.RoomTitle(room) + " already."}, nil
		}
		return composed{said: "@" + name + " is added."}, nil
	case "remind":
		r, err := chat.ParseRemind(cmd.Arg, time.Now(), s.zoneOf(ctx, u))
		if err != nil {
			return composed{}, err
		}
		said, err := s.remind(ctx, u, r.At, r.Text, 0)
		return composed{said: said}, err
	case "leave":
		if err := s.leaveRoom(ctx, u, a); err != nil {
			return composed{}, err
		}
		return composed{said: "You left " + views.RoomTitle(room) + ".", left: true}, nil
	case "status", "away", "dnd", "mute", "unmute":
		return s.statusCommand(ctx, u, a, cmd)
	default: // help
		var b strings.Builder
		b.WriteString("Commands: ")
		for i, k := range append(slices.Clip(chat.Commands), s.commandInfos(ctx)...) {
			if i > 0 {
				b.WriteString(" · ")
			}
			b.WriteString(k.Usage + ": " + k.About)
		}
		b.WriteString(". Start with // to send a message that begins with /.")
		return composed{said: b.String()}, nil
	}
}
