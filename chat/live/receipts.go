package live

// Open reports whether a socket here has the room open: what only such a
// page shows (read receipts) need not be worked out otherwise.
func (h *Hub) Open(roomID int64) bool { return h.servesOpen(roomID) }

// PublishTo queues f for the room's subscribers whose user to accepts (a
// read receipt is not shown to its reader, nor to those who turned receipts
// off). It never blocks. to is asked once per socket, under the hub's lock:
// it must be cheap and must not call the hub.
func (h *Hub) PublishTo(roomID int64, frag Fragment, to func(userID int64) bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rooms[roomID]
	if r == nil {
		return
	}
	f := newByLang(Frame{Data: frag.Data}, frag.In)
	for _, s := range r.subs {
		if to(s.User.ID) {
			s.push(f.frameFor(s), h.cfg.QueueLen)
		}
	}
}
