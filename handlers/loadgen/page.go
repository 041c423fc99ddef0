package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

type pageResult struct {
	requests    int
	p50, p99    time.Duration
	bytes, msgs int // uncompressed
	loads       []pageLoad
}

// pageLoad is the room page served to clients at once for a while, with
// one Accept-Encoding.
type pageLoad struct {
	encoding         string
	clients          int
	pages            int
	took, cpu        time.Duration // wall time, and the server's CPU meanwhile
	bytes            int           // one page as sent
	coding           string        // the Content-Encoding it came with
	p50, p99         time.Duration
	otherCPU, genCPU time.Duration
}

func (l pageLoad) perSecond() float64 { return float64(l.pages) / l.took.Seconds() }

// perCPUSecond is pages per second of the server's CPU.
func (l pageLoad) perCPUSecond() float64 {
	if l.cpu <= 0 {
		return 0
	}
	return float64(l.pages) / l.cpu.Seconds()
}

// pageEncodings are what a browser sends today, and what an older one or a
// plain HTTP client does.
var pageEncodings = []string{"gzip, deflate, br, zstd", "gzip"}

// runPage times GET /rooms/general (50 messages) from the client over one
// keep-alive loopback connection, request sent to the last byte read; then
// has clients signed-in users load it as fast as they can, each over its
// own keep-alive connection, for d per encoding, with the server's CPU
// read from /proc.
func runPage(ctx context.Context, p *proc, users []*user, n, clients int, d time.Duration, logf func(string, ...any)) (pageResult, error) {
	addr := p.addr
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	if err := seedPage(hc, addr, users); err != nil {
		return pageResult{}, err
	}
	var body []byte
	for range 20 {
		var err error
		if _, body, _, err = getPage(hc, addr, users[0], ""); err != nil {
			return pageResult{}, err
		}
	}
	times := make([]time.Duration, n)
	for i := range times {
		var err error
		if times[i], _, _, err = getPage(hc, addr, users[0], ""); err != nil {
			return pageResult{}, err
		}
	}
	slices.Sort(times)
	r := pageResult{requests: n, p50: times[n/2], p99: times[min(n*99/100, n-1)], bytes: len(body),
		msgs: bytes.Count(body, []byte(`id="message-`))}
	clients = min(clients, len(users))
	for _, enc := range pageEncodings {
		waitQuiet(ctx, p.name, logf)
		l, err := pageLoadOf(ctx, p, users[:clients], enc, d)
		if err != nil {
			return r, err
		}
		logf("page: %d clients, Accept-Encoding %q: %d pages in %v, %.0f/s, server CPU %v (%.0f pages per CPU-second), %d B as %s, p50 %v",
			l.clients, enc, l.pages, l.took.Round(time.Millisecond), l.perSecond(), l.cpu, l.perCPUSecond(), l.bytes, l.coding, l.p50)
		r.loads = append(r.loads, l)
	}
	return r, nil
}

func pageLoadOf(ctx context.Context, p *proc, users []*user, enc string, d time.Duration) (pageLoad, error) {
	l := pageLoad{encoding: enc, clients: len(users)}
	var mu sync.Mutex
	var firstErr error
	var all []time.Duration
	var wg sync.WaitGroup
	cpu0, gen0, busy0 := p.cpu(), selfCPU(), machineBusy()
	t0 := time.Now()
	until := t0.Add(d)
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
			defer hc.CloseIdleConnections()
			var mine []time.Duration
			for time.Now().Before(until) && ctx.Err() == nil {
				took, body, coding, err := getPage(hc, p.addr, u, enc)
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					return
				}
				mine = append(mine, took)
				if len(mine) == 1 {
					mu.Lock()
					l.bytes, l.coding = len(body), coding
					mu.Unlock()
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	l.took = time.Since(t0)
	l.cpu, l.genCPU = p.cpu()-cpu0, selfCPU()-gen0
	l.otherCPU = max(machineBusy()-busy0-l.cpu-l.genCPU, 0)
	l.pages = len(all)
	if firstErr != nil {
		return l, firstErr
	}
	if len(all) == 0 {
		return l, fmt.Errorf("page: no page served in %v", d)
	}
	slices.Sort(all)
	l.p50, l.p99 = all[len(all)/2], all[min(len(all)*99/100, len(all)-1)]
	return l, nil
}

// seedPage makes sure #general's latest 50 are messages of about 100 bytes
// with a link, a mention and some emphasis (when the room phase has not run
// first, it holds only the sign-ups' notices), posted through the form by
// a few users in turn, within their rate limit.
func seedPage(hc *http.Client, addr string, users []*user) error {
	_, page, _, err := getPage(hc, addr, users[0], "")
	if err != nil {
		return err
	}
	if bytes.Count(page, []byte("<article")) >= 50 {
		return nil
	}
	for i := range 60 {
		u := users[i%min(len(users), 6)]
		form := url.Values{"body": {fmt.Sprintf("message %d from %s with **bold**, https://example.com/notes?id=%d and @%s, about a hundred bytes", i, u.name, i, users[0].name)}}
		req, _ := http.NewRequest("POST", "http://"+addr+"/rooms/general/messages", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", u.cookie)
		res, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("page: seed: %w", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("page: seed: status %d", res.StatusCode)
		}
	}
	return nil
}

// getPage loads the room page as user u, with Accept-Encoding enc (none if
// empty): the time to the last byte, the body as sent, and its coding.
func getPage(hc *http.Client, addr string, u *user, enc string) (time.Duration, []byte, string, error) {
	req, _ := http.NewRequest("GET", "http://"+addr+"/rooms/general", nil)
	req.Header.Set("Cookie", u.cookie)
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc)
	}
	t0 := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("page: %w", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return 0, nil, "", fmt.Errorf("page: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return 0, nil, "", fmt.Errorf("page: status %d", res.StatusCode)
	}
	return d, body, res.Header.Get("Content-Encoding"), nil
}
