package handlers

import (
	"context"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"agora/chat"
	"agora/chat/live"
	"agora/views/locale"
)

// languages picks the language a request's pages are written in: the one
// the signed-in user chose on their profile, else the best match of the
// browser's Accept-Language for the languages agora speaks, else English.
type languages struct {
	matcher language.Matcher
	mu      sync.RWMutex
	seen    map[string]locale.Lang // Accept-Language header -> its match
}

// acceptCacheMax bounds the headers remembered: browsers send a handful of
// distinct ones, and a client sending a new one each time gets no cache.
const acceptCacheMax = 256

func newLanguages() *languages {
	all := locale.All()
	tags := make([]language.Tag, len(all))
	for i, l := range all {
		tags[i] = l.Tag()
	}
	return &languages{matcher: language.NewMatcher(tags), seen: map[string]locale.Lang{}}
}

// fromHeader is the language that suits an Accept-Language header best.
func (ls *languages) fromHeader(accept string) locale.Lang {
	if accept == "" {
		return locale.English
	}
	ls.mu.RLock()
	l, ok := ls.seen[accept]
	ls.mu.RUnlock()
	if ok {
		return l
	}
	l = locale.English
	prefs, _, err := language.ParseAcceptLanguage(accept)
	if err != nil {
		prefs = leniently(accept)
	}
	if len(prefs) > 0 {
		if _, i, conf := ls.matcher.Match(prefs...); conf != language.No {
			l = locale.All()[i]
		}
	}
	ls.mu.Lock()
	if len(ls.seen) < acceptCacheMax {
		ls.seen[accept] = l
	}
	ls.mu.Unlock()
	return l
}

// leniently reads the tags of a header the standard parser refused, in
// the order given: a browser that repeats a weight (de;q=0.9;q=0.8) still
// says which languages it reads.
func leniently(accept string) []language.Tag {
	var tags []language.Tag
	for part := range strings.SplitSeq(accept, ",") {
		name, _, _ := strings.Cut(part, ";")
		if t, err := language.Parse(strings.TrimSpace(name)); err == nil {
			tags = append(tags, t)
		}
		if len(tags) == 8 {
			break
		}
	}
	return tags
}

// language puts the browser's language into the request's context for
// everything written after it, error pages included; loadSession puts the
// user's own choice in its place.
func (s *Server) language(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if l := s.langs.fromHeader(c.Request().Header.Get("Accept-Language")); l != locale.English {
			setLanguage(c, l)
		}
		return next(c)
	}
}

// userLanguage puts the language u chose, if any, into the request's context.
func userLanguage(c echo.Context, u chat.User) {
	if u.Language == "" {
		return
	}
	if l, ok := locale.Parse(u.Language); ok && l != langOf(c) {
		setLanguage(c, l)
	}
}

func setLanguage(c echo.Context, l locale.Lang) {
	r := c.Request()
	c.SetRequest(r.WithContext(locale.With(r.Context(), l)))
}

// inLanguageOf is a context for rendering in the language u reads (a
// code their profile or their socket's page gave).
func inLanguageOf(u chat.User) context.Context { return inLanguage(u.Language) }

// langContexts carry each language, made once: what is rendered for
// sockets takes one without allocating.
var langContexts = func() map[string]context.Context {
	m := make(map[string]context.Context, len(chat.Languages))
	for _, l := range locale.All() {
		m[l.Code()] = locale.With(context.Background(), l)
	}
	return m
}()

// inLanguage is a context for rendering in the language of code; English
// for anything else.
func inLanguage(code string) context.Context {
	if ctx, ok := langContexts[code]; ok {
		return ctx
	}
	return langContexts["en"]
}

// fragment is c rendered in English for a room's sockets, and in another
// language for those of its sockets that read one (see live.Fragment).
func fragment(c templ.Component) live.Fragment {
	return live.Fragment{Data: renderBytes(c), In: func(code string) []byte { return renderBytesIn(inLanguage(code), c) }}
}

// langOf is the language the request's pages are written in.
func langOf(c echo.Context) locale.Lang { return locale.From(c.Request().Context()) }
