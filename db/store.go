// Package db stores agora's users, sessions, rooms and messages in SQLite.
//
// A Store holds two pools on one database file: a single writer connection, so
// writers queue in Go instead of fighting over SQLite's lock, and a pool of
// readers, which WAL lets run alongside the writer. Every public method owns
// its transaction; errors come back wrapped, with chat error codes where the
// cause is the caller's (not found, conflict).
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"agora/chat"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is agora's database.
type Store struct {
	write *sql.DB
	read  *sql.DB

	writes     chan *writeReq // changes to rooms, for the writer goroutine
	quit       chan struct{}
	writerDone chan struct{}
	onCommit   func([]chat.Event)

	readStmts     sync.Map  // SQL text -> *sql.Stmt on the reader pool
	insertMessage *sql.Stmt // prepared on the writer connection
	messageAuthor *sql.Stmt
	insertEvent   *sql.Stmt
	roomSeq       *sql.Stmt
	setRoomSeq    *sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

// pragmas are set in the DSN so that every pooled connection gets them, not
// only the first one.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open database: bad path %q", path)
	}
	dsn := "file:" + path + "?" + pragmas
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	s := &Store{write: write}
	if err := s.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(ON)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s.read = read
	if err := s.startWriter(ctx); err != nil {
		s.read.Close()
		s.write.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the message writer and closes both pools. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopWriter()
		s.closeErr = errors.Join(s.read.Close(), s.write.Close())
	})
	return s.closeErr
}

// prepared returns the reader pool's prepared statement for query, preparing
// it on first use. Parsing the SQL anew on every call was a third of a room
// page's time. Only constant SQL comes here, so the cache stays small.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.readStmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if old, loaded := s.readStmts.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRow runs a constant query that returns one row on the reader pool.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, query)
	if err != nil {
		// The error comes back from Scan, as it would unprepared.
		return s.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a constant query on the reader pool.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.queryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations that the database has not seen yet.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: %s has no version number", base)
		}
		if err := s.apply(ctx, version, name); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, version int, name string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	sqlText, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(sqlText)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", version, toDB(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// withTx runs fn in a write transaction and commits it if fn returns nil.
func (s *Store) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func toDB(t time.Time) int64 { return t.UnixMilli() }

func fromDB(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullDB(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromDB(ms.Int64)
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate key.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Pragma is what one pooled connection reports of the settings the DSN asks for.
type Pragma struct {
	JournalMode string
	Synchronous int
	ForeignKeys int
	BusyTimeout int
}

// Pragmas reads the settings on n reader connections held at once (so they
// are n different connections) and on the writer, for tests and diagnostics.
func (s *Store) Pragmas(ctx context.Context, n int) ([]Pragma, error) {
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
