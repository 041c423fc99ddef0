package live_test

import (
	"slices"
	"testing"

	"agora/chat/live"
)

// Every close the hub is asked for reaches the OnEnded hook, whether or
// not a socket of it is open here: streams that are not sockets end by it.
func TestEveryCloseIsTold(t *testing.T) {
	h := live.NewHub(live.HubConfig{})
	var got []live.Ended
	h.OnEnded(func(e live.Ended) { got = append(got, e) })
	h.CloseSession("token:7", live.ClosePolicy, "token revoked")
	h.CloseUser(3, live.ClosePolicy, "account deactivated")
	h.CloseUserInRoom(5, 3, live.ClosePolicy, "removed from this room")
	h.CloseRoom(5, live.ClosePolicy, "this room was deleted")
	want := []live.Ended{{Session: "token:7"}, {UserID: 3}, {UserID: 3, RoomID: 5}, {RoomID: 5}}
	if !slices.Equal(got, want) {
		t.Errorf("told %+v, want %+v", got, want)
	}
}
