package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSidebarFragments(t *testing.T) {
	cases := []struct {
		name           string
		frame          string
		keys           []string
		all, elsewhere int
	}{
		{"a message", `<div hx-swap-oob="beforeend:#messages"><article id="message-7" data-id="7">lg 1 2 x</article></div>`, []string{"general", "1"}, 0, 0},
		{"presence", `<ul hx-swap-oob="beforeend:#presence"><li id="presence-bob">bob</li></ul><li id="presence-al" hx-swap-oob="delete"></li>`, []string{"general", "1"}, 0, 0},
		{"a whole sidebar", `<div id="nav-lists" class="nav-lists" hx-swap-oob="outerHTML"><ul id="room-list"><li><span class="badge unread-badge" id="unread-team-01">3</span></li></ul></div>`, []string{"general", "1"}, 1, 1},
		{"a mark for another room", `<span hx-swap-oob="beforeend:#marks-team-02"><i></i></span>`, []string{"general", "1"}, 1, 1},
		{"a count for the socket's room", `<span id="unread-general" hx-swap-oob="outerHTML">4</span>`, []string{"general", "1"}, 1, 0},
		{"a room's mark, by id, elsewhere", `<div hx-swap-oob="beforeend:#marks-12"><i data-author="load0001"></i></div>`, []string{"team-01", "2"}, 1, 1},
		{"a room's mark, by id, here", `<div hx-swap-oob="beforeend:#marks-2"><i data-author="load0001"></i></div>`, []string{"team-01", "2"}, 1, 0},
		{"a message and two marks in one frame", `<div hx-swap-oob="beforeend:#messages">x</div><i hx-swap-oob="beforeend:#unread-team-03"></i><i data-oob-id="x" hx-swap-oob="beforeend:[data-room='team-04'] .marks"></i>`, []string{"team-04", "5"}, 2, 1},
	}
	for _, c := range cases {
		all, elsewhere := sidebarFragments([]byte(c.frame), c.keys)
		if all != c.all || elsewhere != c.elsewhere {
			t.Errorf("%s: %d sidebar fragments, %d elsewhere; want %d, %d", c.name, all, elsewhere, c.all, c.elsewhere)
		}
	}
}

func TestSidebarRooms(t *testing.T) {
	page := `<ul class="room-list" id="room-list">
		<li><a href="/rooms/general" data-room="general" aria-current="page"><span class="room-mark">#</span><span class="nav-name">general</span></a></li>
		<li><a href="/rooms/team-01" data-room="team-01" class="unread"><span class="nav-name">team-01</span><span class="badge unread-badge" data-base="2" id="unread-team-01">2</span><span class="marks" id="marks-2" hidden></span></a></li>
		<li><a href="/rooms/team-02" data-room="team-02"><span class="nav-name">team-02</span><span class="marks" id="marks-3" hidden></span></a></li>
	</ul>`
	got := sidebarRooms([]byte(page))
	if len(got) != 2 || got["team-01"] != "2" || got["team-02"] != "3" {
		t.Errorf("rooms %v, want team-01 → 2 and team-02 → 3 (and not the current room, which has no marks)", got)
	}
}

// The client and the baseline hub together: a composer frame sent in one
// room reaches that room's sockets and no other room's.
func TestBaselineRoomsOverTheClient(t *testing.T) {
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveBaseline(ctx, addr, io.Discard) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the baseline does not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	dial := func(slug string) *wsConn {
		c, err := dialWS(ctx, addr, "/rooms/"+slug+"/ws", http.Header{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.close)
		return c
	}
	a, b, other := dial("one"), dial("one"), dial("two")
	if err := a.write(0x1, composerFrame(body(0, time.Now().UnixNano()), "c1", "http://"+addr+"/rooms/one")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsConn{a, b} {
		c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		data, err := c.next(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(`id="message-1"`)) || !strings.Contains(string(data), "lg 0 ") {
			t.Fatalf("got %q, want message 1 with its token", data)
		}
	}
	// A second message in the other room: it is the first thing that socket
	// reads, so the first never reached it.
	if err := other.write(0x1, composerFrame("hello", "c2", "http://"+addr+"/rooms/two")); err != nil {
		t.Fatal(err)
	}
	other.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	data, err := other.next(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`id="message-2"`)) {
		t.Fatalf("the other room's socket got %q, want message 2 only", data)
	}
}
