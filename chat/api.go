package chat

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Token is a personal access token as its owner sees it: never the token
// itself, which is shown once when made and then only its hash is kept.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
	RevokedAt  time.Time // zero while it works
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Bot is a bot account: a user that speaks only through its API token, and
// is told of messages meant for it at its webhook.
type Bot struct {
	User           User
	Owner          string // the username of the admin who made it
	WebhookURL     string // "" when it has none
	Secret         string // the webhook signing key
	LastDeliveryAt time.Time
	LastError      string
	LastErrorAt    time.Time
}

// Limits on the API's names and addresses.
const (
	MaxTokenName    = 64
	MaxTokens       = 50 // working tokens per user
	MaxWebhookURL   = 2000
	APITokenPrefix  = "agora_"
	BotReplyIDStart = "hook-" // client_msg_id of a bot's webhook reply: "hook-{message id}"
)

// NewAPIToken returns a fresh API token. The prefix lets secret scanners and
// people tell it from other secrets.
func NewAPIToken() (string, error) {
	t, err := NewToken()
	if err != nil {
		return "", err
	}
	return APITokenPrefix + t, nil
}

// ValidateTokenName trims a token's name and checks it: what the owner will
// recognise it by, 1 to MaxTokenName characters without control characters.
func ValidateTokenName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", Errorf(EInvalid, "The name is not valid UTF-8 text.")
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "", Errorf(EInvalid, "Give the token a name, so you know later what it is for.")
	}
	if utf8.RuneCountInString(name) > MaxTokenName {
		return "", Errorf(EInvalid, "A token's name has at most %d characters.", MaxTokenName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return "", Errorf(EInvalid, "The name has control characters.")
		}
	}
	return name, nil
}

// ValidateWebhookURL checks a bot's webhook address: empty (no webhook), or
// an absolute http or https URL without credentials in it. Where it may point
// is checked when it is dialled, against the address actually connected to.
func ValidateWebhookURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > MaxWebhookURL || !utf8.ValidString(raw) {
		return "", Errorf(EInvalid, "The webhook URL is too long.")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return "", Errorf(EInvalid, "The webhook URL must be an http:// or https:// address.")
	}
	if u.User != nil {
		return "", Errorf(EInvalid, "The webhook URL may not carry a user name or password.")
	}
	u.Fragment = ""
	return u.String(), nil
}

// IncomingHook is a Slack-compatible incoming webhook: whoever holds its
// secret URL posts to Room as Bot.
type IncomingHook struct {
	ID         int64
	Room       Room
	Bot        User
	CreatedBy  string // the username of the admin who made it
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
	RevokedAt  time.Time // zero while it works
}
