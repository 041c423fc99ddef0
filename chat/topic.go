package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTopicChars bounds a room's topic.
const MaxTopicChars = 250

// ValidateTopic trims a room topic and checks it like a name: valid UTF-8,
// no control or bidi characters, at most MaxTopicChars. Empty clears it.
func ValidateTopic(topic string) (string, error) {
	if !utf8.ValidString(topic) {
		return "", Errorf(EInvalid, "The topic is not valid UTF-8 text.")
	}
	topic = strings.Join(strings.Fields(topic), " ")
	if utf8.RuneCountInString(topic) > MaxTopicChars {
		return "", Errorf(EInvalid, "A topic has at most %d characters.", MaxTopicChars)
	}
	for _, r := range topic {
		if topicRuneRefused(r) {
			return "", Errorf(EInvalid, "The topic has a control or text-direction character it may not have.")
		}
	}
	return topic, nil
}

// topicRuneRefused: control characters, and the bidi controls and invisible
// format characters (Unicode's Cf: RLO, zero-width joiners...) that can make
// text read other than it is.
func topicRuneRefused(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
