package live

// Ended is what a close of sockets was about: a session (a browser's, or
// an API token's, named "token:{id}"), a user, a room, or a user in a room.
// The zero fields are not part of it.
type Ended struct {
	Session        string
	UserID, RoomID int64
}

// OnEnded sets fn to be told of every close the hub is asked for, on this
// node or, in a cluster, from another (the cluster hands its control events
// to the hub): connections that are not sockets of the hub (the API's event
// streams) end by the same word as the sockets. fn must not block.
func (h *Hub) OnEnded(fn func(Ended)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onEnded = fn
}

// ended tells the OnEnded hook of a close.
func (h *Hub) ended(e Ended) {
	h.mu.RLock()
	fn := h.onEnded
	h.mu.RUnlock()
	if fn != nil {
		fn(e)
	}
}
