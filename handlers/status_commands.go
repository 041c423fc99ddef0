package handlers

import (
	"context"
	"strings"
	"time"

	"agora/chat"
	"agora/views"
)

// statusCommand runs /status, /away, /dnd, /mute and /unmute: each changes
// the caller's status (shown to others at once by SetStatus) or their
// level in the room (their sidebar follows the store's event), and says
// what it did to the caller alone.
func (s *Server) statusCommand(ctx context.Context, u chat.User, a access, cmd chat.Command) (composed, error) {
	switch cmd.Name {
	case "status":
		text, emoji := chat.SplitStatus(cmd.Arg)
		st, err := s.SetStatus(ctx, u, StatusChange{Text: &text, Emoji: &emoji})
		if err != nil {
			return composed{}, err
		}
		if st.Label() == "" {
			return composed{said: "Status cleared."}, nil
		}
		return composed{said: "Status set: " + st.Label()}, nil
	case "away":
		st, err := s.store.Status(ctx, u.ID)
		if err != nil {
			return composed{}, err
		}
		away := !st.Away
		if _, err := s.SetStatus(ctx, u, StatusChange{Away: &away}); err != nil {
			return composed{}, err
		}
		if away {
			return composed{said: "You show as away until you type /away again."}, nil
		}
		return composed{said: "You are back."}, nil
	case "dnd":
		var d time.Duration
		loc := time.UTC
		if !strings.EqualFold(cmd.Arg, "off") {
			n, err := s.store.NotifySettings(ctx, u.ID)
			if err != nil {
				return composed{}, err
			}
			if l, err := time.LoadLocation(n.Zone); err == nil {
				loc = l
			}
			if d, err = chat.ParseDND(cmd.Arg, s.status.now(), loc); err != nil {
				return composed{}, err
			}
		}
		st, err := s.SetStatus(ctx, u, StatusChange{DND: &d})
		if err != nil {
			return composed{}, err
		}
		if d == 0 {
			return composed{said: "Do not disturb is off."}, nil
		}
		return composed{said: "Do not disturb until " + st.DNDUntil.In(loc).Format("Mon 2 Jan, 15:04 MST") + "."}, nil
	default: // mute, unmute
		level, err := s.store.RoomNotify(ctx, a.room.ID, u.ID)
		if err != nil {
			return composed{}, err
		}
		title := views.RoomTitle(a.room)
		if cmd.Name == "mute" && level != chat.NotifyNothing {
			if err := s.store.SetRoomNotify(ctx, a.room.ID, u.ID, chat.NotifyNothing); err != nil {
				return composed{}, err
			}
			return composed{said: title + " is muted: no unread count or notifications, but for mentions. /unmute undoes it."}, nil
		}
		if level == chat.NotifyNothing {
			if err := s.store.SetRoomNotify(ctx, a.room.ID, u.ID, chat.NotifyMentions); err != nil {
				return composed{}, err
			}
			return composed{said: title + " is unmuted: its unread count shows again."}, nil
		}
		return composed{said: title + " is not muted."}, nil
	}
}
