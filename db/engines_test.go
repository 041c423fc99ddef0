package db_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
	"agora/db/pgtest"
)

// Nodes that start at once on a fresh PostgreSQL database migrate it once:
// each finds the schema whole and the general room single. (Nodes are
// PostgreSQL's: a SQLite file has one server.)
func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	func(test func(*testing.T, string)) {
		t.Run("postgres", func(t *testing.T) { test(t, pgtest.Database(t)) })
	}(func(t *testing.T, dsn string) {
		ctx := context.Background()
		const nodes = 4
		stores := make([]*db.Store, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() { stores[i], errs[i] = db.Open(ctx, dsn) })
		}
		wg.Wait()
		for i, s := range stores {
			if errs[i] != nil {
				t.Fatalf("node %d: %v", i, errs[i])
			}
			t.Cleanup(func() { s.Close() })
		}
		ann := mustUser(t, stores[0], "ann")
		for i, s := range stores {
			rooms, err := s.Nav(ctx, ann.ID)
			if err != nil || len(rooms) != 1 || rooms[0].Slug != "general" {
				t.Fatalf("node %d sees rooms %+v, %v; want only general", i, rooms, err)
			}
		}
	})
}

// Two stores on one database (two nodes) write into one room at once while a
// reader follows the room with "everything after the last id I have", as a
// reconnecting client does. If an id could commit after a higher one, the
// reader would step over it for good.
func TestIdsRiseInCommitOrderAcrossNodes(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openDSN(t, dsn), openDSN(t, dsn)
		general, err := a.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		var authors []chat.User
		for i := range 8 {
			authors = append(authors, mustUser(t, a, fmt.Sprintf("w%d", i)))
		}
		const perWriter = 40
		var wg sync.WaitGroup
		done := make(chan struct{})
		for i, author := range authors {
			node := []*db.Store{a, b}[i%2]
			wg.Go(func() {
				for j := range perWriter {
					if _, _, err := node.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: author.ID, Body: fmt.Sprintf("%d-%d", i, j)}); err != nil {
						t.Errorf("writer %d: %v", i, err)
						return
					}
				}
			})
		}
		go func() { wg.Wait(); close(done) }()
		var seen []int64
		follow := func() {
			msgs, err := b.MessagesAfter(ctx, general.ID, lastOf(seen), 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				seen = append(seen, m.ID)
			}
		}
		for waiting := true; waiting; {
			select {
			case <-done:
				waiting = false
			default:
				follow()
			}
		}
		follow()
		all, err := a.MessagesAfter(ctx, general.ID, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(authors)*perWriter {
			t.Fatalf("stored %d messages, want %d", len(all), len(authors)*perWriter)
		}
		if len(seen) != len(all) {
			t.Fatalf("the follower saw %d of %d messages: an id committed after a higher one", len(seen), len(all))
		}
		for i, m := range all {
			if m.Seq != int64(i+1) {
				t.Fatalf("message %d (id %d) has seq %d, want %d: seqs follow ids, one by one", i, m.ID, m.Seq, i+1)
			}
		}
		events, err := b.EventsAfter(ctx, general.ID, 0, 10000)
		if err != nil || len(events) != len(all) {
			t.Fatalf("events: %d, %v; want %d", len(events), err, len(all))
		}
		for i := 1; i < len(events); i++ {
			if events[i].ID <= events[i-1].ID {
				t.Fatalf("event ids do not rise with seq: %d then %d", events[i-1].ID, events[i].ID)
			}
		}
	})
}

func lastOf(ids []int64) int64 {
	if len(ids) == 0 {
		return 0
	}
	return ids[len(ids)-1]
}

// A message the database refuses (here: a room that does not exist) fails
// alone; the messages committed beside it are stored and reported.
func TestABadMessageFailsAloneInItsBatch(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann")
		general, _ := s.RoomBySlug(ctx, "general")
		var committed []int64
		var mu sync.Mutex
		s.OnCommit(func(events []chat.Event) {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events {
				committed = append(committed, e.Message.ID)
			}
		})
		const n = 40
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			room := general.ID
			if i == n/2 {
				room = 1 << 40
			}
			wg.Go(func() {
				<-start
				_, _, errs[i] = s.CreateMessage(ctx, chat.Message{RoomID: room, AuthorID: ann.ID, Body: fmt.Sprint(i)})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if (err != nil) != (i == n/2) {
				t.Errorf("message %d: err = %v", i, err)
			}
		}
		stored, _ := s.MessagesAfter(ctx, general.ID, 0, 100)
		if len(stored) != n-1 || len(committed) != n-1 {
			t.Fatalf("stored %d, reported committed %d; want %d", len(stored), len(committed), n-1)
		}
		if !slices.IsSorted(committed) {
			t.Errorf("commits reported out of id order: %v", committed)
		}
	})
}

// Search finds the same messages on both engines, marks the same words, and
// treats whatever is typed as words, never as the engine's syntax.
func TestSearchIsTheSameOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		general, _ := s.RoomBySlug(ctx, "general")
		secret, err := s.CreateRoom(ctx, "Secret", "secret", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		dm, _, err := s.DM(ctx, ann, bob)
		if err != nil {
			t.Fatal(err)
		}
		post := func(room int64, author chat.User, kind, body string) int64 {
			t.Helper()
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room, AuthorID: author.ID, Kind: kind, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		accented := post(general.ID, ann, chat.MessageText, "The café opens at nine")
		prefix := post(general.ID, bob, chat.MessageText, "coffee at the cafeteria tomorrow")
		private := post(secret.ID, ann, chat.MessageText, "secret cafe plans")
		deleted := post(general.ID, ann, chat.MessageText, "a cafe to forget")
		if _, err := s.DeleteMessage(ctx, deleted, ann); err != nil {
			t.Fatal(err)
		}
		post(general.ID, ann, chat.MessageNotice, "cafe renamed the room")
		direct := post(dm.ID, bob, chat.MessageText, "dm about the CAFE")
		hostile := post(general.ID, bob, chat.MessageText, `quote "cafe" * NEAR( & | ! :* 'x' \`)
		edited := post(general.ID, bob, chat.MessageText, "old words")
		if _, err := s.EditMessage(ctx, edited, bob, "new cafe words", nil, nil); err != nil {
			t.Fatal(err)
		}
		long := post(general.ID, bob, chat.MessageText, strings.Repeat("lorem ipsum dolor sit amet ", 10)+
			"needle "+strings.Repeat("consectetur adipiscing elit sed do ", 10))

		for _, tc := range []struct {
			who  chat.User
			q    string
			want []int64
		}{
			{bob, "cafe", []int64{edited, hostile, direct, prefix, accented}},
			{ann, "café", []int64{edited, hostile, direct, private, prefix, accented}},
			{bob, "CAFE opens", []int64{accented}},
			{bob, "café opens", []int64{accented}},
			{bob, "opens caf", []int64{accented}},
			{bob, "old", nil},
			{bob, `"cafe`, []int64{edited, hostile, direct, prefix, accented}},
			{bob, `cafe*`, []int64{edited, hostile, direct, prefix, accented}},
			{bob, `NEAR(cafe, nine)`, nil},
			{bob, `nine & !café |`, []int64{accented}},
			{bob, `' \ ! & | :*`, nil},
			{bob, "needle", []int64{long}},
		} {
			hits, err := search(s, tc.who.ID, tc.q)
			if err != nil {
				t.Errorf("%s searches %q: %v", tc.who.Username, tc.q, err)
				continue
			}
			var got []int64
			for _, h := range hits {
				got = append(got, h.Message.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s searches %q: got %v, want %v", tc.who.Username, tc.q, got, tc.want)
			}
		}

		hits, err := search(s, bob.ID, "cafe")
		if err != nil {
			t.Fatal(err)
		}
		snippets := map[int64]string{}
		for _, h := range hits {
			snippets[h.Message.ID] = h.Snippet
			if h.Message.ID == direct && (h.Room.Kind != "dm" || h.Peer.Username != "ann") {
				t.Errorf("the DM hit is in %+v with peer %q, want the DM with ann", h.Room, h.Peer.Username)
			}
		}
		mark := func(w string) string { return chat.SnippetStart + w + chat.SnippetEnd }
		for id, want := range map[int64]string{
			accented: "The " + mark("café") + " opens at nine",
			prefix:   "coffee at the " + mark("cafeteria") + " tomorrow",
			direct:   "dm about the " + mark("CAFE"),
		} {
			if snippets[id] != want {
				t.Errorf("snippet of %d = %q, want %q", id, snippets[id], want)
			}
		}
		hits, _ = search(s, bob.ID, "needle")
		if len(hits) != 1 || !strings.HasPrefix(hits[0].Snippet, "…") || !strings.HasSuffix(hits[0].Snippet, "…") ||
			!strings.Contains(hits[0].Snippet, mark("needle")) || len(strings.Fields(hits[0].Snippet)) > 30 {
			t.Errorf("a long message's snippet = %q, want a marked excerpt cut with … at both ends", snippetsOf(hits))
		}
	})
}

// Mark read and display-name checks use SQL that differs most between
// the engines' habits (scalar max, NOCASE): they behave the same on both.
func TestReadMarkersAndNamesOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann")
		bob := mustUser(t, s, "bob")
		if _, err := s.SetDisplayName(ctx, bob.ID, "Bobby Tables"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			taken bool
		}{{"ANN", true}, {"bobby tables", true}, {"BOB", true}, {"carol", false}, {"b0b", true}, {"bοb", true}, {"anna", false}} {
			if got, err := s.NameLooksTaken(ctx, tc.name, 0); err != nil || got != tc.taken {
				t.Errorf("NameLooksTaken(%q) = %v, %v; want %v", tc.name, got, err, tc.taken)
			}
		}
		// One's own name is not taken from oneself.
		if got, err := s.NameLooksTaken(ctx, "B0B", bob.ID); err != nil || got {
			t.Errorf("bob's own name looks taken from him: %v, %v", got, err)
		}
		general, _ := s.RoomBySlug(ctx, "general")
		if _, err := s.Join(ctx, general.ID, ann.ID); err != nil {
			t.Fatal(err)
		}
		// A marker goes no further than the room's last message: read
		// positions are messages that exist.
		var ids []int64
		for _, body := range []string{"one", "two", "three"} {
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: bob.ID, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		if prev, err := s.MarkRead(ctx, general.ID, ann.ID, ids[1]); err != nil || prev != 0 {
			t.Fatalf("mark read %d: was %d, %v", ids[1], prev, err)
		}
		if prev, err := s.MarkRead(ctx, general.ID, ann.ID, ids[0]); err != nil || prev != ids[1] {
			t.Fatalf("mark read %d: was %d, %v", ids[0], prev, err)
		}
		if prev, _ := s.MarkRead(ctx, general.ID, ann.ID, ids[2]); prev != ids[1] {
			t.Fatalf("the marker moved back: was %d, want %d", prev, ids[1])
		}
		lounge, err := s.CreateRoom(ctx, "Lounge", "lounge", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: lounge.ID, AuthorID: bob.ID, Body: "hi @ann", Mentions: []string{"ANN", "nobody"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ToggleReaction(ctx, m.ID, ann, "👍"); err != nil {
			t.Fatal(err)
		}
		nav, err := s.Nav(ctx, ann.ID)
		if err != nil || len(nav) != 2 || nav[1].Slug != "lounge" {
			t.Fatalf("nav = %+v, %v; want general and lounge", nav, err)
		}
		if nav[1].Unread != 1 || nav[1].Mentions != 1 || !nav[1].Member {
			t.Errorf("nav = %+v, want member with 1 unread, 1 mention", nav[1])
		}
		got, err := s.MessageByID(ctx, m.ID)
		if err != nil || len(got.Reactions) != 1 || got.Reactions[0].Emoji != "👍" || got.Reactions[0].Users[0] != "ann" {
			t.Fatalf("reactions = %+v, %v", got.Reactions, err)
		}
		if _, err := s.DeleteMessage(ctx, m.ID, chat.User{ID: ann.ID}); chat.ErrorCode(err) != chat.EForbidden {
			t.Errorf("ann (no admin) deleting bob's message: %v, want forbidden", err)
		}
		admin := ann
		admin.IsAdmin = true
		if _, err := s.DeleteMessage(ctx, m.ID, admin); err != nil {
			t.Errorf("an admin deleting: %v", err)
		}
		if _, _, err := s.DM(ctx, ann, bob); err != nil {
			t.Fatal(err)
		}
		if peer, err := s.DMPeer(ctx, mustDM(t, s, ann, bob), ann.ID); err != nil || peer.ID != bob.ID {
			t.Errorf("DM peer = %+v, %v", peer, err)
		}
	})
}

func mustDM(t *testing.T, s *db.Store, a, b chat.User) int64 {
	t.Helper()
	r, _, err := s.DM(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func snippetsOf(hits []chat.SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Snippet)
	}
	return out
}

// A PostgreSQL URL that leads nowhere is a clear error that keeps the
// password out.
func TestOpenUnreachablePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://agora:s3cret@/agora?host=" + t.TempDir(),
		"postgres://agora:s3cret@[::1/agora",
	} {
		s, err := db.Open(ctx, dsn)
		if err == nil {
			s.Close()
			t.Fatalf("open %s: no error", dsn)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// API tokens: stored by hash, limited in number, revoked for good, last use
// moving only forward.
func TestTokensOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		tok, err := s.CreateToken(ctx, ann.ID, "ci", chat.HashToken("secret-1"))
		if err != nil {
			t.Fatal(err)
		}
		u, id, used, err := s.TokenUser(ctx, chat.HashToken("secret-1"))
		if err != nil || u.ID != ann.ID || id != tok.ID || !used.IsZero() {
			t.Fatalf("token user = %+v %d %v %v", u, id, used, err)
		}
		later := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		if err := s.TouchToken(ctx, tok.ID, later); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchToken(ctx, tok.ID, later.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, used, _ := s.TokenUser(ctx, chat.HashToken("secret-1")); !used.Equal(later) {
			t.Errorf("last used = %v, want %v (never back)", used, later)
		}
		if err := s.RevokeToken(ctx, bob.ID, tok.ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("bob revoking ann's token: %v, want not found", err)
		}
		if err := s.RevokeToken(ctx, ann.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.TokenUser(ctx, chat.HashToken("secret-1")); chat.ErrorCode(err) != chat.EUnauthorized {
			t.Errorf("a revoked token: %v, want unauthorized", err)
		}
		for i := range chat.MaxTokens {
			if _, err := s.CreateToken(ctx, bob.ID, "t", chat.HashToken(fmt.Sprint("b", i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateToken(ctx, bob.ID, "one too many", chat.HashToken("b-last")); chat.ErrorCode(err) != chat.EInvalid {
			t.Errorf("token over the limit: %v, want invalid", err)
		}
		list, err := s.Tokens(ctx, ann.ID)
		if err != nil || len(list) != 1 || list[0].RevokedAt.IsZero() {
			t.Errorf("ann's tokens = %+v, %v; want one, revoked", list, err)
		}
		if _, err := s.CreateRoom(ctx, "Hidden", "hidden", true, ann.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.DM(ctx, ann, bob); err != nil {
			t.Fatal(err)
		}
		rooms, err := s.VisibleRooms(ctx, bob.ID)
		if err != nil || len(rooms) != 2 || rooms[0].Slug != "general" || rooms[1].Kind != "dm" || rooms[1].Peer.Username != "ann" {
			t.Errorf("bob's visible rooms = %+v, %v; want general and the DM with ann", rooms, err)
		}
	})
}
