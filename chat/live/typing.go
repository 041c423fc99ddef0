package live

import (
	"slices"
	"time"

	"agora/chat"
)

type typist struct {
	user  chat.User
	timer *time.Timer
}

// Typing marks user as typing in the room for the next TypingTTL.
func (h *Hub) Typing(roomID int64, user chat.User) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil || r.online[user.ID] == nil {
		return
	}
	h.markTypingLocked(roomID, r, user)
}

// markTypingLocked marks user as typing in the room until TypingTTL passes
// without another keystroke, telling the room if they were not typing yet.
func (h *Hub) markTypingLocked(roomID int64, r *hubRoom, user chat.User) {
	if t := r.typing[user.ID]; t != nil {
		t.timer.Reset(h.cfg.TypingTTL)
		return
	}
	r.typing[user.ID] = &typist{user: user, timer: time.AfterFunc(h.cfg.TypingTTL, func() { h.StopTyping(roomID, user.ID) })}
	h.typingLocked(roomID, r)
}

// StopTyping clears the user's typing mark in the room, if there is one.
func (h *Hub) StopTyping(roomID, userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil || r.typing[userID] == nil {
		return
	}
	r.typing[userID].timer.Stop()
	delete(r.typing, userID)
	h.typingLocked(roomID, r)
}

// typingLocked tells the room who is typing. Nobody is told about
// themselves, so a typist's own sockets get the list without them: one
// render per typist, and one for everyone else.
func (h *Hub) typingLocked(roomID int64, r *hubRoom) {
	if h.cfg.Typing == nil {
		return
	}
	users := make([]chat.User, 0, len(r.typing))
	for _, t := range r.typing {
		users = append(users, t.user)
	}
	sortUsers(users)
	all := newByLang(Frame{Data: h.cfg.Typing(roomID, users, "en")}, func(code string) []byte {
		return h.cfg.Typing(roomID, users, code)
	})
	// A typist's own sockets, by user and language.
	type reader struct {
		user int64
		lang uint8
	}
	var own map[reader]Frame
	for _, s := range r.subs {
		if r.typing[s.User.ID] == nil {
			s.push(all.frameFor(s), h.cfg.QueueLen)
			continue
		}
		f, ok := own[reader{s.User.ID, s.lang}]
		if !ok {
			others := slices.DeleteFunc(slices.Clone(users), func(u chat.User) bool { return u.ID == s.User.ID })
			f = Frame{Data: h.cfg.Typing(roomID, others, chat.Languages[s.lang])}
			if own == nil {
				own = make(map[reader]Frame)
			}
			own[reader{s.User.ID, s.lang}] = f
		}
		s.push(f, h.cfg.QueueLen)
	}
}
