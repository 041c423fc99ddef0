package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"agora/chat"
)

// CreateBot stores a bot account made by owner, with its webhook and its
// first API token, all at once. The bot has no password: it cannot log in.
func (s *Store) CreateBot(ctx context.Context, username string, ownerID int64, webhookURL, secret string, tokenHash []byte) (chat.Bot, error) {
	var b chat.Bot
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := groupNameTaken(ctx, tx, username); err != nil {
			return err
		}
		u, err := scanUser(tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, password_hash, is_admin, is_guest, is_bot, created_at)
			VALUES (?, '', '', 0, 0, 1, ?) RETURNING `+userColumns, username, toDB(time.Now())))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO bots (user_id, owner_id, webhook_url, webhook_secret) VALUES (?, ?, ?, ?)",
			u.ID, ownerID, webhookURL, secret); err != nil {
			return err
		}
		t := chat.Token{UserID: u.ID, Name: "bot token"}
		if err := createToken(ctx, tx, &t, tokenHash); err != nil {
			return err
		}
		b = chat.Bot{User: u, WebhookURL: webhookURL, Secret: secret}
		return tx.QueryRowContext(ctx, "SELECT username FROM users WHERE id = ?", ownerID).Scan(&b.Owner)
	})
	if s.engine.isUniqueViolation(err) {
		return chat.Bot{}, chat.Errorf(chat.EConflict, "The username %q is taken.", username)
	}
	if err != nil {
		return chat.Bot{}, fmt.Errorf("create bot: %w", err)
	}
	return b, nil
}

var botColumns = userColumnsOfU + `,
	coalesce(o.username, ''), b.webhook_url, b.webhook_secret, b.last_delivery_at, b.last_error, b.last_error_at`

const botFrom = ` FROM bots b JOIN users u ON u.id = b.user_id LEFT JOIN users o ON o.id = b.owner_id `

func scanBot(row interface{ Scan(...any) error }) (chat.Bot, error) {
	var b chat.Bot
	var delivered, failed sql.NullInt64
	u, err := scanUser(row, &b.Owner, &b.WebhookURL, &b.Secret, &delivered, &b.LastError, &failed)
	if err != nil {
		return chat.Bot{}, err
	}
	b.User, b.LastDeliveryAt, b.LastErrorAt = u, fromNullDB(delivered), fromNullDB(failed)
	return b, nil
}

func (s *Store) queryBots(ctx context.Context, query string, args ...any) ([]chat.Bot, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.Bot
	for rows.Next() {
		b, err := scanBot(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Bots lists every bot, in the order they were made.
func (s *Store) Bots(ctx context.Context) ([]chat.Bot, error) {
	bots, err := s.queryBots(ctx, "SELECT "+botColumns+botFrom+"ORDER BY u.id")
	if err != nil {
		return nil, fmt.Errorf("bots: %w", err)
	}
	return bots, nil
}

// BotsNamed returns the bots with a webhook among the given usernames.
func (s *Store) BotsNamed(ctx context.Context, usernames []string) ([]chat.Bot, error) {
	if len(usernames) == 0 {
		return nil, nil
	}
	args := make([]any, len(usernames))
	for i, u := range usernames {
		args[i] = u
	}
	bots, err := s.queryBots(ctx, "SELECT "+botColumns+botFrom+"WHERE b.webhook_url != '' AND u.username IN (?"+
		strings.Repeat(",?", len(usernames)-1)+") ORDER BY u.id", args...)
	if err != nil {
		return nil, fmt.Errorf("bots named: %w", err)
	}
	return bots, nil
}

// BotByID returns the bot whose account has that id.
func (s *Store) BotByID(ctx context.Context, userID int64) (chat.Bot, error) {
	b, err := scanBot(s.queryRow(ctx, "SELECT "+botColumns+botFrom+"WHERE b.user_id = ?", userID))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Bot{}, chat.Errorf(chat.ENotFound, "There is no such bot.")
	}
	if err != nil {
		return chat.Bot{}, fmt.Errorf("bot by id: %w", err)
	}
	return b, nil
}

// RecordDelivery keeps the outcome of a webhook delivery for the bot's
// owner: a success at t, or the failure's reason.
func (s *Store) RecordDelivery(ctx context.Context, botID int64, t time.Time, failure string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if failure == "" {
			_, err = tx.ExecContext(ctx, "UPDATE bots SET last_delivery_at = ? WHERE user_id = ?", toDB(t), botID)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE bots SET last_error = ?, last_error_at = ? WHERE user_id = ?", failure, toDB(t), botID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}
