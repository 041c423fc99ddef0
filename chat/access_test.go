package chat

import (
	"fmt"
	"strings"
	"testing"
)

// rightsOf spells rights as letters, for tables people can read:
// R read, F files, J join, P post, T topic, A act (react, own edits and deletes),
// I invite, M manage members, D delete anyone's (moderate), L leave.
func rightsOf(letters string) Rights {
	return Rights{
		Read: strings.Contains(letters, "R"), Files: strings.Contains(letters, "F"),
		Join: strings.Contains(letters, "J"), Post: strings.Contains(letters, "P"), Topic: strings.Contains(letters, "T"),
		Act: strings.Contains(letters, "A"), Invite: strings.Contains(letters, "I"),
		Manage: strings.Contains(letters, "M"), Moderate: strings.Contains(letters, "D"),
		Leave: strings.Contains(letters, "L"),
	}
}

func letters(a Rights) string {
	var b strings.Builder
	for _, x := range []struct {
		on bool
		l  string
	}{{a.Read, "R"}, {a.Files, "F"}, {a.Join, "J"}, {a.Post, "P"}, {a.Topic, "T"}, {a.Act, "A"}, {a.Invite, "I"},
		{a.Manage, "M"}, {a.Moderate, "D"}, {a.Leave, "L"}} {
		if x.on {
			b.WriteString(x.l)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// The accounts and conversations of the table. User 7 is the one asking;
// rooms are made by user 1 unless the row says the asker made it.
var (
	people = map[string]User{
		"user":  {ID: 7, Username: "ann"},
		"admin": {ID: 7, Username: "ann", IsAdmin: true},
		"guest": {ID: 7, Username: "guest-x", IsGuest: true},
		"bot":   {ID: 7, Username: "ci", IsBot: true},
	}
	places = map[string]Room{
		"public":  {ID: 1, Slug: "general", Kind: KindRoom, CreatedBy: 1},
		"private": {ID: 2, Slug: "secret", Kind: KindRoom, Private: true, CreatedBy: 1},
		"dm":      {ID: 3, Slug: DMSlug(7, 9), Kind: KindDM, Private: true, CreatedBy: 9},
	}
)

// TestAccessTable holds the policy to every combination of account, kind of
// conversation, membership and creatorship, open; archived and deactivated
// variants of every row follow from it (see the loops below the table).
func TestAccessTable(t *testing.T) {
	type row struct {
		who, where     string
		member, create bool
		want           string
	}
	table := []row{
		// A person with an account.
		{"user", "public", false, false, "RJA"},
		{"user", "public", false, true, "RJA"},
		{"user", "public", true, false, "RFPTAIL"},
		{"user", "public", true, true, "RFPTAIL"}, // a public room has no one who removes members
		{"user", "private", false, false, "-"},
		{"user", "private", false, true, "-"}, // its creator who left it is out like anyone
		{"user", "private", true, false, "RFPTAIL"},
		{"user", "private", true, true, "RFPTAIML"},
		{"user", "dm", false, false, "-"}, // left it: opens it again as a new conversation (MayMessage)
		{"user", "dm", true, false, "RFPAL"},
		// An admin: moderates where they read; never reads where they are not.
		{"admin", "public", false, false, "RJAD"},
		{"admin", "public", false, true, "RJAD"},
		{"admin", "public", true, false, "RFPTAIDL"},
		{"admin", "public", true, true, "RFPTAIDL"},
		{"admin", "private", false, false, "-"},
		{"admin", "private", false, true, "-"},
		{"admin", "private", true, false, "RFPTAIMDL"},
		{"admin", "private", true, true, "RFPTAIMDL"},
		{"admin", "dm", false, false, "-"},
		{"admin", "dm", true, false, "RFPADL"},
		// A guest: public rooms only, and adds nobody.
		{"guest", "public", false, false, "RJA"},
		{"guest", "public", false, true, "RJA"},
		{"guest", "public", true, false, "RFPTAL"},
		{"guest", "public", true, true, "RFPTAL"},
		{"guest", "private", false, false, "-"},
		{"guest", "private", false, true, "-"},
		{"guest", "private", true, false, "-"},
		{"guest", "private", true, true, "-"},
		{"guest", "dm", false, false, "-"},
		{"guest", "dm", true, false, "-"},
		// A bot is an account like a person's.
		{"bot", "public", false, false, "RJA"},
		{"bot", "public", false, true, "RJA"},
		{"bot", "public", true, false, "RFPTAIL"},
		{"bot", "public", true, true, "RFPTAIL"},
		{"bot", "private", false, false, "-"},
		{"bot", "private", false, true, "-"},
		{"bot", "private", true, false, "RFPTAIL"},
		{"bot", "private", true, true, "RFPTAIML"},
		{"bot", "dm", false, false, "-"},
		{"bot", "dm", true, false, "RFPAL"},
	}
	seen := map[string]bool{}
	for _, r := range table {
		u, room := people[r.who], places[r.where]
		if r.create {
			room.CreatedBy = u.ID
		}
		name := fmt.Sprintf("%s in %s member=%v creator=%v", r.who, r.where, r.member, r.create)
		seen[name] = true
		if got := letters(Access(u, room, r.member)); got != r.want {
			t.Errorf("%s: %s, want %s", name, got, r.want)
		}
		// Archived: read-only for everyone, admins included.
		room.Archived = true
		open := rightsOf(r.want)
		if got, want := letters(Access(u, room, r.member)), letters(Rights{Read: open.Read, Files: open.Files}); got != want {
			t.Errorf("%s, archived: %s, want %s", name, got, want)
		}
		// Deactivated: nothing at all, archived or not.
		u.Deactivated = true
		for _, archived := range []bool{false, true} {
			room.Archived = archived
			if got := letters(Access(u, room, r.member)); got != "-" {
				t.Errorf("%s, deactivated, archived=%v: %s, want nothing", name, archived, got)
			}
		}
	}
	// Every combination is in the table.
	for who := range people {
		for where := range places {
			for _, member := range []bool{false, true} {
				for _, create := range []bool{false, true} {
					name := fmt.Sprintf("%s in %s member=%v creator=%v", who, where, member, create)
					if !seen[name] && (where == "private" || where == "public" || !create) {
						t.Errorf("the table has no row for %s", name)
					}
				}
			}
		}
	}
}

func TestMessageRightsFollowTheRoomsRights(t *testing.T) {
	ann, bob := User{ID: 7}, User{ID: 8}
	admin := User{ID: 9, IsAdmin: true}
	mine := Message{ID: 1, AuthorID: 7, Kind: MessageText}
	notice := Message{ID: 2, AuthorID: 7, Kind: MessageNotice}
	gone := mine
	gone.DeletedAt = gone.CreatedAt.AddDate(2000, 0, 0)
	open, archived := places["public"], places["public"]
	archived.Archived = true
	for _, c := range []struct {
		name                string
		u                   User
		room                Room
		m                   Message
		edit, delete, react bool
	}{
		{"author", ann, open, mine, true, true, true},
		{"someone else", bob, open, mine, false, false, true},
		{"admin", admin, open, mine, false, true, true},
		{"a notice", ann, open, notice, false, false, false},
		{"a deleted message", admin, open, gone, false, false, false},
		{"author, archived", ann, archived, mine, false, false, false},
		{"admin, archived", admin, archived, mine, false, false, false},
		{"author, deactivated", User{ID: 7, Deactivated: true}, open, mine, false, false, false},
		{"admin, private room not in", admin, places["private"], mine, false, false, false},
	} {
		a := Access(c.u, c.room, true)
		if c.name == "admin, private room not in" {
			a = Access(c.u, c.room, false)
		}
		if got := a.CanEdit(c.u, c.m); got != c.edit {
			t.Errorf("%s: edit %v, want %v", c.name, got, c.edit)
		}
		if got := a.CanDelete(c.u, c.m); got != c.delete {
			t.Errorf("%s: delete %v, want %v", c.name, got, c.delete)
		}
		if got := a.CanReact(c.m); got != c.react {
			t.Errorf("%s: react %v, want %v", c.name, got, c.react)
		}
	}
}

func TestAccountRights(t *testing.T) {
	user, guest, admin := User{ID: 1}, User{ID: 2, IsGuest: true}, User{ID: 3, IsAdmin: true}
	gone := User{ID: 4, IsAdmin: true, Deactivated: true}
	for _, c := range []struct {
		name string
		got  bool
		want bool
	}{
		{"a user creates rooms", MayCreateRooms(user), true},
		{"a guest creates no rooms", MayCreateRooms(guest), false},
		{"a deactivated account creates no rooms", MayCreateRooms(gone), false},
		{"users message each other", MayMessage(user, admin), true},
		{"a user holds DMs", MayHoldDMs(user), true},
		{"a guest holds none", MayHoldDMs(guest), false},
		{"a guest messages nobody", MayMessage(guest, user), false},
		{"nobody messages a guest", MayMessage(user, guest), false},
		{"a user makes tokens", MayMakeTokens(user), true},
		{"a guest makes no tokens", MayMakeTokens(guest), false},
		{"a user has a password", HasPassword(user), true},
		{"a guest has none", HasPassword(guest), false},
		{"an admin administers", MayAdminister(admin), true},
		{"a user does not", MayAdminister(user), false},
		{"a deactivated admin does not", MayAdminister(gone), false},
		{"a user may become an admin", MayBecomeAdmin(user), true},
		{"a guest may not", MayBecomeAdmin(guest), false},
		{"an admin stays one", MayBecomeAdmin(admin), true},
		{"a deactivated account may not", MayBecomeAdmin(User{ID: 5, Deactivated: true}), false},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		u        User
		guestsOn bool
		code     string
	}{
		{user, false, ""}, {guest, true, ""}, {guest, false, EUnauthorized}, {gone, true, EUnauthorized},
	} {
		if got := ErrorCode(Admit(c.u, c.guestsOn)); got != c.code {
			t.Errorf("Admit(%+v, guests=%v) = %q, want %q", c.u, c.guestsOn, got, c.code)
		}
	}
}
