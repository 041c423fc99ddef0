package db

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"time"

	"agora/chat"
)

// Sessions lists the user's unexpired sessions, the most recently used
// first; the one whose token hash is current is marked as the asking one.
// Each is named by chat.SessionID, never by its token hash.
func (s *Store) Sessions(ctx context.Context, userID int64, current []byte) ([]chat.Session, error) {
	rows, err := s.query(ctx, `SELECT token_hash, user_agent, address, created_at, last_seen_at FROM sessions
		WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC, created_at DESC`, userID, toDB(time.Now()))
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	defer rows.Close()
	var out []chat.Session
	for rows.Next() {
		var hash []byte
		var created, seen int64
		var ses chat.Session
		if err := rows.Scan(&hash, &ses.UserAgent, &ses.Address, &created, &seen); err != nil {
			return nil, fmt.Errorf("sessions: %w", err)
		}
		ses.ID, ses.Current = chat.SessionID(hash), bytes.Equal(hash, current)
		ses.CreatedAt, ses.LastSeen = fromDB(created), fromDB(seen)
		out = append(out, ses)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	return out, nil
}

// EndSession ends the user's session named id (a chat.SessionID) and returns
// its token hash, so that its sockets can be closed. Another user's session,
// or one that is gone, is not found, and nothing changes.
func (s *Store) EndSession(ctx context.Context, userID int64, id string) ([]byte, error) {
	var found []byte
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		hashes, err := scanHashes(tx.QueryContext(ctx, "SELECT token_hash FROM sessions WHERE user_id = ?", userID))
		if err != nil {
			return err
		}
		for _, h := range hashes {
			if chat.SessionID(h) == id {
				found = h
			}
		}
		if found == nil {
			return chat.Errorf(chat.ENotFound, "There is no such session. It may have ended already.")
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", found)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("end session: %w", err)
	}
	return found, nil
}

// EndOtherSessions ends every session of the user but keep, and returns the
// token hashes of those it ended.
func (s *Store) EndOtherSessions(ctx context.Context, userID int64, keep []byte) ([][]byte, error) {
	var ended [][]byte
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		ended, err = endOthers(ctx, tx, userID, keep)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("end other sessions: %w", err)
	}
	return ended, nil
}

// SetPassword stores the user's new password hash and, in the same
// transaction, ends every session of theirs but keep: whoever knew the old
// password is signed out everywhere else. It returns the ended sessions'
// token hashes.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash string, keep []byte) ([][]byte, error) {
	var ended [][]byte
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return chat.Errorf(chat.ENotFound, "No such user.")
		}
		ended, err = endOthers(ctx, tx, userID, keep)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set password: %w", err)
	}
	return ended, nil
}

func endOthers(ctx context.Context, tx *sql.Tx, userID int64, keep []byte) ([][]byte, error) {
	if keep == nil {
		keep = []byte{} // "<> NULL" would match no row at all
	}
	return scanHashes(tx.QueryContext(ctx, "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ? RETURNING token_hash", userID, keep))
}

func scanHashes(rows *sql.Rows, err error) ([][]byte, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// HasSessionFrom reports whether the user has a session last used from
// address: a sign that a login from there is the user's own.
func (s *Store) HasSessionFrom(ctx context.Context, userID int64, address string) (bool, error) {
	var has bool
	err := s.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM sessions WHERE user_id = ? AND address = ? AND expires_at > ?)",
		userID, address, toDB(time.Now())).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("has session from: %w", err)
	}
	return has, nil
}
