package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// What a browser does over HTTP: sign up through the form, open room pages
// (which joins public rooms), create a room, leave one.

const (
	password  = "load-test-password"
	bodyBytes = 100
)

// local returns one of the loopback source addresses 127.<netByte>.x.y.
func local(netByte, i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, byte(netByte), byte(1+i/250), byte(1+i%250)).To4()}
}

func transport(pick func() *net.TCPAddr) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: pick(), Timeout: 10 * time.Second}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// user is a signed-up account and its session cookie.
type user struct {
	name   string
	cookie string
}

// signup signs n users up through the form, about 9 per source address (the
// server allows 10 sign-ups per address, then one per 6 s), and opens
// #general once for each, which makes them members.
func signup(addr string, n int, logf func(string, ...any)) ([]*user, error) {
	return signupFrom(addr, 0, n, logf)
}

// signupFrom signs up users number from to from+n-1 (load0000 onwards).
func signupFrom(addr string, from, n int, logf func(string, ...any)) ([]*user, error) {
	const perAddr = 9
	users := make([]*user, n)
	var mu sync.Mutex
	var errs []string
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 { // argon2id costs 19 MiB and tens of ms a hash: a few at a time
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				src := local(2, (from+i)/perAddr)
				hc := &http.Client{Transport: transport(func() *net.TCPAddr { return src }), CheckRedirect: noRedirect, Timeout: 30 * time.Second}
				u, err := signupOne(hc, addr, fmt.Sprintf("load%04d", from+i))
				hc.CloseIdleConnections()
				mu.Lock()
				if err != nil {
					errs = append(errs, err.Error())
				}
				users[i] = u
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d sign-ups failed, first: %s", len(errs), errs[0])
	}
	logf("signed up and joined %d users in %v", n, time.Since(start).Round(time.Millisecond))
	return users, nil
}

func signupOne(hc *http.Client, addr, name string) (*user, error) {
	base := "http://" + addr
	for try := 0; ; try++ {
		res, err := postForm(hc, addr, nil, "/signup", url.Values{"username": {name}, "password": {password}})
		if err != nil {
			return nil, fmt.Errorf("signup %s: %w", name, err)
		}
		if res.StatusCode == http.StatusTooManyRequests && try < 3 {
			time.Sleep(7 * time.Second)
			continue
		}
		if res.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("signup %s: status %d", name, res.StatusCode)
		}
		var u *user
		for _, c := range res.Cookies() {
			if c.Name == "agora_session" {
				u = &user{name: name, cookie: c.Name + "=" + c.Value}
			}
		}
		if u == nil {
			return nil, fmt.Errorf("signup %s: no session cookie", name)
		}
		if _, err := openRoom(hc, base, u, "general"); err != nil {
			return nil, err
		}
		return u, nil
	}
}

// postForm posts a form as the browser does, with the page's Origin; the
// body is read and closed.
func postForm(hc *http.Client, addr string, u *user, path string, form url.Values) (*http.Response, error) {
	base := "http://" + addr
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	if u != nil {
		req.Header.Set("Cookie", u.cookie)
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, nil
}

// openRoom GETs a room's page, which makes the user a member of a public
// room, and returns the page.
func openRoom(hc *http.Client, base string, u *user, slug string) ([]byte, error) {
	req, _ := http.NewRequest("GET", base+"/rooms/"+slug, nil)
	req.Header.Set("Cookie", u.cookie)
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open %s as %s: %w", slug, u.name, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("open %s as %s: %w", slug, u.name, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("open %s as %s: status %d", slug, u.name, res.StatusCode)
	}
	return body, nil
}

// joinAll opens a public room's page as each user, a few at a time, which
// makes every one of them a member again (those who left it too).
func joinAll(addr string, users []*user, slug string) error {
	return fewAtATime(len(users), func(i int) error {
		_, err := openRoom(http.DefaultClient, "http://"+addr, users[i], slug)
		return err
	})
}

// fewAtATime runs do(0) to do(n-1), four at a time (as a few people would
// click), and returns the first error, once all have run.
func fewAtATime(n int, do func(i int) error) error {
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := do(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs
}

// createRoom creates a public room through the sidebar's form and returns
// its slug, from the redirect to it.
func createRoom(hc *http.Client, addr string, u *user, name string) (string, error) {
	res, err := postForm(hc, addr, u, "/rooms", url.Values{"name": {name}})
	if err != nil {
		return "", fmt.Errorf("create room %s: %w", name, err)
	}
	slug, ok := strings.CutPrefix(res.Header.Get("Location"), "/rooms/")
	if res.StatusCode != http.StatusSeeOther || !ok {
		return "", fmt.Errorf("create room %s: status %d, location %q", name, res.StatusCode, res.Header.Get("Location"))
	}
	return slug, nil
}

// leaveRoom leaves a room through its Leave button.
func leaveRoom(hc *http.Client, addr string, u *user, slug string) error {
	res, err := postForm(hc, addr, u, "/rooms/"+slug+"/leave", nil)
	if err != nil {
		return fmt.Errorf("leave %s as %s: %w", slug, u.name, err)
	}
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("leave %s as %s: status %d", slug, u.name, res.StatusCode)
	}
	return nil
}

// pageState is what the browser's script reads from a room page before it
// connects: the last message id (?after=) and the last room event it shows
// (?seq=), the largest data-id and data-seq. rooms maps the slug of each
// room in the sidebar to the id its marks carry (#marks-<id>).
type pageState struct {
	after, seq int64
	rooms      map[string]string
}

func readPage(addr string, u *user, slug string) (pageState, error) {
	body, err := openRoom(http.DefaultClient, "http://"+addr, u, slug)
	if err != nil {
		return pageState{}, err
	}
	return pageState{after: maxAttr(body, "data-id"), seq: maxAttr(body, "data-seq"), rooms: sidebarRooms(body)}, nil
}

// sidebarRooms maps the slug of each room in a page's sidebar to the id its
// counts carry: <a ... data-room="slug"> ... <span class="counts" id="counts-N"> ... </a>
// (or, from older servers, <span class="marks" id="marks-N">).
func sidebarRooms(page []byte) map[string]string {
	rooms := map[string]string{}
	for rest := page; ; {
		i := bytes.Index(rest, []byte(`data-room="`))
		if i < 0 {
			return rooms
		}
		rest = rest[i+len(`data-room="`):]
		end := bytes.IndexByte(rest, '"')
		stop := bytes.Index(rest, []byte("</a>"))
		if end < 0 || stop < 0 {
			return rooms
		}
		item := rest[:stop]
		for _, mark := range []string{`id="counts-`, `id="marks-`} {
			if j := bytes.Index(item, []byte(mark)); j >= 0 {
				if id, n := digits(item[j+len(mark):]); n > 0 {
					rooms[string(rest[:end])] = strconv.FormatInt(id, 10)
				}
			}
		}
	}
}

// maxAttr is the largest number in the attribute name="N" on the page.
func maxAttr(page []byte, name string) int64 {
	var last int64
	for _, m := range regexp.MustCompile(name+`="(\d+)"`).FindAllSubmatch(page, -1) {
		id, _ := strconv.ParseInt(string(m[1]), 10, 64)
		last = max(last, id)
	}
	return last
}
