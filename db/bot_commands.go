package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// AddBotCommand registers /name for the bot botID (a bot's account). A name
// another bot has is a conflict; that it is no built-in command is the
// caller's to check (chat.ValidateCommandName).
func (s *Store) AddBotCommand(ctx context.Context, botID int64, name, description string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var isBot bool
		if err := tx.QueryRowContext(ctx, "SELECT is_bot = 1 FROM users WHERE id = ?", botID).Scan(&isBot); errors.Is(err, sql.ErrNoRows) || (err == nil && !isBot) {
			return chat.Errorf(chat.ENotFound, "There is no such bot.")
		} else if err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO bot_commands (name, bot_id, description, created_at) VALUES (?, ?, ?, ?)",
			name, botID, description, toDB(time.Now()))
		return err
	})
	if s.engine.isUniqueViolation(err) {
		return chat.Errorf(chat.EConflict, "/%s is a command of a bot already: remove it there first, or choose another name.", name)
	}
	if err != nil && chat.ErrorCode(err) == chat.EInternal {
		return fmt.Errorf("add bot command: %w", err)
	}
	return err
}

// RemoveBotCommand unregisters /name of the bot botID.
func (s *Store) RemoveBotCommand(ctx context.Context, botID int64, name string) error {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM bot_commands WHERE name = ? AND bot_id = ?", name, botID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("remove bot command: %w", err)
	}
	if n == 0 {
		return chat.Errorf(chat.ENotFound, "That bot has no command /%s.", name)
	}
	return nil
}

// BotCommands lists the commands of bots that are not deactivated, by name.
func (s *Store) BotCommands(ctx context.Context) ([]chat.BotCommand, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT c.name, c.description, c.bot_id, u.username FROM bot_commands c JOIN users u ON u.id = c.bot_id
		WHERE u.deactivated_at IS NULL ORDER BY c.name`)
	if err != nil {
		return nil, fmt.Errorf("bot commands: %w", err)
	}
	defer rows.Close()
	var out []chat.BotCommand
	for rows.Next() {
		var c chat.BotCommand
		if err := rows.Scan(&c.Name, &c.Description, &c.BotID, &c.Bot); err != nil {
			return nil, fmt.Errorf("bot commands: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bot commands: %w", err)
	}
	return out, nil
}
