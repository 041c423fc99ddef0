package chat

import (
	"strconv"
	"strings"
)

// Retention: messages (and their files) older than a number of days are
// deleted, by the server's setting or a room's own.
const (
	// RetentionServer is a room that follows the server's setting.
	RetentionServer = -1
	// MaxRetentionDays bounds a retention: a hundred years is "for ever"
	// already, and a larger number is a typo.
	MaxRetentionDays = 36500
)

// ValidateRetention checks a number of days messages are kept: 0 keeps
// them for ever, else 1 to MaxRetentionDays.
func ValidateRetention(days int) error {
	if days < 0 || days > MaxRetentionDays {
		return Errorf(EInvalid, "Retention is a number of days from 1 to %d, or 0 to keep messages for ever.", MaxRetentionDays)
	}
	return nil
}

// ParseRoomRetention reads a room's retention as an admin types it: empty
// follows the server's setting (RetentionServer), else as ValidateRetention.
func ParseRoomRetention(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return RetentionServer, nil
	}
	days, err := strconv.Atoi(s)
	if err != nil {
		return 0, Errorf(EInvalid, "Retention is a number of days from 1 to %d, 0 to keep messages for ever, or empty for the server's setting.", MaxRetentionDays)
	}
	return days, ValidateRetention(days)
}
