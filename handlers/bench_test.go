package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"agora/assets"
	"agora/chat"
	"agora/chat/live"
	"agora/db"
	"agora/handlers"
)

// BenchmarkRoomPage is the server's time for the room page with 50 messages:
// the request goes through the whole router and middleware, straight to
// ServeHTTP, with no network in between.
func BenchmarkRoomPage(b *testing.B) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	app := handlers.New(handlers.Config{Store: store, Hub: handlers.NewHub(live.HubConfig{}), Assets: assets.FS})
	defer app.Shutdown(ctx)

	signup := httptest.NewRequest("POST", "/signup", strings.NewReader(url.Values{"username": {"ann"}, "password": {"password123"}}.Encode()))
	signup.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, signup)
	cookie := rec.Result().Cookies()[0]
	encoding := ""
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/rooms/general", nil)
		req.AddCookie(cookie)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return rec
	}
	get() // joins the room
	ann, _ := store.UserByUsername(ctx, "ann")
	general, _ := store.RoomBySlug(ctx, "general")
	for i := range 60 {
		body := fmt.Sprintf("message %d with **bold**, https://example.com/x and @ann, about a hundred bytes of text", i)
		if _, _, err := store.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: ann.ID, Body: body, Mentions: []string{"ann"}}); err != nil {
			b.Fatal(err)
		}
	}
	// One author's run of messages is grouped: the first starts the group.
	messages := regexp.MustCompile(`class="message( grouped)?"`)
	if rec := get(); rec.Code != http.StatusOK || len(messages.FindAllString(rec.Body.String(), -1)) != 50 {
		b.Fatalf("the page: %d, %d messages", rec.Code, len(messages.FindAllString(rec.Body.String(), -1)))
	}
	if f := os.Getenv("PAGE_DUMP"); f != "" {
		os.WriteFile(f, get().Body.Bytes(), 0o644)
	}
	// What a browser sends, and what an older one does.
	for _, enc := range []string{"", "gzip", "gzip, deflate, br, zstd"} {
		b.Run("encoding="+strings.ReplaceAll(enc, " ", ""), func(b *testing.B) {
			encoding = enc
			b.ReportAllocs()
			var n int
			var took []time.Duration
			cpu0 := processCPU()
			for b.Loop() {
				t0 := time.Now()
				rec := get()
				took = append(took, time.Since(t0))
				n = rec.Body.Len()
			}
			// CPU time, unlike ns/op, is not inflated by other work on the
			// machine waiting for a core.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(len(took)), "cpu-µs/op")
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(n), "bytes/page")
		})
	}
}

// processCPU is the CPU time this process has used, all threads.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
