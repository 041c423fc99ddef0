package views

import (
	"context"
	"strconv"

	"agora/chat"
)

// RetentionText says how long a room keeps its messages, given its own
// setting (days, 0 for ever, chat.RetentionServer) and the server's.
// In English: the audit log keeps it so.
func RetentionText(days, serverDays int) string {
	return RetentionTextIn(context.Background(), days, serverDays)
}

// RetentionTextIn is RetentionText in the language ctx carries.
func RetentionTextIn(ctx context.Context, days, serverDays int) string {
	switch {
	case days == chat.RetentionServer && serverDays > 0:
		return tsf(ctx, "retention.server_days", "Days", tsn(ctx, "admin.days", serverDays))
	case days == chat.RetentionServer:
		return ts(ctx, "retention.server_forever")
	case days == 0:
		return ts(ctx, "retention.forever")
	}
	return tsf(ctx, "retention.days", "Days", tsn(ctx, "admin.days", days))
}

// retentionValue is a room's retention as its form shows it: empty when it
// follows the server's.
func retentionValue(days int) string {
	if days == chat.RetentionServer {
		return ""
	}
	return strconv.Itoa(days)
}
