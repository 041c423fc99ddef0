package cluster

import (
	"reflect"
	"testing"

	"agora/chat/live"
)

func TestEventsCrossTheWireUnchanged(t *testing.T) {
	for _, ev := range []live.Event{
		{RoomID: 1, Seq: 1, MsgID: 7, Data: []byte("<div>hi</div>"), Sidebar: []byte("<i></i>"), Mentioned: []string{"ann", "bob"}, Mention: []byte("<i m></i>")},
		{RoomID: 1 << 40, Seq: 99, Data: []byte("edit")},
		{RoomID: 3, Seq: 2, Data: []byte{}},
	} {
		got, err := decodeEvent(encodeEvent(ev))
		if err != nil || !reflect.DeepEqual(got, ev) {
			t.Errorf("round trip of %+v = %+v, %v", ev, got, err)
		}
	}
	wire := encodeEvent(live.Event{RoomID: 1, Seq: 1, Data: []byte("<div>hi</div>"), Mentioned: []string{"ann"}})
	for i := range wire {
		if _, err := decodeEvent(wire[:i]); err == nil {
			t.Errorf("a message cut at %d of %d bytes decoded without error", i, len(wire))
		}
	}
	if _, err := decodeEvent(append(wire, 0)); err == nil {
		t.Error("trailing bytes decoded without error")
	}
}
