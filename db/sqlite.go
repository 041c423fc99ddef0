package db

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"agora/chat"
)

// sqliteEngine is SQLite's part of the store: one file, a single writer
// connection (writers queue in Go instead of fighting over SQLite's lock)
// and a pool of readers beside it, search through FTS5.
type sqliteEngine struct{}

// pragmas are set in the DSN so that every pooled connection gets them, not
// only the first one.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open database: bad path %q", path)
	}
	dsn := "file:" + path + "?" + pragmas
	write, err := openStmtCaching(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	read, err := openStmtCaching(dsn + "&_pragma=query_only(ON)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &Store{engine: sqliteEngine{}, source: path, write: write, read: read}, nil
}

// openStmtCaching opens a pool of SQLite connections that keep the
// statements they run prepared (see stmtConn).
func openStmtCaching(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(stmtConnector{c}), nil
}

// stmtConnector makes connections that keep their statements (stmtConn).
type stmtConnector struct{ driver.Connector }

func (c stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	dc, ok := conn.(sqliteConn)
	if !ok {
		return conn, nil // a driver that changed its ways: nothing kept, nothing lost
	}
	return &stmtConn{sqliteConn: dc, stmts: map[string]*list.Element{}}, nil
}

// sqliteConn is what database/sql asks of a SQLite connection, and what
// stmtConn passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtConn keeps the statements its connection runs prepared, by their SQL,
// for the connection's life, as pgx does on PostgreSQL. database/sql sends a
// query outside a prepared *sql.Stmt as text every time, and SQLite parsed
// and planned it anew each time: a quarter of a link preview's CPU went
// there (the job queue's claim and finish, the writer's change and the
// message it reads back), and as much of any transaction's. At most
// maxConnStmts stay, the least recently used leaving first; a statement
// whose rows are still being read is not shared, a second use meanwhile
// runs on a statement of its own. A connection is used by one goroutine at
// a time (database/sql's rule), so none of this needs a lock.
type stmtConn struct {
	sqliteConn
	stmts map[string]*list.Element // SQL -> element of lru holding its *keptStmt
	lru   list.List                // front: the most recently used
}

// maxConnStmts bounds the statements a connection keeps: the store's SQL is
// written once in the source, but IN lists and search conditions vary.
const maxConnStmts = 128

type keptStmt struct {
	sql  string
	st   driver.Stmt
	busy bool // its rows are being read
}

// kept returns query's statement, prepared now if it was not kept, or nil
// when it is busy (its rows are open): the caller then runs the query
// unkept.
func (c *stmtConn) kept(ctx context.Context, query string) (*keptStmt, error) {
	if e, ok := c.stmts[query]; ok {
		k := e.Value.(*keptStmt)
		if k.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return k, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	k := &keptStmt{sql: query, st: st}
	c.stmts[query] = c.lru.PushFront(k)
	for c.lru.Len() > maxConnStmts {
		e := c.lru.Back()
		old := e.Value.(*keptStmt)
		if old.busy {
			break // the oldest is being read; it leaves on a later call
		}
		c.lru.Remove(e)
		delete(c.stmts, old.sql)
		old.st.Close()
	}
	return k, nil
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	k, err := c.kept(ctx, query)
	if err != nil || k == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return k.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	k, err := c.kept(ctx, query)
	if err != nil || k == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := k.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	k.busy = true
	return &keptRows{Rows: rows, k: k}, nil
}

// Close finalizes the kept statements, then closes the connection.
func (c *stmtConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*keptStmt).st.Close()
	}
	c.stmts = nil
	c.lru.Init()
	return c.sqliteConn.Close()
}

// keptRows are a kept statement's rows: it is free again once they close.
type keptRows struct {
	driver.Rows
	k *keptStmt
}

func (r *keptRows) Close() error {
	err := r.Rows.Close()
	r.k.busy = false
	return err
}

func (sqliteEngine) name() string       { return "sqlite" }
func (sqliteEngine) migrations() string { return "migrations/*.sql" }
func (sqliteEngine) shared() bool       { return false }

// One process owns the file: its one writer connection already serialises
// migrating and writing.
func (sqliteEngine) lockMigrations(context.Context, *sql.Conn) (func(), error) { return func() {}, nil }
func (sqliteEngine) lockWrites(context.Context, *sql.Tx) error                 { return nil }
func (sqliteEngine) skipLocked() string                                        { return "" }
func (sqliteEngine) lockAccounts(context.Context, *sql.Tx) error               { return nil }
func (sqliteEngine) lockJobQueue(context.Context, *sql.Tx, string) error       { return nil }
func (sqliteEngine) lockRows() string                                          { return "" }

// indexBatch indexes a batch's new messages in one statement, one FTS5
// flush, rather than by a trigger row by row (migration 0003). The index's
// content is messages_search, a message's text with its file's name (0007).
func (sqliteEngine) indexBatch(ctx context.Context, tx *sql.Tx, first, last int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (rowid, body)
		SELECT id, body FROM messages_search WHERE id BETWEEN ? AND ?`, first, last)
	return err
}

// searchText matches FTS5's index, whose content is a text message's body
// with its file's name (0007). Every word is quoted, so nothing in it is
// FTS5's syntax; a phrase is quoted whole; exclusions are NOT (...), or,
// with nothing to match, the messages the index does not find for them.
func (sqliteEngine) searchText(q chat.SearchQuery, arg func(any) string) (from, snippet, where string) {
	exclude := ftsTerms(q.Exclude, false, " OR ")
	if !q.HasText() {
		if exclude != "" {
			where = "m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH " + arg(exclude) + ")"
		}
		return "messages m", plainSnippetSQL, where
	}
	terms := slices.Clone(q.Phrases)
	for _, w := range q.Words {
		terms = append(terms, []string{w})
	}
	// The last word typed is the one that may be a prefix: put it last.
	match := ftsTerms(terms, q.Prefix && len(q.Words) > 0, " ")
	if exclude != "" {
		match = "(" + match + ") NOT (" + exclude + ")"
	}
	return "messages_fts f JOIN messages m ON m.id = f.rowid",
		"snippet(messages_fts, 0, char(2), char(3), '…', 24)",
		"messages_fts MATCH " + arg(match)
}

// ftsTerms quotes each term (a word or a phrase) for FTS5, the last as a
// prefix if asked, joined by sep.
func ftsTerms(terms [][]string, prefix bool, sep string) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `"` + strings.Join(t, " ") + `"`
	}
	if prefix && len(q) > 0 {
		q[len(q)-1] += "*"
	}
	return strings.Join(q, sep)
}

// FTS5 marks a cut with "…" itself.
func (sqliteEngine) snippet(_, s string) string { return s }

func (sqliteEngine) isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) &&
		(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// A failed COMMIT on SQLite says nothing certain about what was written:
// the writer fails the whole batch rather than write it again.
func (sqliteEngine) isRolledBack(error) bool { return false }

// Pragma is what one pooled connection reports of the settings the DSN asks for.
type Pragma struct {
	JournalMode string
	Synchronous int
	ForeignKeys int
	BusyTimeout int
}

// Pragmas reads the settings on n reader connections held at once (so they
// are n different connections) and on the writer, for tests and diagnostics.
// They are SQLite's: on PostgreSQL it is an error.
func (s *Store) Pragmas(ctx context.Context, n int) ([]Pragma, error) {
	if _, ok := s.engine.(sqliteEngine); !ok {
		return nil, fmt.Errorf("pragmas: the %s store has none", s.engine.name())
	}
	var out []Pragma
	read := func(c *sql.Conn) error {
		var p Pragma
		for _, q := range []struct {
			sql  string
			dest any
		}{
			{"PRAGMA journal_mode", &p.JournalMode},
			{"PRAGMA synchronous", &p.Synchronous},
			{"PRAGMA foreign_keys", &p.ForeignKeys},
			{"PRAGMA busy_timeout", &p.BusyTimeout},
		} {
			if err := c.QueryRowContext(ctx, q.sql).Scan(q.dest); err != nil {
				return fmt.Errorf("pragmas: %w", err)
			}
		}
		out = append(out, p)
		return nil
	}
	for _, pool := range []struct {
		db *sql.DB
		n  int
	}{{s.read, n}, {s.write, 1}} {
		conns := make([]*sql.Conn, 0, pool.n)
		for range pool.n {
			c, err := pool.db.Conn(ctx)
			if err != nil {
				return nil, fmt.Errorf("pragmas: %w", err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		for _, c := range conns {
			if err := read(c); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
