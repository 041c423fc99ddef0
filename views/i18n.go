package views

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"

	"agora/chat"
	"agora/views/locale"
)

// tr is a catalog text written as an element's text, in the language the
// render's context carries: @tr("sidebar.create"). A constant key makes no
// allocation.
type tr string

func (k tr) Render(ctx context.Context, w io.Writer) error {
	return writeText(w, locale.T(ctx, string(k)))
}

// trf is a catalog text with placeholders filled, written as text:
// @trf("room.leave", "Room", name).
func trf(key string, args ...string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return writeText(w, locale.F(ctx, key, args...))
	})
}

// trn is a catalog text for a count, written as text.
func trn(key string, n int, args ...string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return writeText(w, locale.N(ctx, key, n, args...))
	})
}

// textEscaper escapes what text between tags must not hold raw. Quotes
// need no escaping there, so the English pages stay as they were written
// when their words were part of the templates.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func writeText(w io.Writer, s string) error {
	if !strings.ContainsAny(s, "&<>") {
		_, err := io.WriteString(w, s)
		return err
	}
	_, err := textEscaper.WriteString(w, s)
	return err
}

// ts is a catalog text as a string, for attributes and expressions.
func ts(ctx context.Context, key string) string { return locale.T(ctx, key) }

// tsf is ts with placeholders filled from name, value pairs.
func tsf(ctx context.Context, key string, args ...string) string { return locale.F(ctx, key, args...) }

// tsn is ts for a count.
func tsn(ctx context.Context, key string, n int, args ...string) string {
	return locale.N(ctx, key, n, args...)
}

// dayWords are the words app.js names days with, on the root of a page in
// another language than English (app.js has English's own).
func dayWords(ctx context.Context) templ.Attributes {
	l := locale.From(ctx)
	if l == locale.English {
		return nil
	}
	return templ.Attributes{"data-today": locale.Text(l, "date.today"), "data-yesterday": locale.Text(l, "date.yesterday")}
}

// say is a text made in English elsewhere (a handler's title or error) in
// the reader's language, where the catalogs have it.
func say(ctx context.Context, english string) string { return locale.Say(ctx, english) }

// noticeText is what a notice says in the reader's language: its words
// looked up when it has them, else (English, or a notice older than its
// words) its body as it was stored.
func noticeText(ctx context.Context, m chat.Message) string {
	l := locale.From(ctx)
	if m.Notice == nil || l == locale.English {
		return m.Body
	}
	// A key no catalog has (written by a later version) or a value
	// missing shows the body rather than the key or a placeholder.
	if s := locale.Text(l, m.Notice.Key, m.Notice.Args...); s != m.Notice.Key && !strings.Contains(s, "{{.") {
		return s
	}
	return m.Body
}

// isEnglish reports whether ctx's pages are in English: where an attribute
// holds an apostrophe, English keeps it as it was written (templ escapes
// what an expression gives).
func isEnglish(ctx context.Context) bool { return locale.From(ctx) == locale.English }

// langCode is the code of ctx's language, for an lang attribute.
func langCode(ctx context.Context) string { return locale.From(ctx).Code() }
