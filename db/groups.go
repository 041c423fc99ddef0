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

// Groups share the usernames' namespace: a mention of @name finds a user or
// a group, never both, so neither may be made with a name that could be
// mistaken for the other (the same folding as usernames between
// themselves, chat.NameKeys against each one's skeleton). Both checks run in
// the transaction that makes the name, under the accounts lock.

// keyArgs is the placeholders and arguments for "IN (keys)".
func keyArgs(name string) (string, []any) {
	keys := chat.NameKeys(name)
	if len(keys) == 0 {
		return "NULL", nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	return "?" + strings.Repeat(", ?", len(keys)-1), args
}

// groupNameTaken refuses a username a group's name could be mistaken for,
// and the system account's name (which SystemAccount alone takes).
func groupNameTaken(ctx context.Context, tx *sql.Tx, username string) error {
	if chat.IsSystemName(username) {
		return chat.Errorf(chat.EConflict, "%q is the server's own account (or looks like it): choose another name.", username)
	}
	in, args := keyArgs(username)
	var taken bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM user_groups WHERE name_key IN ("+in+"))", args...).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return chat.Errorf(chat.EConflict, "%q is the name of a group (or looks like one): choose another.", username)
	}
	return nil
}

// CreateGroup makes an empty group. A name that is a username or another
// group's, or could be mistaken for one, is a conflict.
func (s *Store) CreateGroup(ctx context.Context, name string, by int64) (chat.Group, error) {
	g := chat.Group{Name: name, CreatedAt: time.Now()}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAccounts(ctx, tx); err != nil {
			return err
		}
		in, args := keyArgs(name)
		var user, group bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE `+usernameSkeleton+` IN (`+in+`) OR username = ?),
			EXISTS (SELECT 1 FROM user_groups WHERE name_key IN (`+in+`) OR lower(name) = lower(?))`,
			append(append(append(args, name), args...), name)...).Scan(&user, &group)
		switch {
		case err != nil:
			return err
		case user || chat.IsSystemName(name):
			return chat.Errorf(chat.EConflict, "%q is a username (or looks like one): a group needs a name of its own.", name)
		case group:
			return chat.Errorf(chat.EConflict, "There is a group called %q (or one that looks like it) already.", name)
		}
		var creator any
		if by != 0 {
			creator = by
		}
		return tx.QueryRowContext(ctx, `INSERT INTO user_groups (name, name_key, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			name, chat.NameSkeleton(name), creator, toDB(g.CreatedAt)).Scan(&g.ID)
	})
	if s.engine.isUniqueViolation(err) {
		return chat.Group{}, chat.Errorf(chat.EConflict, "There is a group called %q (or one that looks like it) already.", name)
	}
	if err != nil {
		if chat.ErrorCode(err) != chat.EInternal {
			return chat.Group{}, err
		}
		return chat.Group{}, fmt.Errorf("create group: %w", err)
	}
	return g, nil
}

// Groups returns every group with its members' usernames, by name.
func (s *Store) Groups(ctx context.Context) ([]chat.Group, error) {
	rows, err := s.query(ctx, `SELECT g.id, g.name, g.created_at, coalesce(u.username, '')
		FROM user_groups g LEFT JOIN user_group_members gm ON gm.group_id = g.id LEFT JOIN users u ON u.id = gm.user_id
		ORDER BY lower(g.name), g.id, lower(u.username)`)
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	defer rows.Close()
	var out []chat.Group
	for rows.Next() {
		var g chat.Group
		var created int64
		var member string
		if err := rows.Scan(&g.ID, &g.Name, &created, &member); err != nil {
			return nil, fmt.Errorf("groups: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ID != g.ID {
			g.CreatedAt = fromDB(created)
			out = append(out, g)
		}
		if member != "" {
			last := &out[len(out)-1]
			last.Members = append(last.Members, member)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	return out, nil
}

// GroupChange is what adding or removing a group's member found: the
// group's name as it was made, the account, and whether anything changed.
type GroupChange struct {
	Group   string
	User    chat.User
	Changed bool
}

// groupAndUser finds a group by name and an account by username, in tx.
func groupAndUser(ctx context.Context, tx *sql.Tx, group, username string) (groupID int64, ch GroupChange, err error) {
	err = tx.QueryRowContext(ctx, "SELECT id, name FROM user_groups WHERE lower(name) = lower(?)", group).Scan(&groupID, &ch.Group)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ch, chat.Errorf(chat.ENotFound, "There is no group called %q.", group)
	}
	if err != nil {
		return 0, ch, err
	}
	ch.User, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE username = ?", username))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ch, chat.Errorf(chat.ENotFound, "No user is called %q.", username)
	}
	return groupID, ch, err
}

// AddGroupMember adds the account to the group; Changed is false when it
// was a member already. Guests are not kept in groups: their visit ends.
func (s *Store) AddGroupMember(ctx context.Context, group, username string) (GroupChange, error) {
	var ch GroupChange
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		id, found, err := groupAndUser(ctx, tx, group, username)
		ch = found
		if err != nil {
			return err
		}
		if ch.User.IsGuest {
			return chat.Errorf(chat.EInvalid, "%s is a guest: guests are not kept in groups.", ch.User.Username)
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO user_group_members (group_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			id, ch.User.ID, toDB(time.Now()))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ch.Changed = n > 0
		return err
	})
	return ch, groupErr("add group member", err)
}

// RemoveGroupMember takes the account out of the group; Changed is false
// when it was not a member.
func (s *Store) RemoveGroupMember(ctx context.Context, group, username string) (GroupChange, error) {
	var ch GroupChange
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		id, found, err := groupAndUser(ctx, tx, group, username)
		ch = found
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM user_group_members WHERE group_id = ? AND user_id = ?", id, ch.User.ID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ch.Changed = n > 0
		return err
	})
	return ch, groupErr("remove group member", err)
}

// groupErr passes on a refusal as it is and wraps anything else.
func groupErr(what string, err error) error {
	if err == nil || chat.ErrorCode(err) != chat.EInternal {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// GroupMentions returns which of names (lower-case) are groups, and those
// groups' members, each with whether they are a member of the room: the
// handler asks the access policy which of them can read it.
func (s *Store) GroupMentions(ctx context.Context, roomID int64, names []string) (groups []string, members []chat.GroupMember, err error) {
	if len(names) == 0 {
		return nil, nil, nil
	}
	args := make([]any, 0, len(names)+1)
	for _, n := range names {
		args = append(args, n)
	}
	in := "?" + strings.Repeat(", ?", len(names)-1)
	// Most mentions are of users: one small query finds no group.
	rows, err := s.query(ctx, "SELECT lower(name) FROM user_groups WHERE lower(name) IN ("+in+") ORDER BY lower(name)", args...)
	if err != nil {
		return nil, nil, fmt.Errorf("group mentions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, nil, fmt.Errorf("group mentions: %w", err)
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil || len(groups) == 0 {
		return nil, nil, err
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT `+userColumnsOfU+`, lower(g.name),
		EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = ? AND m.user_id = u.id)
		FROM user_groups g JOIN user_group_members gm ON gm.group_id = g.id JOIN users u ON u.id = gm.user_id
		WHERE lower(g.name) IN (`+in+`)
		ORDER BY lower(g.name), u.id`, append([]any{roomID}, args...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("group mentions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var gm chat.GroupMember
		if gm.User, err = scanUser(rows, &gm.Group, &gm.Member); err != nil {
			return nil, nil, fmt.Errorf("group mentions: %w", err)
		}
		members = append(members, gm)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("group mentions: %w", err)
	}
	return groups, members, nil
}

// UserGroups returns the lower-case names of the groups the user is in.
func (s *Store) UserGroups(ctx context.Context, userID int64) ([]string, error) {
	rows, err := s.query(ctx, `SELECT lower(g.name) FROM user_groups g JOIN user_group_members gm ON gm.group_id = g.id
		WHERE gm.user_id = ? ORDER BY lower(g.name)`, userID)
	if err != nil {
		return nil, fmt.Errorf("user groups: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("user groups: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("user groups: %w", err)
	}
	return out, nil
}
