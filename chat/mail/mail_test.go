package mail_test

import (
	"context"
	"strings"
	"testing"

	"agora/chat/mail"
	"agora/chat/mail/mailtest"
)

func TestSendTextAndHTMLWithHeaders(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := mail.New(srv.URL(), "agora <chat@example.com>", mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{To: "ann@example.com", Subject: "Hello ünïcode", Text: "plain words",
		HTML: "<p>html words</p>", ID: "job-1@agora", Headers: map[string]string{"List-Unsubscribe": "<https://chat.example/u/x>"}})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Next(t)
	if got.From != "chat@example.com" || len(got.To) != 1 || got.To[0] != "ann@example.com" {
		t.Fatalf("envelope %s -> %v", got.From, got.To)
	}
	body := string(got.Data)
	for _, want := range []string{"plain words", "html words", "multipart/alternative", "text/html"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
	if got.Header("Message-Id") != "<job-1@agora>" || got.Header("List-Unsubscribe") != "<https://chat.example/u/x>" {
		t.Errorf("headers: %q %q", got.Header("Message-Id"), got.Header("List-Unsubscribe"))
	}
}

// A server that refuses, or drops the connection as the message comes,
// is an error the caller sees (and its job retries); nothing arrived.
func TestRefusedOrDroppedIsAnError(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := mail.New(srv.URL(), "chat@example.com", mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.Refuse(1)
	srv.Drop(1)
	for _, what := range []string{"refused", "dropped"} {
		if err := s.Send(context.Background(), mail.Message{To: "ann@example.com", Subject: "s", Text: "t"}); err == nil {
			t.Fatalf("%s: no error", what)
		}
	}
	if got := srv.Pending(); len(got) != 0 {
		t.Fatalf("received %d emails", len(got))
	}
	if err := s.Send(context.Background(), mail.Message{To: "ann@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	srv.Next(t)
}

func TestBadSettingsAreRefused(t *testing.T) {
	for _, c := range []struct{ url, from string }{
		{"http://mail.example.com", "chat@example.com"},
		{"smtp://", "chat@example.com"},
		{"smtp://mail.example.com:99999", "chat@example.com"},
		{"smtp://mail.example.com", "not an address"},
	} {
		if _, err := mail.New(c.url, c.from, mail.Options{}); err == nil {
			t.Errorf("%s from %s: accepted", c.url, c.from)
		}
	}
}
