package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRunServesAndShutsDown starts the real program on a free port with its
// database from the environment, waits for it to say where it listens, checks
// it answers, then cancels it as SIGTERM would.
func TestRunServesAndShutsDown(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "env.db")
	env := map[string]string{"CHAT_DB": dbPath}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"agora", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()

	addrRe := regexp.MustCompile(`msg=listening addr=(http://127\.0\.0\.1:\d+) db=(\S+)`)
	lines := bufio.NewScanner(pr)
	var base string
	for base == "" && lines.Scan() {
		if m := addrRe.FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			if m[2] != dbPath {
				t.Errorf("serving %s, want the database from CHAT_DB %s", m[2], dbPath)
			}
		}
	}
	if base == "" {
		t.Fatalf("the server never said where it listens: %v", <-done)
	}
	go io.Copy(io.Discard, pr)

	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("healthz: %d %q", res.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	err := run(context.Background(), []string{"agora", "-nope"}, func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("an unknown flag was accepted")
	}
	err = run(context.Background(), []string{"agora", "-db", filepath.Join(t.TempDir(), "x.db"), "-addr", "256.0.0.1:99999"}, func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("a bad address was accepted")
	}
}

// TestRunHelp: `agora -h` prints the flags and succeeds.
func TestRunHelp(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"agora", "-h"}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("agora -h returned %v, want nil (exit 0)", err)
	}
	for _, flag := range []string{"-addr", "-db"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("agora -h does not list %s:\n%s", flag, out.String())
		}
	}
}
