package live

// Rooms returns the rooms the hub serves: those with a socket open here, or
// counted by a sidebar here. Another node's events matter here for these only.
func (h *Hub) Rooms() []int64 {
	h.mu.RLock()
	ids := make([]int64, 0, len(h.rooms))
	for id := range h.rooms {
		ids = append(ids, id)
	}
	h.mu.RUnlock()
	if h.feed != nil {
		for _, id := range h.feed.roomIDs() {
			if !h.servesOpen(id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// Serves reports whether the hub serves the room (see Rooms).
func (h *Hub) Serves(roomID int64) bool {
	return h.servesOpen(roomID) || (h.feed != nil && h.feed.serves(roomID))
}

func (h *Hub) servesOpen(roomID int64) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.rooms[roomID] != nil
}
