package views

import (
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"agora/chat"
)

// roomPage is the page data of a room: it has a message box, for the skip
// link, unless the room is archived.
func roomPage(p Page, v RoomView) Page {
	p.Composer = !v.Room.Archived
	return p
}

// live reports whether the page opens the room's socket: the latest
// messages of a room people can still write in.
func (v RoomView) live() bool { return !v.Newer && !v.Room.Archived }

// maxBody is the composer's maxlength. The browser counts UTF-16 units where
// the server counts characters, so a text of astral characters is cut a
// little early, never late.
var maxBody = strconv.Itoa(chat.MaxBodyChars)

// avatarColors is how many avatar colours app.css defines (.avatar[data-color]).
const avatarColors = 12

// avatarColor picks a user's colour from their username, so it is the same
// on every page and in every fragment, for every reader.
// avatarURL is where a user's picture of a version is served.
func avatarURL(username string, version int64) string {
	return "/avatars/" + url.PathEscape(strings.ToLower(username)) + "?v=" + strconv.FormatInt(version, 10)
}

func avatarColor(username string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(username)))
	return strconv.Itoa(int(h.Sum32() % avatarColors))
}

// initials are the first letters of the first two words of a name.
func initials(name string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
		if n++; n == 2 {
			break
		}
	}
	if n == 0 {
		return "?"
	}
	return b.String()
}

// isOnline reports whether a member has the room open now.
func (v RoomView) isOnline(id int64) bool {
	for _, u := range v.Online {
		if u.ID == id {
			return true
		}
	}
	return false
}
