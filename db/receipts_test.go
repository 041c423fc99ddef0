package db_test

import (
	"context"
	"strconv"
	"testing"

	"agora/chat"
	"agora/db"
)

// Read receipts on both engines: how far each member read, the message a
// direct conversation's "Seen" goes under, who read a room's last message;
// a marker never passes the room's last message; someone with receipts off
// is not shown; a room of more than 50 members shows none.
func TestReceiptsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob, carol := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "carol")
		crew, err := s.CreateRoom(ctx, "Crew", "crew", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []chat.User{bob, carol} {
			if _, err := s.Join(ctx, crew.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		post := func(room int64, author chat.User, body string, thread int64) chat.Message {
			t.Helper()
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room, AuthorID: author.ID, Kind: chat.MessageText, Body: body, ThreadID: thread})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		first := post(crew.ID, ann, "first", 0)
		last := post(crew.ID, ann, "last", 0)
		reply := post(crew.ID, bob, "a reply, not in the room's list", first.ID)

		// Past the room's newest message (the reply is the newest id) the
		// marker does not move.
		if _, err := s.MarkRead(ctx, crew.ID, bob.ID, reply.ID+1000); err != nil {
			t.Fatal(err)
		}
		r, err := s.Receipts(ctx, crew.ID)
		if err != nil {
			t.Fatal(err)
		}
		if x, _ := r.Reader(bob.ID); x.UpTo != 0 {
			t.Errorf("a read past the room's last message moved bob's marker to %d", x.UpTo)
		}
		if r.LastID != last.ID || r.LastAuthor != ann.ID || r.Members != 3 || !r.Shown() {
			t.Errorf("receipts: last %d by %d, %d members, shown %v; want %d by %d, 3, true", r.LastID, r.LastAuthor, r.Members, r.Shown(), last.ID, ann.ID)
		}

		// bob read up to the reply: Seen is the list's last message below it.
		if _, err := s.MarkRead(ctx, crew.ID, bob.ID, reply.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkRead(ctx, crew.ID, carol.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		r, _ = s.Receipts(ctx, crew.ID)
		if x, _ := r.Reader(bob.ID); x.UpTo != reply.ID || x.Seen != last.ID {
			t.Errorf("bob: up to %d, seen %d; want %d, %d", x.UpTo, x.Seen, reply.ID, last.ID)
		}
		if x, _ := r.Reader(carol.ID); x.Seen != first.ID {
			t.Errorf("carol: seen %d, want %d", x.Seen, first.ID)
		}
		if got := names(r.SeenBy()); got != "bob" {
			t.Errorf("seen by %q, want bob (carol is behind, ann wrote it)", got)
		}

		// Off, bob is not shown; on again, he is.
		if err := s.SetReadReceipts(ctx, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		if on, err := s.ReadReceipts(ctx, bob.ID); err != nil || on {
			t.Fatalf("bob's receipts after off: %v, %v", on, err)
		}
		r, _ = s.Receipts(ctx, crew.ID)
		if got := names(r.SeenBy()); got != "" {
			t.Errorf("seen by %q with bob's receipts off", got)
		}
		s.SetReadReceipts(ctx, bob.ID, true)

		// A direct conversation: each sees where the other got to.
		dm, _, err := s.DM(ctx, ann, bob)
		if err != nil {
			t.Fatal(err)
		}
		hi := post(dm.ID, ann, "hi", 0)
		post(dm.ID, ann, "unread yet", 0)
		s.MarkRead(ctx, dm.ID, bob.ID, hi.ID)
		r, _ = s.Receipts(ctx, dm.ID)
		if got := r.SeenOf(ann.ID); got != hi.ID {
			t.Errorf("ann sees Seen under %d, want %d", got, hi.ID)
		}
		s.SetReadReceipts(ctx, ann.ID, false)
		r, _ = s.Receipts(ctx, dm.ID)
		if got := r.SeenOf(ann.ID); got != 0 {
			t.Errorf("ann, receipts off, sees Seen under %d", got)
		}
		if got := r.SeenOf(bob.ID); got != 0 {
			t.Errorf("bob sees Seen under %d from ann, whose receipts are off", got)
		}

		// 51 members: no receipts.
		big, err := s.CreateRoom(ctx, "Big", "big", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range chat.ReceiptRoomMax {
			u := mustUser(t, s, "member"+strconv.Itoa(i))
			if _, err := s.Join(ctx, big.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		r, err = s.Receipts(ctx, big.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Shown() || r.Readers != nil || r.Members != chat.ReceiptRoomMax+1 {
			t.Errorf("a room of 51: shown %v, %d readers, members %d", r.Shown(), len(r.Readers), r.Members)
		}
	})
}

func names(us []chat.User) string {
	out := ""
	for i, u := range us {
		if i > 0 {
			out += ","
		}
		out += u.Username
	}
	return out
}
