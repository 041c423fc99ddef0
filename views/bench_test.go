package views_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"agora/chat"
	"agora/views"
)

// benchBody is a typical message of about 100 bytes with a link and a mention.
const benchBody = "@bob the build notes are at https://example.com/notes/build?id=42 please review them before 5pm <3"

func benchMessage(id int64) chat.Message {
	return chat.Message{
		ID: id, RoomID: 1, Kind: chat.MessageText, AuthorID: 7,
		Author: "ann", AuthorName: "Ann Example", Body: benchBody,
		ClientMsgID: fmt.Sprintf("cid-%d", id),
		CreatedAt:   time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
	}
}

// BenchmarkRenderMessageFrame is the cost of rendering one broadcast message
// fragment: done once per message, whatever the number of receivers.
func BenchmarkRenderMessageFrame(b *testing.B) {
	m := benchMessage(123456)
	var buf bytes.Buffer
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := views.MessageFrame(m).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/frame")
}

// BenchmarkRenderRoomPage50 renders a room page holding 50 messages, a
// sidebar of rooms and a presence list, as GET /rooms/{slug} does.
func BenchmarkRenderRoomPage50(b *testing.B) {
	me := chat.User{ID: 7, Username: "ann", DisplayName: "Ann Example"}
	room := chat.Room{ID: 1, Slug: "general", Name: "general", Kind: chat.KindRoom}
	rooms := []chat.NavRoom{{Room: room, Member: true}}
	for i := range 9 {
		rooms = append(rooms, chat.NavRoom{Room: chat.Room{ID: int64(i + 2), Slug: fmt.Sprintf("room-%d", i), Name: fmt.Sprintf("room %d", i), Kind: chat.KindRoom}, Member: true, Unread: i})
	}
	msgs := make([]chat.Message, 50)
	for i := range msgs {
		msgs[i] = benchMessage(int64(1000 + i))
	}
	online := make([]chat.User, 20)
	for i := range online {
		online[i] = chat.User{ID: int64(100 + i), Username: fmt.Sprintf("user%02d", i)}
	}
	p := views.Page{Title: "#general", User: &me, Assets: "0123456789ab", Nav: views.Nav{Rooms: rooms, Current: room.ID}}
	v := views.RoomView{Room: room, Messages: msgs, Older: true, Online: online, ClientMsgID: "abcdefghijklmnopqrstuv"}
	var buf bytes.Buffer
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := views.RoomPage(p, v).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}
