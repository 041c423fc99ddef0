package views

import (
	"context"
	"strings"
)

// BodyHTML is a message's text as the room page renders it, for API clients
// that show messages as agora does.
func BodyHTML(body string) string {
	var b strings.Builder
	if err := messageBody(body).Render(context.Background(), &b); err != nil {
		// Rendering into a builder fails only on a bug in the component.
		panic("render message body: " + err.Error())
	}
	return b.String()
}
