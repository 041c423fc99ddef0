package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/rooms/general", nil)
		req.AddCookie(cookie)
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
	b.ReportAllocs()
	for b.Loop() {
		rec := get()
		io.Copy(io.Discard, rec.Body)
	}
}
