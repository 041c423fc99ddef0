// Package db stores agora's users, sessions, rooms and messages in SQLite
// (the default, one file) or PostgreSQL (shared by the nodes of a cluster),
// behind one API and, but for a dialect of queries per engine, one SQL.
//
// On SQLite a Store holds two pools on one database file: a single writer
// connection, so writers queue in Go instead of fighting over SQLite's lock,
// and a pool of readers, which WAL lets run alongside the writer. On
// PostgreSQL one pool serves both. Every public method owns its transaction;
// errors come back wrapped, with chat error codes where the cause is the
// caller's (not found, conflict).
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
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

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Store is agora's database.
type Store struct {
	dialect *dialect
	write   *sql.DB
	read    *sql.DB

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

// Open opens the database dsn names and brings its schema up to date: a
// postgres:// URL is a PostgreSQL database, anything else the path of a
// SQLite file (created if needed).
func Open(ctx context.Context, dsn string) (*Store, error) {
	return open(ctx, dsn, migrations)
}

// open opens dsn with the migrations in fsys, laid out as the embedded ones
// (migrations/*.sql, migrations/postgres/*.sql): the parity test builds
// schemas from copies of the folders.
func open(ctx context.Context, dsn string, fsys fs.FS) (*Store, error) {
	var s *Store
	var err error
	if IsPostgres(dsn) {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, fsys); err != nil {
		s.closePools()
		return nil, err
	}
	if err := s.startWriter(ctx); err != nil {
		s.closePools()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
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
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(ON)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &Store{dialect: sqliteDialect(), write: write, read: read}, nil
}

// Engine is "sqlite" or "postgres".
func (s *Store) Engine() string { return s.dialect.name }

func (s *Store) closePools() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// Close stops the message writer and closes both pools. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopWriter()
		s.closeErr = s.closePools()
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

// migrate applies, in order and each in its own transaction, the engine's
// embedded migrations that the database has not seen yet. It holds the
// dialect's migration lock meanwhile, so nodes that start at once on one
// database migrate it once.
func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect.lockMigrations != "" {
		if _, err := conn.ExecContext(ctx, s.dialect.lockMigrations); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), s.dialect.unlockMigrations)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(fsys, s.dialect.migrations)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: %s has no version number", base)
		}
		if err := s.apply(ctx, conn, fsys, version, name); err != nil {
			return fmt.Errorf("migrate %s %s: %w", s.dialect.name, base, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, conn *sql.Conn, fsys fs.FS, version int, name string) error {
	tx, err := conn.BeginTx(ctx, nil)
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
	sqlText, err := fs.ReadFile(fsys, name)
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

// isUniqueViolation reports whether err is the engine refusing a duplicate key.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return isPgUniqueViolation(err)
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
// They are SQLite's: on PostgreSQL it is an error.
func (s *Store) Pragmas(ctx context.Context, n int) ([]Pragma, error) {
	if s.dialect.name != "sqlite" {
		return nil, fmt.Errorf("pragmas: the %s store has none", s.dialect.name)
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
