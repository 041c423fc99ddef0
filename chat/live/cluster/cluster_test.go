package cluster

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"agora/chat"
)

// What a node commits reaches the others as it stands: each node renders it
// itself, so every field a fragment shows must cross the wire unchanged.
func TestEventsCrossTheWireUnchanged(t *testing.T) {
	at := time.Date(2026, 12, 7, 4, 0, 0, 123000, time.UTC)
	topic, archived := "", true
	for _, ev := range []chat.Event{
		{ID: 9, RoomID: 1, Seq: 1, Kind: chat.EventMessage, At: at, Message: chat.Message{ID: 7, RoomID: 1, Kind: chat.MessageText,
			AuthorID: 3, Author: "ann", AuthorName: "Ann", Body: "hi @bob", Seq: 1, Mentions: []string{"bob"}, CreatedAt: at,
			Reactions: []chat.Reaction{{Emoji: "👍", Users: []string{"bob"}, Names: []string{"Bob"}}},
			File:      &chat.File{ID: 4, RoomID: 1, MessageID: 7, Name: "a.png", ContentType: "image/png", Size: 10, Width: 2, Height: 3, CreatedAt: at}}},
		{ID: 10, RoomID: 1 << 40, Seq: 99, Kind: chat.EventDelete, At: at, Message: chat.Message{ID: 8, DeletedAt: at, EditedAt: at}},
		{ID: 11, RoomID: 3, Seq: 2, Kind: chat.EventMessage, At: at, Message: chat.Message{Kind: chat.MessageNotice, AuthorGuest: true, AuthorBot: true,
			Change: &chat.RoomChange{Name: "ops", Topic: &topic, Archived: &archived}}},
	} {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var got chat.Event
		if err := json.Unmarshal(b, &got); err != nil || !reflect.DeepEqual(got, ev) {
			t.Errorf("round trip of %+v = %+v, %v", ev, got, err)
		}
	}
}

func TestControlMessagesRefuseTruncation(t *testing.T) {
	b := appendBytes([]byte{ctlSession, 2, 4, 6}, []byte("session"))
	b = appendBytes(b, []byte("why"))
	for i := range b {
		r := reader{b: b[:i]}
		r.byte()
		r.varint()
		r.varint()
		r.varint()
		r.bytes()
		r.bytes()
		if r.err == nil {
			t.Errorf("a message cut at %d of %d bytes read without error", i, len(b))
		}
	}
}
