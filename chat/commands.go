package chat

import (
	"strings"
	"unicode/utf8"
)

// A composer body that starts with "/" is a command: Command is one read
// from it. "//" starts a message that begins with "/" instead.
type Command struct {
	Name string // lower case, without the slash
	Arg  string // the rest, trimmed
}

// CommandInfo describes a command for the composer's list and /help.
type CommandInfo struct {
	Name, Usage, About string
}

// Commands are the commands every composer takes, in the order they are
// listed.
var Commands = []CommandInfo{
	{"me", "/me TEXT", "Say it as an action: /me waves"},
	{"shrug", "/shrug [TEXT]", "Add ¯\\_(ツ)_/¯ to your message"},
	{"topic", "/topic TEXT", "Set the room's topic (empty clears it)"},
	{"invite", "/invite @user", "Add someone to this room"},
	{"leave", "/leave", "Leave this room"},
	{"status", "/status [EMOJI] [TEXT]", "Say what you are up to (alone, it clears your status)"},
	{"away", "/away", "Show as away, or as back when you were away"},
	{"dnd", "/dnd 1h", "Do not disturb for 30m, 1h, 2h… or until tomorrow; /dnd off ends it"},
	{"mute", "/mute", "No unread count or notifications from this room but mentions; again to undo"},
	{"unmute", "/unmute", "Back to the room's unread count and mentions"},
	{"remind", "/remind me in 20m to TEXT", "A reminder, in your conversation with agora: in 20m, at 15:00, tomorrow"},
	{"help", "/help", "List these commands"},
}

// Shrug is what /shrug adds. Its low lines are full-width (U+FF3F), so the
// message's _italics_ markup leaves it as it is.
const Shrug = "¯\\＿(ツ)＿/¯"

// ParseCommand reads body as a command, if it is one. A body of "//..." is
// the message "/..."; ok is false and text is what to send.
func ParseCommand(body string) (c Command, text string, ok bool) {
	trimmed := strings.TrimLeft(body, " \t\r\n")
	switch {
	case strings.HasPrefix(trimmed, "//"):
		return Command{}, trimmed[1:], false
	case !strings.HasPrefix(trimmed, "/"):
		return Command{}, body, false
	}
	name, arg, _ := strings.Cut(trimmed[1:], " ")
	if i := strings.IndexAny(name, "\n\t"); i >= 0 {
		name, arg = name[:i], name[i+1:]+" "+arg
	}
	return Command{Name: strings.ToLower(name), Arg: strings.TrimSpace(arg)}, "", true
}

// Check refuses a command that is too long, or that is not one of
// Commands, saying what to do instead.
func (c Command) Check() error {
	if n := utf8.RuneCountInString(c.Name) + utf8.RuneCountInString(c.Arg); n > MaxBodyChars {
		return Errorf(EInvalid, "This command is %d characters long; the limit is %d.", n+1, MaxBodyChars)
	}
	for _, k := range Commands {
		if k.Name == c.Name {
			return nil
		}
	}
	shown := c.Name
	if utf8.RuneCountInString(shown) > 20 {
		shown = string([]rune(shown)[:20]) + "…"
	}
	return Errorf(EInvalid, "/%s is not a command. Type /help for the commands, or start with // to send a message that begins with /.", shown)
}
