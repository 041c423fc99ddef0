package db_test

import (
	"context"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// Bots: made with their token in one go, found by the usernames a message
// mentions, their deliveries' outcomes kept.
func TestBotsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann")
		bot, err := s.CreateBot(ctx, "deploy", ann.ID, "https://hooks.example/d", "shh", chat.HashToken("bot-token"))
		if err != nil || !bot.User.IsBot || bot.User.IsAdmin || bot.Owner != "ann" {
			t.Fatalf("bot = %+v, %v", bot, err)
		}
		if _, err := s.CreateBot(ctx, "DEPLOY", ann.ID, "", "x", chat.HashToken("other")); chat.ErrorCode(err) != chat.EConflict {
			t.Fatalf("a taken name: %v, want conflict", err)
		}
		if _, err := s.CreateBot(ctx, "quiet", ann.ID, "", "x", chat.HashToken("quiet-token")); err != nil {
			t.Fatal(err)
		}
		u, _, _, err := s.TokenUser(ctx, chat.HashToken("bot-token"))
		if err != nil || u.ID != bot.User.ID || !u.IsBot {
			t.Fatalf("the bot's token: %+v, %v", u, err)
		}
		named, err := s.BotsNamed(ctx, []string{"Deploy", "quiet", "ann"})
		if err != nil || len(named) != 1 || named[0].User.Username != "deploy" || named[0].Secret != "shh" {
			t.Fatalf("bots named = %+v, %v; want deploy alone (quiet has no webhook)", named, err)
		}
		at := time.Now().Truncate(time.Millisecond)
		if err := s.RecordDelivery(ctx, bot.User.ID, at, "the webhook answered 500"); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordDelivery(ctx, bot.User.ID, at.Add(time.Second), ""); err != nil {
			t.Fatal(err)
		}
		b, err := s.BotByID(ctx, bot.User.ID)
		if err != nil || b.LastError != "the webhook answered 500" || !b.LastErrorAt.Equal(at) || !b.LastDeliveryAt.Equal(at.Add(time.Second)) {
			t.Fatalf("bot after deliveries = %+v, %v", b, err)
		}
		all, err := s.Bots(ctx)
		if err != nil || len(all) != 2 {
			t.Fatalf("bots = %+v, %v", all, err)
		}
	})
}

// The API's event stream reads every room a user can read, after an event
// id, in id order; a private room's events are for its members.
func TestVisibleEventsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		general, err := s.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		hidden, err := s.CreateRoom(ctx, "Hidden", "hidden", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		start, err := s.LatestEventID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		post := func(room int64, body string) chat.Message {
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room, AuthorID: ann.ID, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		m1 := post(general.ID, "one")
		post(hidden.ID, "secret")
		if _, err := s.EditMessage(ctx, m1.ID, ann, "one, edited", nil, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			user  chat.User
			kinds []string
		}{{bob, []string{"message", "edit"}}, {ann, []string{"message", "message", "edit"}}} {
			events, err := s.EventsVisible(ctx, c.user.ID, start, 100)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for i, e := range events {
				kinds = append(kinds, e.Kind)
				if i > 0 && e.ID <= events[i-1].ID {
					t.Fatalf("events out of order: %+v", events)
				}
				if e.Message.RoomID == hidden.ID && c.user.ID == bob.ID {
					t.Fatal("bob sees the private room's event")
				}
			}
			if len(kinds) != len(c.kinds) || events[len(events)-1].Message.Body != "one, edited" {
				t.Fatalf("%s's events = %v, want %v", c.user.Username, kinds, c.kinds)
			}
			for i := range kinds {
				if kinds[i] != c.kinds[i] {
					t.Fatalf("%s's events = %v, want %v", c.user.Username, kinds, c.kinds)
				}
			}
		}
		// The streams' shared read takes every room's events, in id order.
		all, err := s.EventsSince(ctx, start, 100)
		if err != nil || len(all) != 3 || all[1].Message.RoomID != hidden.ID || all[2].Kind != "edit" || all[2].ID <= all[1].ID {
			t.Fatalf("events since %d = %+v, %v", start, all, err)
		}
		latest, err := s.LatestEventID(ctx)
		if err != nil || latest <= start {
			t.Fatalf("latest event id %d (was %d), %v", latest, start, err)
		}
		if rest, err := s.EventsVisible(ctx, ann.ID, latest, 100); err != nil || len(rest) != 0 {
			t.Fatalf("events after the latest = %+v, %v", rest, err)
		}
	})
}
