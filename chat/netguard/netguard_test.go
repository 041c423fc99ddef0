package netguard

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestPublicRefusesEverySpecialPurposeRange(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:4700::1111": true, "8.8.8.8": true, "2a00:1450:4001::1": true,
		"::ffff:93.184.216.34": true,
		"127.0.0.1":            false, "127.8.9.10": false, "::1": false, "::ffff:127.0.0.1": false,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "fd00::1": false, "fc00::1": false,
		"169.254.169.254": false, "fe80::1": false, "0.0.0.0": false, "::": false, "0.1.2.3": false,
		"224.0.0.1": false, "ff02::1": false, "ff0e::1": false, "100.64.0.1": false, "255.255.255.255": false,
		"192.0.2.1": false, "198.51.100.1": false, "203.0.113.9": false, "198.18.0.1": false, "192.0.0.8": false,
		"64:ff9b::7f00:1": false, "2002:7f00:1::": false,
		// What the probe found open: IPv4-compatible, site-local, local-use NAT64.
		"::127.0.0.1": false, "::10.0.0.1": false, "fec0::1": false, "feff::1": false, "64:ff9b:1::a00:1": false,
		"100::1": false, "2001::7f00:1": false, "2001:db8::1": false, "3fff::1": false, "::ffff:0:7f00:1": false,
		"fe80::1%eth0": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestControlRefusesBeforeConnecting(t *testing.T) {
	ctl := Control(false, "-webhooks-private")
	err := ctl("tcp6", "[::127.0.0.1]:80", nil)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Addr != netip.MustParseAddr("::127.0.0.1") {
		t.Fatalf("Control(::127.0.0.1) = %v, want a RefusedError", err)
	}
	if err := ctl("tcp4", net.JoinHostPort("93.184.216.34", "443"), nil); err != nil {
		t.Fatalf("a public address was refused: %v", err)
	}
	if err := Control(true, "")("tcp4", "127.0.0.1:80", nil); err != nil {
		t.Fatalf("loopback refused though private addresses are allowed: %v", err)
	}
}
