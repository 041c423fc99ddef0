package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"agora/chat"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresEngine is PostgreSQL's part of the store: one pool shared by
// readers and the writer, shared by the nodes of a cluster (advisory locks
// keep their migrations and writes in order), search through tsvector
// columns the migrations generate.
//
// The rest of the store's SQL is written once for both engines:
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
type postgresEngine struct{}

// isPostgresURL reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func isPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// redacted is a PostgreSQL URL fit for a log: its password is hidden.
func redacted(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unreadable URL)"
	}
	return u.Redacted()
}

// openPostgres connects to PostgreSQL through pgx's database/sql driver. One
// pool serves readers and the message writer alike: PostgreSQL has no single
// writer lock to queue for.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message can repeat the URL, password and all.
		return nil, errors.New("open database: the PostgreSQL URL is not valid")
	}
	pool := sql.OpenDB(&pgConnector{Connector: stdlib.GetConnector(*cfg)})
	n := max(16, runtime.GOMAXPROCS(0)*4)
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &Store{engine: postgresEngine{}, source: redacted(dsn), write: pool, read: pool}, nil
}

func (postgresEngine) name() string       { return "postgres" }
func (postgresEngine) migrations() string { return "migrations/postgres/*.sql" }
func (postgresEngine) shared() bool       { return true }
func (postgresEngine) skipLocked() string { return " FOR UPDATE SKIP LOCKED" }

// The advisory locks' keys are agora's own: 7461726 is 'agora' in a way.
const (
	migrationLock = 7461726
	writeLock     = 7461727
	accountLock   = 7461728
	jobQueueLock  = 7461729 // with the queue's hash: a lock per queue
)

func (postgresEngine) lockMigrations(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLock); err != nil {
		return nil, err
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLock)
	}, nil
}

// lockWrites takes a lock that the transaction's end releases.
func (postgresEngine) lockWrites(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", writeLock)
	return err
}

// lockAccounts takes a lock that the transaction's end releases.
func (postgresEngine) lockAccounts(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", accountLock)
	return err
}

// lockJobQueue takes the queue's lock, which the transaction's end releases.
func (postgresEngine) lockJobQueue(ctx context.Context, tx *sql.Tx, queue string) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", jobQueueLock, queue)
	return err
}

// lockRows locks the rows a deciding SELECT reads until the transaction ends.
func (postgresEngine) lockRows() string { return " FOR UPDATE" }

// The generated tsvector columns follow the tables by themselves.
func (postgresEngine) indexBatch(context.Context, *sql.Tx, int64, int64) error { return nil }

// searchText matches messages.search, a generated tsvector (see the
// migrations) with the words FTS5's unicode61 tokenizer would find, accents
// removed; or the attached file's name, indexed likewise. Every word is
// quoted, so nothing in it is tsquery syntax; a phrase is its words joined
// by <->.
func (postgresEngine) searchText(q chat.SearchQuery, arg func(any) string) (from, snippet, where string) {
	from, snippet = "messages m LEFT JOIN files f ON f.message_id = m.id", plainSnippetSQL
	var conds []string
	if q.HasText() {
		terms := slices.Clone(q.Phrases)
		for _, w := range q.Words {
			terms = append(terms, []string{w})
		}
		p := arg(tsTerms(terms, q.Prefix && len(q.Words) > 0, " & "))
		conds = append(conds, "(m.search @@ to_tsquery('agora_search', "+p+") OR f.search @@ to_tsquery('agora_search', "+p+"))")
		snippet = `ts_headline('agora_search', m.body || coalesce(' ' || f.name, ''), to_tsquery('agora_search', ` + p + `),
			'StartSel=` + chat.SnippetStart + `, StopSel=` + chat.SnippetEnd + `, MaxWords=24, MinWords=12, ShortWord=0')`
	}
	if len(q.Exclude) > 0 {
		n := arg(tsTerms(q.Exclude, false, " | "))
		conds = append(conds, "NOT (coalesce(m.search @@ to_tsquery('agora_search', "+n+"), false) OR coalesce(f.search @@ to_tsquery('agora_search', "+n+"), false))")
	}
	return from, snippet, strings.Join(conds, " AND ")
}

// tsTerms quotes each term (a word, or a phrase's words joined by <->) for
// to_tsquery, the last as a prefix if asked, joined by op.
func tsTerms(terms [][]string, prefix bool, op string) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		ws := make([]string, len(t))
		for j, w := range t {
			ws[j] = "'" + w + "'"
		}
		q[i] = "(" + strings.Join(ws, " <-> ") + ")"
	}
	if prefix && len(q) > 0 {
		last := terms[len(terms)-1]
		q[len(q)-1] = "'" + last[0] + "':*"
	}
	return strings.Join(q, op)
}

// snippet marks a cut with "…", as FTS5 does: ts_headline cuts without
// saying so.
func (postgresEngine) snippet(body, s string) string {
	plain := strings.NewReplacer(chat.SnippetStart, "", chat.SnippetEnd, "").Replace(s)
	if plain != "" && !strings.HasPrefix(body, plain) {
		s = "…" + s
	}
	if plain != "" && !strings.HasSuffix(body, plain) {
		s += "…"
	}
	return s
}

// isUniqueViolation reports whether err is PostgreSQL refusing a duplicate key.
func (postgresEngine) isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isRolledBack: PostgreSQL answers COMMIT of a transaction that a failed
// statement aborted with ROLLBACK.
func (postgresEngine) isRolledBack(err error) bool { return errors.Is(err, pgx.ErrTxCommitRollback) }

// pgConnector makes connections that run the store's SQL, written with
// SQLite's placeholders and 0/1 booleans, on PostgreSQL unchanged.
type pgConnector struct {
	driver.Connector
	rebound sync.Map // SQL as written -> SQL for PostgreSQL
}

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn), c: c}, nil
}

func (c *pgConnector) rebind(query string) string {
	if q, ok := c.rebound.Load(query); ok {
		return q.(string)
	}
	q := rebind(query)
	c.rebound.Store(query, q)
	return q
}

// pgConn is pgx's connection with the store's SQL translated on the way in.
type pgConn struct {
	*stdlib.Conn
	c *pgConnector
}

func (p *pgConn) Prepare(query string) (driver.Stmt, error) {
	return p.Conn.Prepare(p.c.rebind(query))
}

func (p *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return p.Conn.PrepareContext(ctx, p.c.rebind(query))
}

func (p *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return p.Conn.ExecContext(ctx, p.c.rebind(query), args)
}

func (p *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return p.Conn.QueryContext(ctx, p.c.rebind(query), args)
}

// CheckNamedValue passes a Go bool as 0 or 1, as SQLite stores it, for the
// INTEGER columns that hold booleans on both engines.
func (p *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
	}
	return nil
}

// rebind turns SQLite's placeholders into PostgreSQL's: ?N becomes $N and
// each bare ? the next number. Quoted strings, quoted names and comments
// are copied as they are.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+1])
			i += end
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
