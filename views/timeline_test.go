package views

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"agora/chat"
)

// TestTimelineGroupsAndDays: the page comes with the day lines and groups
// app.js would draw, in the reader's zone, so nothing moves when it starts.
func TestTimelineGroupsAndDays(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	// 22:50 UTC on 4 March is 23:50 in Paris: the messages after midnight
	// there are on another day than in UTC.
	base := time.Date(2026, 3, 4, 22, 50, 0, 0, time.UTC)
	msg := func(id int64, author string, minutes int, kind string) chat.Message {
		if kind == "" {
			kind = chat.MessageText
		}
		return chat.Message{ID: id, Author: author, AuthorID: id, Kind: kind, Body: "m", CreatedAt: base.Add(time.Duration(minutes) * time.Minute)}
	}
	msgs := []chat.Message{
		msg(1, "ann", 0, ""),
		msg(2, "Ann", 2, ""),                  // same author, two minutes on: grouped
		msg(3, "ann", 9, ""),                  // seven minutes on: a new group
		msg(4, "bob", 11, ""),                 // 00:01 in Paris: a new day
		msg(5, "bob", 12, chat.MessageNotice), // a notice breaks runs
		msg(6, "bob", 13, ""),
		msg(7, "bob", 14, ""), // the first unread: the line breaks the run
	}
	v := RoomView{Messages: msgs, LastRead: 6, Me: 99, Now: base.Add(time.Hour)}

	got := func(v RoomView) string {
		var parts []string
		for _, e := range v.timeline() {
			s := fmt.Sprint(e.Msg.ID)
			if e.Day != "" {
				s = "[" + e.Day + "] " + s
			}
			if e.Unread {
				s = "[new] " + s
			}
			if e.Grouped {
				s += "g"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	if s, want := got(v), "[Today] 1 2g 3 4 5 6 [new] 7"; s != want {
		t.Errorf("in UTC: %s, want %s", s, want)
	}
	v.Clock = Clock{Zone: paris}
	if s, want := got(v), "[Yesterday] 1 2g 3 [Today] 4 5 6 [new] 7"; s != want {
		t.Errorf("in Paris: %s, want %s", s, want)
	}
	v.Now = base.AddDate(0, 0, 5)
	if s, want := got(v), "[Wednesday, 4 March] 1 2g 3 [Thursday, 5 March] 4 5 6 [new] 7"; s != want {
		t.Errorf("days later: %s, want %s", s, want)
	}
	v.Now = base.AddDate(1, 0, 0)
	if s := got(v); !strings.HasPrefix(s, "[Wednesday, 4 March 2026] 1") {
		t.Errorf("a year later: %s", s)
	}

	// As rendered: the line above the first message of the day, the class on
	// the grouped one, and the live fragment of the same message without it.
	var page bytes.Buffer
	if err := RoomPage(Page{Title: "x", User: &chat.User{ID: 99, Username: "me"}}, v).Render(context.Background(), &page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if !regexp.MustCompile(`<div class="day-divider" role="separator">Wednesday, 4 March 2026</div>\s*<article class="message" id="message-1"`).MatchString(html) {
		t.Error("no day line right above the first message")
	}
	if !strings.Contains(html, `<article class="message grouped" id="message-2"`) {
		t.Error("message 2 is not grouped in the page")
	}
	if !strings.Contains(html, `title="Wed 4 Mar 2026, 22:50 UTC">22:50 UTC</time>`) {
		t.Error("with the reader's clock not known, times are not in UTC for app.js")
	}
	for _, c := range []struct {
		clock Clock
		want  string
	}{
		{Clock{Zone: paris, Known: true}, `title="Wed 4 Mar 2026, 23:50 CET" data-local="1" data-off="60">23:50</time>`},
		{Clock{Zone: paris, H12: true, Known: true}, `title="Wed 4 Mar 2026, 11:50 PM CET" data-local="1" data-off="60">11:50 PM</time>`},
	} {
		v.Clock = c.clock
		page.Reset()
		if err := RoomPage(Page{Title: "x", User: &chat.User{ID: 99, Username: "me"}}, v).Render(context.Background(), &page); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page.String(), c.want) {
			t.Errorf("with the clock %+v the first time is not %s", c.clock, c.want)
		}
	}
	var frag bytes.Buffer
	if err := Message(msgs[1]).Render(context.Background(), &frag); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(frag.String(), "grouped") {
		t.Error("the live fragment carries a per-page grouping")
	}
	if strings.Contains(frag.String(), "data-local") {
		t.Error("the live fragment carries a reader's time")
	}
}
