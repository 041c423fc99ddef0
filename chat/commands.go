package chat

import (
	"slices"
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
	{"remind", "/remind me in 20m TEXT", "A reminder from @agora: in 20m, at 15:00, tomorrow"},
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
// Commands nor of bots (the names in bots), saying what to do instead.
func (c Command) Check(bots ...string) error {
	if n := utf8.RuneCountInString(c.Name) + utf8.RuneCountInString(c.Arg); n > MaxBodyChars {
		return Errorf(EInvalid, "This command is %d characters long; the limit is %d.", n+1, MaxBodyChars)
	}
	if c.Builtin() || slices.Contains(bots, c.Name) {
		return nil
	}
	shown := c.Name
	if utf8.RuneCountInString(shown) > 20 {
		shown = string([]rune(shown)[:20]) + "…"
	}
	return Errorf(EInvalid, "/%s is not a command. Type /help for the commands, or start with // to send a message that begins with /.", shown)
}

// Builtin reports whether c is one of Commands.
func (c Command) Builtin() bool {
	return slices.ContainsFunc(Commands, func(k CommandInfo) bool { return k.Name == c.Name })
}

// BotCommand is a slash command a bot registered: its text is posted to the
// bot's webhook, and the answer shown to its caller or posted.
type BotCommand struct {
	Name, Description string
	BotID             int64
	Bot               string // the bot's username
}

// Info is c as the composer's list and /help show it.
func (c BotCommand) Info() CommandInfo {
	about := c.Description
	if about == "" {
		about = "A command of @" + c.Bot
	}
	return CommandInfo{Name: c.Name, Usage: "/" + c.Name + " TEXT", About: about + " (@" + c.Bot + ")"}
}

// reservedCommands are names no bot may take: the built-ins, and those the
// design gives the composer (a build may not have them all yet).
var reservedCommands = []string{"me", "shrug", "topic", "invite", "leave", "remind", "status", "away", "dnd", "mute", "help"}

// MaxCommandAbout bounds a bot command's description.
const MaxCommandAbout = 100

// ValidateBotCommand checks a bot command's name (1 to 32 of a-z, 0-9, '-',
// '_', lower case, none of the built-ins) and description.
func ValidateBotCommand(name, description string) (string, string, error) {
	name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "/"))
	if name == "" || len(name) > 32 {
		return "", "", Errorf(EInvalid, "A command's name is 1 to 32 letters, digits, - or _.")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", "", Errorf(EInvalid, "A command's name is 1 to 32 letters, digits, - or _ (not %q).", clip(name, 32))
		}
	}
	if slices.Contains(reservedCommands, name) || (Command{Name: name}).Builtin() {
		return "", "", Errorf(EConflict, "/%s is a built-in command: choose another name.", name)
	}
	if !utf8.ValidString(description) {
		return "", "", Errorf(EInvalid, "A command's description is not valid UTF-8 text.")
	}
	description = strings.Join(strings.Fields(description), " ")
	if utf8.RuneCountInString(description) > MaxCommandAbout {
		return "", "", Errorf(EInvalid, "A command's description is at most %d characters.", MaxCommandAbout)
	}
	for _, r := range description {
		if topicRuneRefused(r) {
			return "", "", Errorf(EInvalid, "A command's description has a control or text-direction character it may not have.")
		}
	}
	return name, description, nil
}
