package natstest_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"agora/chat/live/cluster/natstest"
)

// A client connected to one server of the cluster hears a publish made on
// another; when its server dies it moves to a live one and hears on; the
// dead server comes back on its port and routes again.
func TestClusterRoutesAndSurvivesAServer(t *testing.T) {
	c, err := natstest.Start(3, natstest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	sub, err := nats.Connect(c.Servers[0].ClientURL()+","+c.URLs(), nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	pub, err := nats.Connect(c.Servers[2].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	got, err := sub.SubscribeSync("x")
	if err != nil {
		t.Fatal(err)
	}
	sub.Flush()
	hear := func(what string) {
		t.Helper()
		// Interest reaches the other servers over the routes a moment after
		// the subscription: publish until it is heard, a bounded number of times.
		for range 100 {
			pub.Publish("x", []byte(what))
			pub.Flush()
			if m, err := got.NextMsg(100 * time.Millisecond); err == nil {
				if string(m.Data) != what {
					t.Fatalf("heard %q, want %q", m.Data, what)
				}
				for { // what else of the retries came
					if _, err := got.NextMsg(10 * time.Millisecond); err != nil {
						return
					}
				}
			}
		}
		t.Fatalf("%q never heard across the cluster", what)
	}
	hear("one")
	if sub.ConnectedUrl() != c.Servers[0].ClientURL() {
		t.Fatalf("the subscriber is on %s, want the first server", sub.ConnectedUrl())
	}
	c.Stop(0)
	hear("two")
	if sub.ConnectedUrl() == c.Servers[0].ClientURL() {
		t.Fatal("the subscriber is still on the stopped server")
	}
	if err := c.Restart(0); err != nil {
		t.Fatal(err)
	}
	if n := natstest.Peers(c.Servers[0]); n != 2 {
		t.Fatalf("the restarted server has %d routes, want 2", n)
	}
}
