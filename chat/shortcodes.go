package chat

import "strings"

// shortcodes are the :name: codes a message may use for an emoji; the server
// puts the emoji in their place when the message is sent or edited. The
// common set of other chats, not every name there is.
var shortcodes = map[string]string{
	"+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎",
	"heart": "❤️", "joy": "😂", "laughing": "😆", "smile": "😄", "smiley": "😃", "grin": "😁",
	"sweat_smile": "😅", "wink": "😉", "blush": "😊", "slightly_smiling_face": "🙂",
	"upside_down_face": "🙃", "thinking": "🤔", "neutral_face": "😐", "confused": "😕",
	"cry": "😢", "sob": "😭", "scream": "😱", "open_mouth": "😮", "astonished": "😲",
	"rage": "😡", "angry": "😠", "sunglasses": "😎", "heart_eyes": "😍", "kissing_heart": "😘",
	"sleeping": "😴", "zzz": "💤", "rofl": "🤣", "shrug": "🤷", "facepalm": "🤦",
	"eyes": "👀", "tada": "🎉", "party": "🥳", "clap": "👏", "pray": "🙏", "raised_hands": "🙌",
	"wave": "👋", "ok_hand": "👌", "muscle": "💪", "point_up": "☝️", "v": "✌️",
	"fire": "🔥", "100": "💯", "rocket": "🚀", "star": "⭐", "sparkles": "✨", "zap": "⚡",
	"bulb": "💡", "warning": "⚠️", "white_check_mark": "✅", "check": "✅", "heavy_check_mark": "✔️",
	"x": "❌", "no_entry": "⛔", "question": "❓", "exclamation": "❗",
	"coffee": "☕", "tea": "🍵", "beer": "🍺", "beers": "🍻", "pizza": "🍕", "cake": "🍰", "birthday": "🎂",
	"bug": "🐛", "memo": "📝", "pushpin": "📌", "link": "🔗", "lock": "🔒", "key": "🔑",
	"calendar": "📅", "hourglass": "⌛", "alarm_clock": "⏰", "chart_with_upwards_trend": "📈",
	"see_no_evil": "🙈", "skull": "💀", "ghost": "👻", "robot": "🤖", "poop": "💩",
	"sun": "☀️", "cloud": "☁️", "rainbow": "🌈", "snowflake": "❄️", "dog": "🐶", "cat": "🐱",
	"thumbs_up": "👍", "broken_heart": "💔", "green_heart": "💚", "blue_heart": "💙",
	// What alerting and CI tools put in what they post to Slack.
	"rotating_light": "🚨", "red_circle": "🔴", "large_green_circle": "🟢", "green_circle": "🟢",
	"large_yellow_circle": "🟡", "yellow_circle": "🟡", "large_blue_circle": "🔵", "bell": "🔔",
	"information_source": "ℹ️", "heavy_exclamation_mark": "❗", "construction": "🚧", "stopwatch": "⏱️", "package": "📦",
}

// ReplaceShortcodes puts the emoji of known :name: codes in their place,
// outside code (between backticks) only. Unknown codes stay as typed.
func ReplaceShortcodes(s string) string {
	if strings.IndexByte(s, ':') < 0 {
		return s
	}
	var b strings.Builder
	inCode := false
	for i := 0; i < len(s); {
		c := s[i]
		if c == '`' {
			inCode = !inCode
			b.WriteByte(c)
			i++
			continue
		}
		if c == ':' && !inCode {
			if j := strings.IndexByte(s[i+1:], ':'); j > 0 && j <= 32 {
				if e, ok := shortcodes[s[i+1:i+1+j]]; ok {
					b.WriteString(e)
					i += j + 2
					continue
				}
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// ShortcodeNames lists the known codes, for completion in the composer.
func ShortcodeNames() []string {
	names := make([]string, 0, len(shortcodes))
	for n := range shortcodes {
		names = append(names, n)
	}
	return names
}
