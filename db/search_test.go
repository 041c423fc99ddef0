package db_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// search runs text as the search page would, in UTC.
func search(s *db.Store, userID int64, text string) ([]chat.SearchHit, error) {
	q, err := chat.ParseSearch(text, time.UTC)
	if err != nil {
		return nil, err
	}
	return s.Search(context.Background(), userID, q, 50)
}

// The search filters find the same messages on both engines, only among
// those the reader may read, and whatever is typed reaches neither engine
// as syntax.
func TestSearchFiltersOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob, carol := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "carol")
		general, _ := s.RoomBySlug(ctx, "general")
		random, err := s.CreateRoom(ctx, "Random", "random", false, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := s.CreateRoom(ctx, "Secret", "secret", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		dm, _, err := s.DM(ctx, ann, bob)
		if err != nil {
			t.Fatal(err)
		}
		post := func(room int64, author chat.User, body string, file *chat.File) chat.Message {
			t.Helper()
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room, AuthorID: author.ID, Kind: chat.MessageText, Body: body, File: file})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		upload := func(room int64, owner chat.User, name, contentType string) *chat.File {
			t.Helper()
			f, err := s.CreateFile(ctx, chat.File{RoomID: room, OwnerID: owner.ID, Name: name, ContentType: contentType}, bytes.NewReader([]byte("data")))
			if err != nil {
				t.Fatal(err)
			}
			return &f
		}
		plan := post(general.ID, ann, "the release plan is ready", nil)
		day := plan.CreatedAt.UTC().Format(time.DateOnly)
		reversed := post(general.ID, bob, "ready is the plan for release", nil)
		link := post(random.ID, bob, "release notes at https://example.com/notes", nil)
		image := post(general.ID, carol, "release screenshot", upload(general.ID, carol, "shot.png", "image/png"))
		file := post(random.ID, ann, "", upload(random.ID, ann, "release-plan.pdf", "application/pdf"))
		private := post(secret.ID, ann, "secret release plan", nil)
		direct := post(dm.ID, bob, "the release plan, between us", nil)
		if _, err := s.ToggleSaved(ctx, ann.ID, reversed.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ToggleSaved(ctx, bob.ID, plan.ID); err != nil {
			t.Fatal(err)
		}
		before, after := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly), "2000-01-01"

		for _, tc := range []struct {
			who  chat.User
			q    string
			want []chat.Message
		}{
			{ann, "release", []chat.Message{direct, private, file, image, link, reversed, plan}},
			{carol, "release", []chat.Message{file, image, link, reversed, plan}},
			{ann, `"release plan"`, []chat.Message{direct, private, file, plan}},
			{ann, `"plan release"`, nil},
			{ann, `release -secret -us`, []chat.Message{file, image, link, reversed, plan}},
			{ann, `release -"plan is"`, []chat.Message{direct, private, file, image, link, reversed}},
			{ann, `-plan`, []chat.Message{image, link}},
			{ann, "from:bob", []chat.Message{direct, link, reversed}},
			{ann, "release from:@BOB from:carol", []chat.Message{direct, image, link, reversed}},
			{ann, "in:#random", []chat.Message{file, link}},
			{ann, "in:general release", []chat.Message{image, reversed, plan}},
			{ann, "in:@bob", []chat.Message{direct}},
			{bob, "in:@ann", []chat.Message{direct}},
			{carol, "in:@bob", nil},
			{carol, "in:secret", nil},
			{ann, "in:#random in:@bob", []chat.Message{direct, file, link}},
			{ann, "has:file", []chat.Message{file, image}},
			{ann, "has:image", []chat.Message{image}},
			{ann, "has:link release", []chat.Message{link}},
			{ann, "is:saved", []chat.Message{reversed}},
			{bob, "is:saved release", []chat.Message{plan}},
			{carol, "is:saved", nil},
			{ann, "is:pinned", nil},
			{ann, "on:" + day + " in:random", []chat.Message{file, link}},
			{ann, "before:" + day, nil},
			{ann, "after:" + after + " before:" + before + " in:random", []chat.Message{file, link}},
			{ann, "after:" + day + " release", nil},
			{ann, `plan -"" "" - release`, []chat.Message{direct, private, file, reversed, plan}},
			{ann, `"release" (ready) is:saved plan:ready`, []chat.Message{reversed}}, // plan: is no filter: words
		} {
			hits, err := search(s, tc.who.ID, tc.q)
			if err != nil {
				t.Errorf("%s searches %q: %v", tc.who.Username, tc.q, err)
				continue
			}
			var got, want []int64
			for _, h := range hits {
				got = append(got, h.Message.ID)
			}
			for _, m := range tc.want {
				want = append(want, m.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s searches %q: got %v, want %v", tc.who.Username, tc.q, got, want)
			}
		}

		// Whatever the engines' syntaxes mean is searched as words, never
		// an error: FTS5's NEAR, columns, stars, carets and parentheses,
		// tsquery's operators.
		for _, q := range []string{`NEAR(release plan, 2)`, `body : release`, `^release`, `{body}: plan`, `(release OR plan)`,
			`release*`, `plan:*`, `'release' & !plan | <-> ready`, `"release" AND "plan" NOT "us"`, `" "" """`, `\x00'`} {
			if _, err := search(s, ann.ID, q); err != nil {
				t.Errorf("%q: %v", q, err)
			}
		}
		// A message whose file alone matches shows the file's name.
		hits, _ := search(s, ann.ID, "has:file in:random")
		if len(hits) != 1 || hits[0].Snippet != "release-plan.pdf" {
			t.Errorf("has:file in:random: %+v, want the file's message shown by its file's name", snippetsOf(hits))
		}
	})
}

// People matches the quick switcher's subsequence patterns, escaped, on
// both engines; deactivated accounts and guests are not offered.
func TestPeopleOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		mustUser(t, s, "devon")
		mustUser(t, s, "dana_x")
		if _, err := s.SetDisplayName(ctx, mustUser(t, s, "bob").ID, "Dee Bee"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, "guest-dee", "Dee", "", true); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string][]string{
			"dv": {"devon"}, "D": {"bob", "dana_x", "devon"}, "_": {"dana_x"}, "%": nil, `\`: nil, "dee": {"bob"},
		} {
			people, err := s.People(ctx, chat.SubsequencePattern(q), 10)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			var got []string
			for _, p := range people {
				got = append(got, p.Username)
			}
			if !slices.Equal(got, want) {
				t.Errorf("People(%q) = %v, want %v", q, got, want)
			}
		}
	})
}

// is:thread finds the replies of threads and their roots, not the rest, on
// both engines.
func TestSearchIsThreadOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		general, _ := s.RoomBySlug(ctx, "general")
		post := func(author chat.User, body string, root int64) chat.Message {
			t.Helper()
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: author.ID, Kind: chat.MessageText, Body: body, ThreadID: root})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		root := post(ann, "the budget question", 0)
		post(bob, "the budget alone", 0)
		reply := post(bob, "budget answer in the thread", root.ID)
		for q, want := range map[string][]int64{
			"is:thread":                {reply.ID, root.ID},
			"is:thread budget":         {reply.ID, root.ID},
			"is:thread from:bob":       {reply.ID},
			"is:thread -answer":        {root.ID},
			"is:thread is:saved":       nil,
			`is:thread "budget alone"`: nil,
		} {
			hits, err := search(s, ann.ID, q)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			var got []int64
			for _, h := range hits {
				got = append(got, h.Message.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q: got %v, want %v", q, got, want)
			}
		}
	})
}
