package live

import (
	"slices"
	"sync"
	"sync/atomic"

	"agora/chat"
)

// Subscriber is one open socket in one room. Frames published to the room
// queue up in it until its writer drains them.
type Subscriber struct {
	RoomID  int64
	Thread  int64 // the root of the thread open beside the room, or 0
	User    chat.User
	Session string // which session opened it, so logging out can close it

	userKey string // the lower-case username, to match mentions
	lang    uint8  // its page's language: User.Language's place in chat.Languages

	hub    *Hub
	wake   chan struct{}
	notify atomic.Pointer[func()] // when set, called instead of sending on wake
	done   chan struct{}
	hidden atomic.Bool // its page said it is not visible (see SetHidden)

	mu          sync.Mutex
	queue       []Frame
	spare       []Frame
	floorSeq    int64
	floorID     int64
	closed      bool
	closeCode   int
	closeReason string
}

// SetHidden records what the page said of itself (the Page Visibility
// API): a socket is visible until its page says otherwise.
func (s *Subscriber) SetHidden(hidden bool) { s.hidden.Store(hidden) }

// Wake receives when frames are waiting to be drained.
func (s *Subscriber) Wake() <-chan struct{} { return s.wake }

// Done is closed when the subscriber is closed; CloseStatus then says why.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// CloseStatus returns the close code and reason once Done is closed.
func (s *Subscriber) CloseStatus() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeCode, s.closeReason
}

// Close closes the subscriber with code; its owner then unsubscribes it.
func (s *Subscriber) Close(code int, reason string) { s.close(code, reason) }

// SetFloor makes the subscriber skip frames of events up to seq, and of new
// messages up to id: what it was sent on connecting already carried them.
func (s *Subscriber) SetFloor(seq, id int64) {
	s.mu.Lock()
	s.floorSeq = max(s.floorSeq, seq)
	s.floorID = max(s.floorID, id)
	s.mu.Unlock()
}

// skips reports whether f is older than the subscriber's floor.
func skips(f Frame, seq, id int64) bool {
	return (f.Seq != 0 && f.Seq <= seq) || (f.MsgID != 0 && f.MsgID <= id)
}

// Send queues a frame for this subscriber alone (a reply to its own frame).
func (s *Subscriber) Send(f Frame) { s.push(f, s.hub.cfg.QueueLen) }

// Drain takes every waiting frame and returns them as one message, and the
// buffer to pass next time. One waiting frame is returned as it is, with no
// copy: it is shared with every receiver and must not be modified. Several
// are appended to buf: htmx-ext-ws swaps each top-level element of a message
// on its own, so fragments can share one WebSocket message.
func (s *Subscriber) Drain(buf []byte) (msg, next []byte) {
	s.mu.Lock()
	q, seq, id := s.queue, s.floorSeq, s.floorID
	s.queue, s.spare = s.spare[:0], nil
	s.mu.Unlock()
	var only []byte
	n, size := 0, 0
	for _, f := range q {
		if !skips(f, seq, id) {
			only = f.Data
			n++
			size += len(f.Data)
		}
	}
	if n == 1 {
		msg, next = only, buf
	} else {
		// Grown once to the size of the whole: a socket that fell behind
		// drains hundreds of frames, and growing by appending copied them
		// over and over (a tenth of the server's CPU under that load).
		buf = slices.Grow(buf, size)
		for _, f := range q {
			if !skips(f, seq, id) {
				buf = append(buf, f.Data...)
			}
		}
		msg, next = buf, buf
	}
	clear(q)
	s.mu.Lock()
	s.spare = q[:0]
	s.mu.Unlock()
	return msg, next
}

func (s *Subscriber) push(f Frame, limit int) { s.queueFrame(f, limit, true) }

// queueFrame adds f to the queue and, if wake, tells the writer at once.
func (s *Subscriber) queueFrame(f Frame, limit int, wake bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= limit {
		s.mu.Unlock()
		s.close(CloseTryAgainLater, "too slow to keep up")
		return
	}
	s.queue = append(s.queue, f)
	s.mu.Unlock()
	if wake {
		s.signal()
	}
}

func (s *Subscriber) signal() {
	if fn := s.notify.Load(); fn != nil {
		(*fn)()
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Notify makes fn be called, instead of a send on Wake, whenever frames are
// waiting and when the subscriber is closed: its owner can then write with
// a goroutine that exists only while there is something to write. fn must
// not block. It is called once at once, for what is waiting already.
func (s *Subscriber) Notify(fn func()) {
	s.notify.Store(&fn)
	fn()
}

// Pending reports whether frames are waiting or the subscriber was closed.
func (s *Subscriber) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0 || s.closed
}

func (s *Subscriber) close(code int, reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.closeCode, s.closeReason = code, reason
	close(s.done)
	s.mu.Unlock()
	if fn := s.notify.Load(); fn != nil {
		(*fn)()
	}
}
