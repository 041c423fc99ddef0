package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The Bun peer: Bun's pub/sub server (bunpeer.js), run with the bun binary
// that make bench fetches from npm (@oven/bun-linux-x64, pinned, its digest
// checked), driven by the same load generator as agora and the bare hub in
// the same run, so their latencies and CPU compare side by side.

//go:embed bunpeer.js
var bunPeerJS []byte

// startBun runs the Bun peer; nil, nil when no bun binary was given.
func (b *bench) startBun(ctx context.Context, name string) (*proc, error) {
	if b.cfg.bun == "" {
		return nil, nil
	}
	script := filepath.Join(b.tmp, "bunpeer.js")
	if err := os.WriteFile(script, bunPeerJS, 0o644); err != nil {
		return nil, err
	}
	return b.start(ctx, name, func(addr string) *exec.Cmd {
		cmd := exec.Command(b.cfg.bun, script)
		cmd.Env = append(os.Environ(), "BUN_PEER_ADDR="+addr)
		return cmd
	})
}

// bunVersion is what the bun binary says it is.
func bunVersion(bun string) string {
	out, err := exec.Command(bun, "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// findBun resolves -bun: the path given, if it runs; "" and why not otherwise.
func findBun(path string) (string, string) {
	if path == "" {
		return "", "no -bun given"
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err.Error()
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Sprintf("%s not found (make bench fetches it)", path)
	}
	return abs, ""
}

// sideBySide prints the one-room load on agora, Bun and the bare hub, all
// driven by this generator in this run.
func (res *results) sideBySide(b *strings.Builder, cfg settings) {
	row := func(metric, ag, bn, bl, target, v string) {
		fmt.Fprintf(b, "%-46s %-18s %-18s %-18s %-12s %s\n", metric, ag, bn, bl, target, v)
	}
	ag, bn, bl := res.agRoom, res.bnRoom, res.blRoom
	bunCol := func(f func(loadResult) string) string {
		if cfg.bun == "" {
			return "not run"
		}
		return f(bn)
	}
	b.WriteString("\n")
	row("(h) one room, one generator", "agora", "Bun "+res.bunVersion, "bare Go hub", "target", "verdict")
	line := func(metric string, f func(loadResult) string, target, v string) {
		row(metric, f(ag), bunCol(f), f(bl), target, v)
	}
	line("(h) deliveries received / expected", func(l loadResult) string { return fmt.Sprintf("%d/%d", l.delivered, l.expected) }, "", "")
	line("(h) lost / duplicated deliveries", func(l loadResult) string { return fmt.Sprintf("%d/%d", l.lost, l.dups) }, "0/0", verdict(ag.lost == 0 && ag.dups == 0))
	line("(h) latency per delivery p50 / p99", func(l loadResult) string { return ms(l.p50) + " / " + ms(l.p99) }, "", "")
	p99 := "(no Bun run)"
	if cfg.bun != "" && bn.p99 > 0 {
		p99 = verdict(ag.p99 <= max(bn.p99, 25*time.Millisecond))
	}
	line("(h) send -> last receiver p99", func(l loadResult) string { return lastMs(l.lastP99) }, "<= 25 ms", verdict(ag.lost == 0 && ag.lastP99 > 0 && ag.lastP99 <= 25*time.Millisecond))
	row("(h) agora p99 per delivery vs Bun's", ratio(float64(ag.p99), float64(bn.p99)), "", "", "<= Bun or 25", p99)
	cpu := "(no Bun run)"
	if cfg.bun != "" && bn.cpuPerDelivery > 0 {
		cpu = verdict(ag.cpuPerDelivery <= bn.cpuPerDelivery)
	}
	line("(h) server CPU per delivery", func(l loadResult) string { return fmt.Sprintf("%.2f µs", l.cpuPerDelivery) }, "<= Bun's", cpu)
	row("(h) agora CPU per delivery / Bun's", ratio(ag.cpuPerDelivery, bn.cpuPerDelivery), "", "", "<= 1x", "")
	line("(h) write syscalls per delivery", func(l loadResult) string { return fmt.Sprintf("%.3f", l.writesPerDelivery) }, "", "")
	line("(h) load generator CPU per delivery", func(l loadResult) string { return fmt.Sprintf("%.2f µs", l.genPerDelivery) }, "", "")
	line("(h) other processes' CPU (contention)", func(l loadResult) string { return pct(l.otherCPU, l.window+l.drain) }, "~0", "")
	fmt.Fprintf(b, "(h) the (a) load on each server in turn, fresh processes, one generator: Bun is bunpeer.js (Bun.serve pub/sub,\n"+
		"    server.publish to the room's topic, nothing stored or rendered), the bare hub as in (a). Write syscalls are\n"+
		"    /proc/<pid>/io syscw, which counts write(2) and writev(2) but not send(2) and sendmsg(2), Bun's way of sending.")
	if cfg.bun == "" {
		fmt.Fprintf(b, " Bun not run: %s.", cfg.bunSkipped)
	}
	b.WriteString("\n")
}
