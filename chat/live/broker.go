package live

// Broker carries rendered room events to the hub of every node. A node
// renders an event once, after it is committed, and publishes it; each hub
// delivers what it receives to its own sockets. Publish must not block.
type Broker interface {
	Publish(Event)
}

// Local is the Broker of a server that runs alone: events go straight to
// its one hub.
type Local struct{ Hub *Hub }

// Publish delivers ev to the local hub.
func (l Local) Publish(ev Event) { l.Hub.Deliver(ev) }

// Presence says who is online: a user with a socket open on any node. The
// hub is the in-process one, for a server that runs alone.
type Presence interface {
	OnlineSet(userIDs []int64) map[int64]bool
}

var (
	_ Broker   = Local{}
	_ Presence = (*Hub)(nil)
)
