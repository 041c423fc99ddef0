package db_test

import (
	"context"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

func mustVerified(t *testing.T, s *db.Store, u chat.User, addr string) {
	t.Helper()
	ctx := context.Background()
	token := []byte("verify-" + u.Username)
	if err := s.CreateEmailVerification(ctx, u.ID, addr, token, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.VerifyEmail(ctx, token); err != nil {
		t.Fatal(err)
	}
}

// A member's level for a room: listed in the sidebar, and the email of
// missed activity follows it (all: every message; nothing: none, mentions
// included). Not a member, or a level that is none of the three, changes
// nothing.
func TestRoomNotifyLevels(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob, cy := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cy")
		room, err := s.CreateRoom(ctx, "Design", "design", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []chat.User{bob, cy} {
			if _, err := s.Join(ctx, room.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			mustVerified(t, s, u, u.Username+"@example.com")
		}
		if level, _ := s.RoomNotify(ctx, room.ID, bob.ID); level != chat.NotifyMentions {
			t.Fatalf("a new member's level %q, want mentions", level)
		}
		if err := s.SetRoomNotify(ctx, room.ID, bob.ID, "loud"); chat.ErrorCode(err) != chat.EInvalid {
			t.Fatalf("level loud: %v", err)
		}
		outsider := mustUser(t, s, "dee")
		if err := s.SetRoomNotify(ctx, room.ID, outsider.ID, chat.NotifyAll); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("a non-member's level: %v", err)
		}
		if err := s.SetRoomNotify(ctx, room.ID, bob.ID, chat.NotifyAll); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRoomNotify(ctx, room.ID, cy.ID, chat.NotifyNothing); err != nil {
			t.Fatal(err)
		}
		nav, err := s.Nav(ctx, cy.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range nav {
			if r.ID == room.ID && r.Notify != chat.NotifyNothing {
				t.Fatalf("cy's sidebar lists the room at %q", r.Notify)
			}
		}

		// A plain message concerns bob (all), not cy (nothing).
		who, err := s.EmailRecipients(ctx, room.ID, ann.ID, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := who[bob.ID]; !ok || len(who) != 1 {
			t.Fatalf("a plain message is emailed to %v, want bob alone", who)
		}
		// A mention of cy does not reach her email at nothing.
		who, err = s.EmailRecipients(ctx, room.ID, ann.ID, false, []string{"cy"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := who[cy.ID]; ok {
			t.Fatalf("cy at nothing is emailed a mention: %v", who)
		}
		plain, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: ann.ID, Body: "plain"})
		if err != nil {
			t.Fatal(err)
		}
		mention, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: ann.ID, Body: "@cy look", Mentions: []string{"cy"}})
		if err != nil {
			t.Fatal(err)
		}
		missed, err := s.MissedBy(ctx, bob.ID, 10)
		if err != nil || len(missed) != 2 || missed[0].Message.ID != plain.ID || missed[1].Message.ID != mention.ID {
			t.Fatalf("bob (all) missed %+v, %v: want both messages", missed, err)
		}
		if missed, err := s.MissedBy(ctx, cy.ID, 10); err != nil || len(missed) != 0 {
			t.Fatalf("cy (nothing) missed %+v, %v: want none", missed, err)
		}
	})
}

// A status is kept as set; activity only moves forward.
func TestStatusKeptAndActivityMovesForward(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		if st, err := s.Status(ctx, ann.ID); err != nil || st != (chat.Status{}) {
			t.Fatalf("a new account's status %+v, %v", st, err)
		}
		now := time.Now().Truncate(time.Millisecond)
		if err := s.TouchActive(ctx, ann.ID, now); err != nil {
			t.Fatal(err)
		}
		want := chat.Status{Text: "On holiday", Emoji: "🌴", DNDUntil: now.Add(time.Hour), Away: true}
		if err := s.SetStatus(ctx, ann.ID, want); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchActive(ctx, ann.ID, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Statuses(ctx, []int64{ann.ID, bob.ID})
		if err != nil {
			t.Fatal(err)
		}
		want.ActiveAt = now
		if st := got[ann.ID]; st.Text != want.Text || st.Emoji != want.Emoji || !st.DNDUntil.Equal(want.DNDUntil) || !st.Away || !st.ActiveAt.Equal(now) {
			t.Fatalf("ann's status %+v, want %+v", st, want)
		}
		if _, ok := got[bob.ID]; ok || len(got) != 1 {
			t.Fatalf("statuses %+v: bob has none", got)
		}
		want.DNDUntil, want.Away = time.Time{}, false
		if err := s.SetStatus(ctx, ann.ID, want); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.Status(ctx, ann.ID); !st.DNDUntil.IsZero() || st.Away || !st.ActiveAt.Equal(now) {
			t.Fatalf("cleared: %+v", st)
		}
	})
}
