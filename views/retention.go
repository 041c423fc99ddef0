package views

import (
	"strconv"

	"agora/chat"
)

// RetentionText says how long a room keeps its messages, given its own
// setting (days, 0 for ever, chat.RetentionServer) and the server's.
func RetentionText(days, serverDays int) string {
	switch {
	case days == chat.RetentionServer && serverDays > 0:
		return "follows the server's setting: " + daysText(serverDays)
	case days == chat.RetentionServer:
		return "follows the server's setting: for ever"
	case days == 0:
		return "keeps messages for ever"
	}
	return "keeps messages for " + daysText(days)
}

func daysText(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// retentionValue is a room's retention as its form shows it: empty when it
// follows the server's.
func retentionValue(days int) string {
	if days == chat.RetentionServer {
		return ""
	}
	return strconv.Itoa(days)
}
