package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"agora/chat"
)

// usernameSkeleton is the SQL of the users_skeleton index (migration 0014),
// word for word, so that the engine uses the index. chat.NameSkeleton
// computes the same for any name (a username's only characters that are not
// letters or digits are '-' and '_').
const usernameSkeleton = `replace(replace(replace(replace(replace(replace(replace(lower(username), '-', ''), '_', ''), '0', 'o'), '1', 'l'), 'i', 'l'), 'rn', 'm'), 'vv', 'w')`

// HasAccounts reports whether any account (not a guest) exists.
func (s *Store) HasAccounts(ctx context.Context) (bool, error) {
	var has bool
	if err := s.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM users WHERE is_guest = 0)").Scan(&has); err != nil {
		return false, fmt.Errorf("has accounts: %w", err)
	}
	return has, nil
}

// NameLooksTaken reports whether name could be mistaken for the username of
// an account other than except (0 for none): the same in any letter case, or
// the same once look-alike letters are folded and decorations dropped (any
// of chat.NameKeys); or is another account's display name in any letter case;
// or could be mistaken for a group's name in the same ways (see groups.go).
func (s *Store) NameLooksTaken(ctx context.Context, name string, except int64) (bool, error) {
	if chat.IsSystemName(name) {
		return true, nil
	}
	keys := chat.NameKeys(name)
	args := []any{except, name}
	in := "NULL"
	if len(keys) > 0 {
		marks := make([]string, len(keys))
		for i, k := range keys {
			marks[i] = "?" + strconv.Itoa(len(args)+1)
			args = append(args, k)
		}
		in = strings.Join(marks, ", ")
	}
	var n int
	err := s.queryRow(ctx, `SELECT (SELECT count(*) FROM users
		WHERE id != ?1 AND is_guest = 0 AND (`+usernameSkeleton+` IN (`+in+`) OR username = ?2 OR lower(display_name) = lower(?2)))
		+ (SELECT count(*) FROM user_groups WHERE name_key IN (`+in+`) OR lower(name) = lower(?2))`,
		args...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("name looks taken: %w", err)
	}
	return n > 0, nil
}

// TouchSession records that the session was used now, from address.
func (s *Store) TouchSession(ctx context.Context, tokenHash []byte, now time.Time, address string) error {
	_, err := s.write.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ?, address = ? WHERE token_hash = ?",
		toDB(now), address, tokenHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}
