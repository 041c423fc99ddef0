package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// running is agora started through run, as main starts it.
type running struct {
	base    string // http(s)://host:port
	metrics string // the metrics URL, if -metrics was given
	mu      sync.Mutex
	log     strings.Builder
}

func (r *running) logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// startRun runs agora with args (and -addr 127.0.0.1:0 unless given) until
// the test ends, and returns once it has said where it listens.
func startRun(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	full := append([]string{"agora", "-addr", "127.0.0.1:0"}, args...)
	go func() {
		done <- run(ctx, full, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	r := &running{}
	listening := make(chan struct{})
	addrRe := regexp.MustCompile(`msg=listening addr=(\S+)`)
	metricsRe := regexp.MustCompile(`msg=metrics addr=(\S+)`)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.log.WriteString(line + "\n")
			if m := metricsRe.FindStringSubmatch(line); m != nil {
				r.metrics = m[1]
			}
			if m := addrRe.FindStringSubmatch(line); m != nil && r.base == "" {
				r.base = m[1]
				close(listening)
			}
			r.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not return after its context ended")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", r.logs())
		}
	})
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("run returned before listening: %v\n%s", err, r.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("the server never said where it listens:\n%s", r.logs())
	}
	return r
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestMetricsFlag: -metrics serves Prometheus metrics on an address of its
// own, and the public address does not.
func TestMetricsFlag(t *testing.T) {
	r := startRun(t, map[string]string{"CHAT_DB": t.TempDir() + "/m.db", "CHAT_METRICS": "127.0.0.1:0"})
	r.mu.Lock()
	metricsURL := r.metrics
	r.mu.Unlock()
	if metricsURL == "" || !strings.HasSuffix(metricsURL, "/metrics") {
		t.Fatalf("no metrics address in the log:\n%s", r.logs())
	}
	client := &http.Client{Timeout: 5 * time.Second}
	status, body := get(t, client, metricsURL)
	if status != http.StatusOK {
		t.Fatalf("metrics: status %d", status)
	}
	for _, want := range []string{"agora_sockets_open 0", "agora_messages_created_total 0", "agora_deliveries_total 0", "go_goroutines ", "process_open_fds "} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if _, body := get(t, client, r.base+"/metrics"); strings.Contains(body, "agora_sockets_open") {
		t.Error("the public address serves the metrics")
	}

	// Without the flag, nothing listens for metrics.
	off := startRun(t, map[string]string{"CHAT_DB": t.TempDir() + "/n.db"})
	if strings.Contains(off.logs(), "msg=metrics") {
		t.Errorf("metrics served without -metrics:\n%s", off.logs())
	}
}
