package db

import (
	"strings"

	"agora/chat"
)

// A dialect is what differs between the engines, in one place per engine
// (sqliteDialect, postgresDialect); all other SQL is shared. The shared SQL
// is written for both:
//   - placeholders are SQLite's ? and ?N; on PostgreSQL the connection turns
//     them into $N (see rebind);
//   - booleans are INTEGER 0 and 1 on both; a Go bool argument arrives as 0
//     or 1, so compare it (`? = 1`) rather than use it as a condition, and
//     store a condition with CAST(... AS INTEGER);
//   - a parameter whose type nothing around it decides (a SELECT list in
//     INSERT ... SELECT) gets a CAST;
//   - a subquery in FROM has an alias; ON CONFLICT DO NOTHING, RETURNING,
//     lower() and coalesce() work on both; scalar max()/min() do not
//     (PostgreSQL calls them greatest/least).
//
// Usernames compare case-insensitively on both with a plain `=`: SQLite's
// column is COLLATE NOCASE, PostgreSQL's is CITEXT.
type dialect struct {
	name string
	// migrations is the glob of the engine's numbered migrations in the
	// embedded files.
	migrations string
	// lockMigrations and unlockMigrations bracket migrating on one
	// connection, so that nodes that start together migrate once.
	lockMigrations, unlockMigrations string
	// lockWrites, run first in each of the writer's transactions, holds off
	// other nodes' writers until it commits: the writer reads each room's
	// seq once per batch, and ids, seqs and event ids rise in commit order
	// only if no other writer takes one meanwhile. "" where one writer
	// already serialises all writes.
	lockWrites string
	// indexBatch indexes the new messages with ids in [?, ?] for search; ""
	// where the index follows the table by itself.
	indexBatch string
	// search finds messages: ?1 the reader's user id, ?2 the text query from
	// searchQuery, ?3 the limit; the columns are messageColumns,
	// roomColumns, the snippet and the direct conversation's peer.
	search      string
	searchQuery func(words []string) string
	// snippet finishes a snippet the engine made for body.
	snippet func(body, snippet string) string
}

// searchRest is the part of both engines' search after the text match.
const searchRest = ` JOIN users u ON u.id = m.author_id
		JOIN rooms r ON r.id = m.room_id
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = coalesce(
			(SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1), ?1)
		WHERE %s AND m.deleted_at IS NULL
			AND ((r.kind = 'room' AND r.private = 0)
				OR EXISTS (SELECT 1 FROM memberships mb WHERE mb.room_id = r.id AND mb.user_id = ?1))
		ORDER BY m.id DESC LIMIT ?3`

func sqliteDialect() *dialect {
	return &dialect{
		name:       "sqlite",
		migrations: "migrations/*.sql",
		// messages_search is a message's text with its file's name (0007).
		indexBatch: `INSERT INTO messages_fts (rowid, body)
			SELECT id, body FROM messages_search WHERE id BETWEEN ? AND ?`,
		search: `SELECT ` + messageColumns + `, ` + roomColumns + `,
				snippet(messages_fts, 0, char(2), char(3), '…', 24),
				coalesce(p.id, 0), coalesce(p.username, ''), coalesce(p.display_name, '')
			FROM messages_fts f
			JOIN messages m ON m.id = f.rowid` + strings.Replace(searchRest, "%s", "messages_fts MATCH ?2", 1),
		// FTS5: each word quoted (so nothing in it is syntax), the last a prefix.
		searchQuery: func(words []string) string {
			q := make([]string, len(words))
			for i, w := range words {
				q[i] = `"` + w + `"`
			}
			return strings.Join(q, " ") + "*"
		},
		snippet: func(_, s string) string { return s },
	}
}

func postgresDialect() *dialect {
	return &dialect{
		name:             "postgres",
		migrations:       "migrations/postgres/*.sql",
		lockMigrations:   "SELECT pg_advisory_lock(7461726) -- 'agora'",
		unlockMigrations: "SELECT pg_advisory_unlock(7461726)",
		lockWrites:       "SELECT pg_advisory_xact_lock(7461727)",
		// messages.search is a generated tsvector (see the migrations) with
		// the words FTS5's unicode61 tokenizer would find, accents removed.
		search: `SELECT ` + messageColumns + `, ` + roomColumns + `,
				ts_headline('agora_search', m.body || coalesce(' ' || f.name, ''), to_tsquery('agora_search', ?2),
					'StartSel=` + chat.SnippetStart + `, StopSel=` + chat.SnippetEnd + `, MaxWords=24, MinWords=12, ShortWord=0'),
				coalesce(p.id, 0), coalesce(p.username, ''), coalesce(p.display_name, '')
			FROM messages m LEFT JOIN files f ON f.message_id = m.id` + strings.Replace(searchRest, "%s",
			// The text or the attached file's name (each indexed) has every word.
			"(m.search @@ to_tsquery('agora_search', ?2) OR f.search @@ to_tsquery('agora_search', ?2))", 1),
		// tsquery: each word quoted, all of them required, the last a prefix.
		searchQuery: func(words []string) string {
			q := make([]string, len(words))
			for i, w := range words {
				q[i] = "'" + w + "'"
			}
			return strings.Join(q, " & ") + ":*"
		},
		// ts_headline cuts without saying so; FTS5 marks a cut with "…".
		snippet: func(body, s string) string {
			plain := strings.NewReplacer(chat.SnippetStart, "", chat.SnippetEnd, "").Replace(s)
			if plain != "" && !strings.HasPrefix(body, plain) {
				s = "…" + s
			}
			if plain != "" && !strings.HasSuffix(body, plain) {
				s += "…"
			}
			return s
		},
	}
}
