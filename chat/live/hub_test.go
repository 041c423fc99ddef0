package live_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/chat"
	"agora/chat/live"
)

// recvFrames waits (bounded) until the subscriber has frames and drains them.
func recvFrames(t *testing.T, s *live.Subscriber) string {
	t.Helper()
	select {
	case <-s.Wake():
		msg, _ := s.Drain(nil)
		return string(msg)
	case <-time.After(5 * time.Second):
		t.Fatal("no frame arrived")
		return ""
	}
}

func names(users []chat.User) string {
	var out []string
	for _, u := range users {
		out = append(out, u.Username)
	}
	return strings.Join(out, ",")
}

func newHub(queue int) *live.Hub {
	return live.NewHub(live.HubConfig{
		QueueLen:  queue,
		TypingTTL: 50 * time.Millisecond,
		Presence: func(_ int64, online []chat.User, code string) []byte {
			return []byte(in(code) + "[online:" + names(online) + "]")
		},
		PresenceChange: func(_ int64, u chat.User, online bool, code string) []byte {
			if online {
				return []byte(in(code) + "[+" + u.Username + "]")
			}
			return []byte(in(code) + "[-" + u.Username + "]")
		},
		Typing: func(_ int64, typing []chat.User, code string) []byte {
			return []byte(in(code) + "[typing:" + names(typing) + "]")
		},
	})
}

// in marks a test fragment written in another language than English.
func in(code string) string {
	if code == "en" {
		return ""
	}
	return code + ":"
}

var (
	ann = chat.User{ID: 1, Username: "ann"}
	bob = chat.User{ID: 2, Username: "bob"}
)

func TestPublishReachesEveryoneInOrderAndNoOtherRoom(t *testing.T) {
	h := newHub(64)
	a, _ := h.Subscribe(1, ann, "s1")
	b, _ := h.Subscribe(1, bob, "s2")
	other, _ := h.Subscribe(2, bob, "s2")
	recvFrames(t, a)
	recvFrames(t, b)
	recvFrames(t, other)
	for i := range 5 {
		h.Publish(1, live.Frame{MsgID: int64(i + 1), Data: []byte(fmt.Sprintf("<m%d>", i+1))})
	}
	for _, s := range []*live.Subscriber{a, b} {
		if got := recvFrames(t, s); got != "<m1><m2><m3><m4><m5>" {
			t.Errorf("got %q", got)
		}
	}
	select {
	case <-other.Wake():
		msg, _ := other.Drain(nil)
		t.Errorf("room 2 received %q", msg)
	default:
	}
}

func TestSlowSubscriberIsClosedAndOthersFlow(t *testing.T) {
	h := newHub(4)
	slow, _ := h.Subscribe(1, ann, "s1")
	fast, _ := h.Subscribe(1, bob, "s2")
	for i := range 10 {
		h.Publish(1, live.Frame{MsgID: int64(i + 1), Data: []byte("x")})
		fast.Drain(nil)
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("a subscriber that never drained is still open")
	}
	if code, _ := slow.CloseStatus(); code != live.CloseTryAgainLater {
		t.Errorf("close code %d, want %d", code, live.CloseTryAgainLater)
	}
	select {
	case <-fast.Done():
		t.Fatal("the subscriber that kept up was closed")
	default:
	}
	h.Unsubscribe(slow)
	h.Publish(1, live.Frame{Data: []byte("after")})
	if got := recvFrames(t, fast); !strings.Contains(got, "after") {
		t.Errorf("fast got %q after the slow one left", got)
	}
}

func TestFloorSkipsWhatTheBacklogSent(t *testing.T) {
	h := newHub(64)
	s, _ := h.Subscribe(1, ann, "s1")
	recvFrames(t, s)
	for id := int64(1); id <= 4; id++ {
		h.Publish(1, live.Frame{MsgID: id, Data: []byte(fmt.Sprint(id))})
	}
	h.Publish(1, live.Frame{Data: []byte("p")}) // not a message: always delivered
	s.SetFloor(0, 2)
	if got := recvFrames(t, s); got != "34p" {
		t.Errorf("got %q, want 34p", got)
	}
}

func TestPresenceCountsUsersNotTabs(t *testing.T) {
	h := newHub(64)
	a1, _ := h.Subscribe(1, ann, "s1")
	if got := recvFrames(t, a1); got != "[online:ann]" {
		t.Fatalf("first tab: %q", got)
	}
	a2, _ := h.Subscribe(1, ann, "s1b")
	if got := recvFrames(t, a2); got != "[online:ann]" {
		t.Fatalf("second tab gets the list: %q", got)
	}
	b, _ := h.Subscribe(1, bob, "s2")
	if got := recvFrames(t, a1); got != "[+bob]" {
		t.Fatalf("a second tab of ann must not announce her again; bob's join is one small frame: %q", got)
	}
	if got := recvFrames(t, b); got != "[online:ann,bob]" {
		t.Fatalf("bob's first frame: %q", got)
	}
	recvFrames(t, a2)
	h.Unsubscribe(a2)
	h.Publish(1, live.Frame{Data: []byte("tick")})
	if got := recvFrames(t, b); got != "tick" {
		t.Fatalf("closing one of two tabs changed presence: %q", got)
	}
	h.Unsubscribe(a1)
	if got := recvFrames(t, b); got != "[-ann]" {
		t.Fatalf("after ann's last tab: %q", got)
	}
	if on := h.Online(1); len(on) != 1 || on[0].ID != bob.ID {
		t.Errorf("Online = %v", on)
	}
}

func TestTypingExpiresAndStops(t *testing.T) {
	h := newHub(64)
	a, _ := h.Subscribe(1, ann, "s1")
	b, _ := h.Subscribe(1, bob, "s2")
	recvFrames(t, a)
	recvFrames(t, b)
	h.Typing(1, bob)
	if got := recvFrames(t, a); got != "[typing:bob]" {
		t.Fatalf("got %q", got)
	}
	if got := recvFrames(t, b); got != "[typing:]" {
		t.Fatalf("bob is told he is typing: %q", got)
	}
	// With no more keystrokes, the mark goes by itself after the TTL.
	if got := recvFrames(t, a); got != "[typing:]" {
		t.Fatalf("got %q, want the mark cleared", got)
	}
	h.Typing(1, bob)
	recvFrames(t, a)
	h.StopTyping(1, bob.ID)
	if got := recvFrames(t, a); got != "[typing:]" {
		t.Fatalf("got %q after a send", got)
	}
}

// Each socket gets a room's fragments in its page's language, and each
// language is rendered once per event however many sockets read it: a
// room that reads only English never renders another.
func TestFragmentsInEachReadersLanguage(t *testing.T) {
	h := newHub(64)
	carl := chat.User{ID: 3, Username: "carl", Language: "de"}
	dora := chat.User{ID: 4, Username: "dora", Language: "de"}
	emil := chat.User{ID: 5, Username: "emil", Language: "fr"}
	a, _ := h.Subscribe(1, ann, "s1") // no language: English
	c, _ := h.Subscribe(1, carl, "s3")
	d, _ := h.Subscribe(1, dora, "s4")
	e, _ := h.Subscribe(1, emil, "s5")
	// Who is here, and who came since, all waiting in one message each.
	for s, want := range map[*live.Subscriber]string{
		a: "[online:ann][+carl][+dora][+emil]", c: "de:[online:ann,carl]de:[+dora]de:[+emil]",
		d: "de:[online:ann,carl,dora]de:[+emil]", e: "fr:[online:ann,carl,dora,emil]",
	} {
		if got := recvFrames(t, s); got != want {
			t.Errorf("%s got %q, want %q", s.User.Username, got, want)
		}
	}

	var renders []string
	in := func(code string) []byte {
		renders = append(renders, code)
		return []byte("<p>" + code + "</p>")
	}
	h.Deliver(live.Event{RoomID: 1, Seq: 1, Data: []byte("<p>en</p>"), In: in})
	for s, want := range map[*live.Subscriber]string{a: "<p>en</p>", c: "<p>de</p>", d: "<p>de</p>", e: "<p>fr</p>"} {
		if got := recvFrames(t, s); got != want {
			t.Errorf("%s got %q, want %q", s.User.Username, got, want)
		}
	}
	if len(renders) != 2 {
		t.Errorf("rendered %v for two other languages, want each once", renders)
	}

	// A room of English readers only: no other language is ever made.
	renders = nil
	b, _ := h.Subscribe(2, bob, "s2")
	recvFrames(t, b)
	h.Deliver(live.Event{RoomID: 2, Seq: 1, Data: []byte("<p>en</p>"), In: in})
	if got := recvFrames(t, b); got != "<p>en</p>" || len(renders) != 0 {
		t.Errorf("bob got %q; rendered %v", got, renders)
	}

	// Typing: each reader in their language, the typist too.
	h.Typing(1, carl)
	if got := recvFrames(t, a); got != "[typing:carl]" {
		t.Errorf("ann got %q", got)
	}
	if got := recvFrames(t, d); got != "de:[typing:carl]" {
		t.Errorf("dora got %q", got)
	}
	if got := recvFrames(t, c); got != "de:[typing:]" {
		t.Errorf("carl got %q", got)
	}
	if got := recvFrames(t, e); got != "fr:[typing:carl]" {
		t.Errorf("emil got %q", got)
	}
}

func TestCloseIsIdempotentAndRefusesNewSubscribers(t *testing.T) {
	h := newHub(64)
	a, _ := h.Subscribe(1, ann, "s1")
	h.Close(live.CloseServiceRestart, "restart")
	h.Close(live.CloseServiceRestart, "restart")
	<-a.Done()
	if code, _ := a.CloseStatus(); code != live.CloseServiceRestart {
		t.Errorf("code %d", code)
	}
	if _, err := h.Subscribe(1, bob, "s2"); err != live.ErrHubClosed {
		t.Errorf("subscribe after close: %v", err)
	}
	h.Unsubscribe(a)
	h.Unsubscribe(a)
}

func TestCloseSessionClosesOnlyThatSession(t *testing.T) {
	h := newHub(64)
	a, _ := h.Subscribe(1, ann, "s1")
	a2, _ := h.Subscribe(2, ann, "s1")
	other, _ := h.Subscribe(1, ann, "s9")
	h.CloseSession("s1", live.ClosePolicy, "signed out")
	for _, s := range []*live.Subscriber{a, a2} {
		select {
		case <-s.Done():
		default:
			t.Error("a socket of the ended session is open")
		}
	}
	select {
	case <-other.Done():
		t.Error("another session's socket was closed")
	default:
	}
}

func TestConcurrentUseIsRaceFree(t *testing.T) {
	h := newHub(1024)
	var wg sync.WaitGroup
	for u := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := chat.User{ID: int64(u + 1), Username: fmt.Sprint("u", u)}
			for i := range 50 {
				s, err := h.Subscribe(int64(i%3), user, "s")
				if err != nil {
					return
				}
				h.Publish(int64(i%3), live.Frame{MsgID: int64(i), Data: []byte("x")})
				h.Typing(int64(i%3), user)
				s.Drain(nil)
				h.Unsubscribe(s)
			}
		}()
	}
	wg.Wait()
	h.Close(live.CloseServiceRestart, "")
}

func TestFlushDeliversPublishedFramesInOrder(t *testing.T) {
	h := live.NewHub(live.HubConfig{QueueLen: 64, FlushEvery: 5 * time.Millisecond})
	defer h.Close(live.CloseServiceRestart, "")
	s, _ := h.Subscribe(1, ann, "s1")
	for i := range 10 {
		h.Publish(1, live.Frame{MsgID: int64(i + 1), Data: []byte{'a' + byte(i)}})
	}
	// The writer wakes once and finds the whole burst waiting.
	if got := recvFrames(t, s); got != "abcdefghij" {
		t.Fatalf("one drain got %q, want the whole burst", got)
	}
}

// onlineChanges records what the hub's OnOnlineChange hook is told, as
// "username online"; expect waits for the next one and checks it.
func onlineChanges(t *testing.T, h *live.Hub) (changes chan string, expect func(want string)) {
	changes = make(chan string, 8)
	h.OnOnlineChange(func(u chat.User, online bool) { changes <- fmt.Sprint(u.Username, " ", online) })
	return changes, func(want string) {
		t.Helper()
		select {
		case got := <-changes:
			if got != want {
				t.Fatalf("told %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("not told %q", want)
		}
	}
}

func TestOnlineChangeIsToldOncePerUser(t *testing.T) {
	h := newHub(64)
	changes, expect := onlineChanges(t, h)
	a1, _ := h.Subscribe(1, ann, "s1")
	expect("ann true")
	a2, _ := h.Subscribe(2, ann, "s1") // another room: still the same person online
	h.Unsubscribe(a1)
	h.Unsubscribe(a2)
	expect("ann false")
	select {
	case got := <-changes:
		t.Fatalf("told %q for a second socket", got)
	default:
	}
}

// In a cluster, "online" is anywhere: a user online only on other nodes is
// told as online here (DM partners' dots follow it), and sockets opened and
// closed here meanwhile change nothing.
func TestOnlineChangeCountsOtherNodes(t *testing.T) {
	h := newHub(64)
	changes, expect := onlineChanges(t, h)
	h.SetRemoteOnline(1, ann, true)
	expect("ann true")
	h.SetRemoteOnline(2, ann, true)
	a, _ := h.Subscribe(1, ann, "s1")
	h.Unsubscribe(a)
	h.SetRemoteOnline(1, ann, false)
	h.SetRemoteOnline(2, ann, false)
	expect("ann false")
	a, _ = h.Subscribe(1, ann, "s1")
	expect("ann true")
	h.SetRemoteOnline(1, ann, true)
	h.Unsubscribe(a)
	h.SetRemoteOnline(1, ann, false)
	expect("ann false")
	select {
	case got := <-changes:
		t.Fatalf("told %q while the user was online on another node", got)
	default:
	}
}

func TestSeqFloorSkipsEventsTheBacklogSent(t *testing.T) {
	h := newHub(64)
	s, _ := h.Subscribe(1, ann, "s1")
	recvFrames(t, s)
	for seq := int64(1); seq <= 4; seq++ {
		h.Deliver(live.Event{RoomID: 1, Seq: seq, Data: []byte(fmt.Sprint(seq))})
	}
	s.SetFloor(3, 0)
	if got := recvFrames(t, s); got != "4" {
		t.Errorf("got %q, want 4", got)
	}
}
