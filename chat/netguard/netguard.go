// Package netguard decides which addresses the server may connect to when
// the address was chosen by someone else: a bot's webhook, a link to
// preview, a browser's push endpoint. Only addresses on the public internet
// pass; loopback, private and link-local networks, and every special-purpose
// range (documentation, benchmarking, translation prefixes that can wrap a
// private IPv4 address, deprecated site-local and IPv4-compatible forms) are
// refused. The check runs as a connection is dialled, after the name was
// resolved, so a name that resolves to a private address is refused too.
package netguard

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// globalV6 is where every public IPv6 address lies (global unicast). Outside
// it lie loopback, ::/96 (IPv4-compatible, so ::127.0.0.1), 64:ff9b::/96 and
// 64:ff9b:1::/48 (NAT64), 100::/64 (discard), ULA, link- and site-local
// (fec0::/10) and multicast: refusing everything else refuses them all.
var globalV6 = netip.MustParsePrefix("2000::/3")

// refused lists the special-purpose ranges (IANA's IPv4 and IPv6
// special-purpose address registries) that are not globally reachable, or
// that embed an IPv4 address the server would in effect connect to.
var refused = []netip.Prefix{
	// IPv4
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, often internal
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local (cloud metadata lives here)
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	// IPv6 inside 2000::/3
	netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments: Teredo (wraps IPv4), benchmarking, ORCHID
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("2002::/16"),     // 6to4: wraps any IPv4 address
	netip.MustParsePrefix("3fff::/20"),     // documentation
}

// Public reports whether ip is an address on the public internet. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it
// is.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.Is6() && !globalV6.Contains(ip) {
		return false
	}
	for _, p := range refused {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// RefusedError is a connection the guard did not allow.
type RefusedError struct {
	Addr netip.Addr
	// Allow names the setting that would allow it, such as -webhooks-private.
	Allow string
}

func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("refused to connect to %s: not a public address", e.Addr)
	if e.Allow != "" {
		msg += " (the operator may allow it with " + e.Allow + ")"
	}
	return msg
}

// Control is a net.Dialer Control function that refuses every address that
// is not Public, unless allowPrivate; allow names the setting that allows
// them, for the error.
func Control(allowPrivate bool, allow string) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("address %q: %w", address, err)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("address %q: %w", address, err)
		}
		if !allowPrivate && !Public(ip) {
			return &RefusedError{Addr: ip, Allow: allow}
		}
		return nil
	}
}
