package handlers

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// forwardedClient is the client's address behind a trusted reverse proxy
// (-trust-proxy): the right-most X-Forwarded-For entry that is not a proxy
// of ours. Only the direct peer (which must itself be on a loopback or
// private address, or nothing forwarded counts) and loopback entries (proxies
// chained on this machine) are proxies; the first address before them is
// what the proxy saw, whatever network it is on. Everything to its left was
// written by the client and could be anything: echo's extractor, which
// skips every private address, took the left-most entry when the clients
// themselves are on a private network, so a forged entry escaped every
// per-address limit.
func forwardedClient(r *http.Request) string {
	direct, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		direct = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(direct)
	if err != nil {
		return direct
	}
	if peer = peer.Unmap(); !peer.IsLoopback() && !peer.IsPrivate() && !peer.IsLinkLocalUnicast() {
		return direct // not our proxy: its headers are anyone's
	}
	entries := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(entries) - 1; i >= 0; i-- {
		e := strings.TrimSpace(entries[i])
		if e == "" && len(entries) == 1 {
			break // no header at all
		}
		ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]"))
		if err != nil {
			return direct // a list we cannot read is not trusted
		}
		if ip = ip.Unmap(); !ip.IsLoopback() {
			return ip.String()
		}
	}
	return direct
}
