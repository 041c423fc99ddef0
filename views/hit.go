package views

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"

	"agora/chat"
	"agora/chat/markup"
)

// hitBody renders a found message's snippet formatted as the room shows it,
// its matched words in <mark>. The engine put its markers (control
// characters, which no message holds) around the matches in the text; the
// text is parsed as a message is and rendered escaped, and only then do the
// markers become elements. A link's address and a mention's name lose their
// markers, and a link shows as its text: the whole hit is a link already.
func hitBody(snippet string) templ.Component {
	spans := unlinked(markup.Parse(snippet))
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		var b strings.Builder
		if err := bodySpans(spans).Render(ctx, &b); err != nil {
			return err
		}
		_, err := markReplacer.WriteString(w, b.String())
		return err
	})
}

var markReplacer = strings.NewReplacer(chat.SnippetStart, "<mark>", chat.SnippetEnd, "</mark>")

var unmark = strings.NewReplacer(chat.SnippetStart, "", chat.SnippetEnd, "")

func unlinked(spans []chat.Span) []chat.Span {
	for i := range spans {
		s := &spans[i]
		if s.Kind == markup.Link {
			s.Kind = markup.Text
		}
		s.Arg = unmark.Replace(s.Arg)
		s.Kids = unlinked(s.Kids)
	}
	return spans
}
