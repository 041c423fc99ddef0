package views

import (
	"context"
	"strings"

	"agora/chat"
	"agora/chat/markup"
)

// BodyHTML is a message's text as the room page renders it, for API clients
// that show messages as agora does (group mentions included).
func BodyHTML(m chat.Message) string {
	var b strings.Builder
	if err := bodySpans(markup.Message(m).Spans).Render(context.Background(), &b); err != nil {
		// Rendering into a builder fails only on a bug in the component.
		panic("render message body: " + err.Error())
	}
	return b.String()
}
