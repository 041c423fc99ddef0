package db_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"agora/chat"
	"agora/db"
)

// A thread on both engines: replies are numbered in the room's log, stay out
// of the room's list unless sent there too, keep their root's summary,
// make their authors, the root's author and the members mentioned follow
// the thread, and count as unread for followers until they read it.
func TestThreadsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		var userEvents []chat.UserEvent
		s.OnUserEvent(func(ev chat.UserEvent) { mu.Lock(); userEvents = append(userEvents, ev); mu.Unlock() })
		general, err := s.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		ann, bob, cat, dan := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cat"), mustUser(t, s, "dan")
		for _, u := range []chat.User{ann, bob, cat} {
			if _, err := s.Join(ctx, general.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		post := func(m chat.Message) chat.Message {
			t.Helper()
			m.RoomID = general.ID
			got, _, err := s.CreateMessage(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		root := post(chat.Message{AuthorID: ann.ID, Body: "question?"})
		r1 := post(chat.Message{AuthorID: bob.ID, Body: "answer", ThreadID: root.ID})
		if r1.ThreadID != root.ID || r1.Thread == nil || r1.Thread.Count != 1 || r1.Seq != root.Seq+1 {
			t.Fatalf("reply = %+v (thread %+v); want thread %d, count 1, the room's next seq", r1, r1.Thread, root.ID)
		}
		// A reply to a reply is a reply to its root; @cat (a member) follows, @dan (not one) does not.
		r2 := post(chat.Message{AuthorID: cat.ID, Body: "me too @bob @dan", ThreadID: r1.ID, InRoom: true, Mentions: []string{"bob", "dan"}})
		if r2.ThreadID != root.ID || !r2.InRoom || r2.Thread.Count != 2 {
			t.Fatalf("reply to a reply = thread %d in room %v count %d; want %d, true, 2", r2.ThreadID, r2.InRoom, r2.Thread.Count, root.ID)
		}
		if names := []string{r2.Thread.Repliers[0].Username, r2.Thread.Repliers[1].Username}; !slices.Equal(names, []string{"cat", "bob"}) {
			t.Fatalf("repliers = %v; want cat, bob (newest first)", names)
		}
		list, err := s.Messages(ctx, general.ID, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range list {
			if m.Kind == chat.MessageText {
				ids = append(ids, m.ID)
			}
		}
		if !slices.Equal(ids, []int64{root.ID, r2.ID}) {
			t.Fatalf("room list = %v; want the root and the reply sent to the room %v", ids, []int64{root.ID, r2.ID})
		}
		if list[slices.IndexFunc(list, func(m chat.Message) bool { return m.ID == root.ID })].Thread.Count != 2 {
			t.Fatal("the root in the room's list does not carry its summary")
		}
		replies, err := s.Replies(ctx, root.ID, 0, 100)
		if err != nil || len(replies) != 2 || replies[0].ID != r1.ID || replies[1].ID != r2.ID {
			t.Fatalf("replies = %v, %v; want r1, r2", replies, err)
		}
		unread := func(u chat.User) map[int64]int {
			t.Helper()
			nav, err := s.ThreadNav(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			out := make(map[int64]int)
			for _, n := range nav {
				out[n.RootID] = n.Unread
			}
			return out
		}
		if got := unread(ann); got[root.ID] != 2 {
			t.Fatalf("ann (root's author) has %v unread; want 2", got)
		}
		if got := unread(bob); got[root.ID] != 1 {
			t.Fatalf("bob (replier, mentioned after) has %v; want 1", got)
		}
		if got := unread(cat); got[root.ID] != 0 {
			t.Fatalf("cat (last replier) has %v; want 0", got)
		}
		if got := unread(dan); len(got) != 0 {
			t.Fatalf("dan, mentioned but not in the room, follows %v", got)
		}
		// Reading clears; unfollowing by hand stays through the next reply for the root's author.
		if err := s.MarkThreadRead(ctx, ann.ID, root.ID, r2.ID); err != nil {
			t.Fatal(err)
		}
		if got := unread(ann); got[root.ID] != 0 {
			t.Fatalf("after reading, ann has %v", got)
		}
		if err := s.SetFollowing(ctx, ann.ID, root.ID, false); err != nil {
			t.Fatal(err)
		}
		post(chat.Message{AuthorID: bob.ID, Body: "more", ThreadID: root.ID})
		if got := unread(ann); len(got) != 0 {
			t.Fatalf("ann unfollowed, yet follows %v", got)
		}
		mu.Lock()
		kinds := map[string]int{}
		for _, ev := range userEvents {
			kinds[ev.Kind]++
		}
		mu.Unlock()
		if kinds[chat.UserFollow] < 4 || kinds[chat.UserThreadRead] < 1 {
			t.Fatalf("user events %v; want follows and thread reads", kinds)
		}
		// Deleting a reply takes it off the root's count.
		del, err := s.DeleteMessage(ctx, r1.ID, bob)
		if err != nil || del.Thread == nil || del.Thread.Count != 2 {
			t.Fatalf("deleted reply's root summary = %+v, %v; want count 2", del.Thread, err)
		}

		// Hostile: a root in another room, a deleted root, an archived room.
		other, err := s.CreateRoom(ctx, "other", "other", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		foreign, _, err := s.CreateMessage(ctx, chat.Message{RoomID: other.ID, AuthorID: ann.ID, Body: "elsewhere"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: bob.ID, Body: "x", ThreadID: foreign.ID}); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("a reply to another room's message: %v; want not found", err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: bob.ID, Body: "x", ThreadID: 1 << 40}); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("a reply to no message: %v; want not found", err)
		}
		gone := post(chat.Message{AuthorID: ann.ID, Body: "soon gone"})
		if _, err := s.DeleteMessage(ctx, gone.ID, ann); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: bob.ID, Body: "x", ThreadID: gone.ID}); chat.ErrorCode(err) != chat.EInvalid {
			t.Fatalf("a reply to a deleted root: %v; want invalid", err)
		}
		yes := true
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: other.ID, AuthorID: ann.ID, Kind: chat.MessageNotice, Body: "archived",
			Change: &chat.RoomChange{Archived: &yes}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: other.ID, AuthorID: ann.ID, Body: "x", ThreadID: foreign.ID}); !errors.Is(err, chat.ErrArchived) {
			t.Fatalf("a reply in an archived room: %v; want archived", err)
		}
		after, err := s.Replies(ctx, root.ID, 0, 100)
		if err != nil || len(after) != 3 {
			t.Fatalf("refusals changed the thread: %d replies, %v", len(after), err)
		}
		// A group's mention reaches its members: eve, reached through @design, follows.
		eve := mustUser(t, s, "eve")
		if _, err := s.Join(ctx, general.ID, eve.ID); err != nil {
			t.Fatal(err)
		}
		post(chat.Message{AuthorID: cat.ID, Body: "@design have a look", ThreadID: root.ID,
			Mentions: []string{"design"}, Groups: []string{"design"}, GroupMembers: []string{"eve"}})
		if got := unread(eve); got[root.ID] != 3 {
			t.Fatalf("eve, reached by a group's mention, has %v unread; want the thread's 3 replies", got)
		}
		// One thread alone, as a feed reads it after a follow: eve's as ThreadNav has it, none for dan.
		if one, ok, err := s.FollowedThread(ctx, eve.ID, root.ID); err != nil || !ok || one.Unread != 3 || one.RootID != root.ID || one.Room.ID != general.ID || !one.Member {
			t.Fatalf("eve's followed thread = %+v, %v, %v; want it, 3 unread, in general, a member", one, ok, err)
		}
		if _, ok, err := s.FollowedThread(ctx, dan.ID, root.ID); err != nil || ok {
			t.Fatalf("dan's followed thread: %v, %v; want none", ok, err)
		}
	})
}
