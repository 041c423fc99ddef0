package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

type pageResult struct {
	requests    int
	p50, p99    time.Duration
	bytes, msgs int
}

// runPage times GET /rooms/general (50 messages) from the client over one
// keep-alive loopback connection: request sent to the last byte read.
func runPage(addr string, u *user, n int) (pageResult, error) {
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	get := func() (time.Duration, []byte, error) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/rooms/general", nil)
		req.Header.Set("Cookie", u.cookie)
		t0 := time.Now()
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("page: %w", err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t0)
		if res.StatusCode != http.StatusOK {
			return 0, nil, fmt.Errorf("page: status %d", res.StatusCode)
		}
		return d, body, nil
	}
	var body []byte
	for range 20 {
		var err error
		if _, body, err = get(); err != nil {
			return pageResult{}, err
		}
	}
	times := make([]time.Duration, n)
	for i := range times {
		var err error
		if times[i], _, err = get(); err != nil {
			return pageResult{}, err
		}
	}
	slices.Sort(times)
	return pageResult{requests: n, p50: times[n/2], p99: times[min(n*99/100, n-1)], bytes: len(body),
		msgs: bytes.Count(body, []byte(`id="message-`))}, nil
}
