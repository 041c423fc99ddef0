package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// Web Push subscriptions (migration 0021).

// maxPushSubscriptions is how many browsers one account may have
// subscribed: a new one beyond it replaces the oldest.
const maxPushSubscriptions = 20

// AddPushSubscription keeps a browser's subscription for the user. An
// endpoint already kept (the same browser again, or a browser another
// account used before on the same device) becomes this user's with its new
// keys.
func (s *Store) AddPushSubscription(ctx context.Context, userID int64, sub chat.PushSubscription) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
			ON CONFLICT (endpoint) DO UPDATE SET user_id = ?1, p256dh = ?3, auth = ?4, created_at = ?5`,
			userID, sub.Endpoint, sub.P256dh, sub.Auth, toDB(time.Now())); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = ?1 AND id NOT IN
			(SELECT id FROM push_subscriptions WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2)`, userID, maxPushSubscriptions)
		return err
	})
	if err != nil {
		return fmt.Errorf("add push subscription: %w", err)
	}
	return nil
}

// DeletePushSubscription forgets the user's subscription at endpoint;
// ENotFound when the user has none there.
func (s *Store) DeletePushSubscription(ctx context.Context, userID int64, endpoint string) error {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?", userID, endpoint)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete push subscription: %w", err)
	}
	if n == 0 {
		return chat.Errorf(chat.ENotFound, "This browser is not subscribed.")
	}
	return nil
}

// DropPushSubscription forgets a subscription its push service no longer
// knows (it answered 404 or 410).
func (s *Store) DropPushSubscription(ctx context.Context, id int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop push subscription %d: %w", id, err)
	}
	return nil
}

const pushColumns = "p.id, p.user_id, p.endpoint, p.p256dh, p.auth"

func scanPush(row interface{ Scan(...any) error }) (chat.PushSubscription, error) {
	var p chat.PushSubscription
	err := row.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth)
	return p, err
}

// PushSubscriptionByID returns one subscription; ENotFound once it is gone.
func (s *Store) PushSubscriptionByID(ctx context.Context, id int64) (chat.PushSubscription, error) {
	p, err := scanPush(s.queryRow(ctx, "SELECT "+pushColumns+" FROM push_subscriptions p WHERE p.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, chat.Errorf(chat.ENotFound, "No such push subscription.")
	}
	if err != nil {
		return p, fmt.Errorf("push subscription %d: %w", id, err)
	}
	return p, nil
}

// PushSubscriptions returns the user's subscriptions, newest first.
func (s *Store) PushSubscriptions(ctx context.Context, userID int64) ([]chat.PushSubscription, error) {
	rows, err := s.query(ctx, "SELECT "+pushColumns+" FROM push_subscriptions p WHERE p.user_id = ? ORDER BY p.created_at DESC, p.id DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	defer rows.Close()
	var out []chat.PushSubscription
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return nil, fmt.Errorf("push subscriptions: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PushTargets returns the subscriptions a new message by author in a room
// is pushed to, with their users' settings: members with push on and the
// room not at nothing, for whom every message of a room at all counts, and
// else a direct conversation's or a mention of them.
func (s *Store) PushTargets(ctx context.Context, roomID, authorID int64, dm bool, mentions []string) ([]chat.PushSubscription, map[int64]chat.NotifySettings, error) {
	cond, args := concerns(roomID, authorID, dm, mentions)
	rows, err := s.read.QueryContext(ctx, `SELECT `+pushColumns+`, coalesce(n.quiet_start, -1), coalesce(n.quiet_end, -1), coalesce(n.zone, '')
		FROM memberships mb JOIN users u ON u.id = mb.user_id JOIN push_subscriptions p ON p.user_id = u.id
		LEFT JOIN notify_settings n ON n.user_id = u.id
		WHERE mb.room_id = ?1 AND u.id != ?2 AND u.deactivated_at IS NULL AND u.is_bot = 0
			AND coalesce(n.push, 'on') = 'on' AND mb.notify != 'nothing' AND (`+cond+`)
		ORDER BY p.id`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("push targets: %w", err)
	}
	defer rows.Close()
	var subs []chat.PushSubscription
	settings := map[int64]chat.NotifySettings{}
	for rows.Next() {
		var p chat.PushSubscription
		n := chat.DefaultNotifySettings
		if err := rows.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth, &n.QuietStart, &n.QuietEnd, &n.Zone); err != nil {
			return nil, nil, fmt.Errorf("push targets: %w", err)
		}
		subs = append(subs, p)
		settings[p.UserID] = n
	}
	return subs, settings, rows.Err()
}
