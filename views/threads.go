package views

import (
	"context"
	"strconv"

	"agora/chat"
)

// ThreadView is a thread open beside its room: the root, its replies and
// the reader's reply composer.
type ThreadView struct {
	Root      chat.Message
	Replies   []chat.Message
	Following bool
	// ClientMsgID is fresh for every render, as the room composer's.
	ClientMsgID string
	Draft       string // the text of a refused reply, kept for another try
	InRoom      bool   // "also send to the room" was ticked on it
	Error       string
}

// ThreadItem is a followed thread as /threads lists it.
type ThreadItem struct {
	Root   chat.Message
	Room   chat.Room
	Peer   chat.User // the other person of a direct conversation
	Unread int
}

// ThreadsView is the /threads page.
type ThreadsView struct {
	Threads []ThreadItem
}

// socketURL is the room's socket; beside an open thread it names the
// thread, so that what comes into it is read as it comes.
func (v RoomView) socketURL() string {
	if v.Thread != nil {
		return roomURL(v.Room) + "/ws?thread=" + idString(v.Thread.Root.ID)
	}
	return roomURL(v.Room) + "/ws"
}

func threadURL(rootID int64) string { return "/threads/" + strconv.FormatInt(rootID, 10) }

func summaryDOMID(rootID int64) string { return "summary-" + strconv.FormatInt(rootID, 10) }

// repliesTarget is where a new reply goes: the replies of its own thread,
// wherever that thread is open; and #reply-sink, which every room page
// has, so that a page without the thread open has a target too (htmx
// reports an out-of-band swap that finds none; app.js empties the sink).
func repliesTarget(rootID int64) string {
	return "beforeend:[data-thread-replies='" + strconv.FormatInt(rootID, 10) + "'], #reply-sink"
}

func replyCount(ctx context.Context, n int) string { return tsn(ctx, "threads.reply_count", n) }

// threadPlace names where a thread is: its room, or the person of a
// direct conversation.
func threadPlace(t ThreadItem) string {
	if t.Room.IsDM() {
		return t.Peer.Name()
	}
	return RoomTitle(t.Room)
}

// excerpt is the start of a root's text for a list.
func excerpt(m chat.Message) string {
	if m.Deleted() {
		return "message deleted"
	}
	r := []rune(m.Body)
	if len(r) > 140 {
		return string(r[:140]) + "…"
	}
	if len(r) == 0 && m.File != nil {
		return m.File.Name
	}
	return string(r)
}

func unreadReplies(n int) string {
	if n == 1 {
		return "1 unread reply"
	}
	return strconv.Itoa(n) + " unread replies"
}

// threadRootOf is the thread a reply to m goes to: m's own, or its root's
// when m is a reply.
func threadRootOf(m chat.Message) int64 {
	if m.ThreadID != 0 {
		return m.ThreadID
	}
	return m.ID
}
