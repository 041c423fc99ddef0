package live_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"agora/chat"
	"agora/chat/live"
)

// BenchmarkPublish1000 publishes one ~600-byte frame (a rendered message's
// size) to 1,000 subscribers of a room, each drained by its own goroutine as
// a socket's writer would. Frames go out in batches of up to 256 (half the
// default queue, so nobody is evicted) and each batch is waited for until
// every subscriber has drained it. ns/delivery is the time per frame per
// receiver, publish and drain included; ns/op is per Publish (1,000 deliveries).
func BenchmarkPublish1000(b *testing.B) {
	benchFanout(b, func(h *live.Hub, frame []byte) { h.Publish(1, live.Frame{Data: frame}) })
}

// BenchmarkDeliver1000 is BenchmarkPublish1000 for a room event, the way
// the relay hands each message to the hub, every reader reading English.
func BenchmarkDeliver1000(b *testing.B) {
	seq := int64(0)
	benchFanout(b, func(h *live.Hub, frame []byte) {
		seq++
		h.Deliver(live.Event{RoomID: 1, Seq: seq, MsgID: seq, Data: frame})
	})
}

func benchFanout(b *testing.B, send func(h *live.Hub, frame []byte)) {
	const subscribers = 1000
	const batch = 256
	h := live.NewHub(live.HubConfig{})
	frame := []byte(`<div hx-swap-oob="beforeend:#messages">` + strings.Repeat("x", 560) + `</div>`)

	var target atomic.Int64 // frames every subscriber must have drained when the batch is done
	var batchDone sync.WaitGroup
	var exited sync.WaitGroup
	var evicted atomic.Int64
	for i := range subscribers {
		s, err := h.Subscribe(1, chat.User{ID: int64(i + 1), Username: "u"}, "s")
		if err != nil {
			b.Fatal(err)
		}
		exited.Add(1)
		go func() {
			defer exited.Done()
			buf := make([]byte, 0, batch*len(frame)) // sized up front: the drainer's growth is not the hub's cost
			var got int64
			for {
				select {
				case <-s.Wake():
					var msg []byte
					msg, buf = s.Drain(buf[:0]) // msg: one WebSocket message's bytes
					if len(msg) == 0 {
						continue
					}
					got += int64(len(msg) / len(frame))
					if got == target.Load() {
						batchDone.Done()
					}
				case <-s.Done():
					if code, _ := s.CloseStatus(); code == live.CloseTryAgainLater {
						evicted.Add(1)
					}
					return
				}
			}
		}()
	}

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n := min(batch, b.N-sent)
		batchDone.Add(subscribers)
		target.Add(int64(n))
		for range n {
			send(h, frame)
		}
		sent += n
		batchDone.Wait()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	h.Close(live.CloseServiceRestart, "done")
	exited.Wait()
	if n := evicted.Load(); n > 0 {
		b.Fatalf("%d subscribers were evicted", n)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/subscribers, "ns/delivery")
}
