// Package db stores agora's users, sessions, rooms and messages in SQLite
// (the default, one file) or PostgreSQL (shared by the nodes of a cluster),
// behind one API and one SQL. What differs between the engines (opening,
// error classification, locks, search) is an engine, one file each:
// sqlite.go and postgres.go.
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
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"agora/chat"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Store is agora's database.
type Store struct {
	engine engine
	source string // the database's file or URL, fit for a log
	write  *sql.DB
	read   *sql.DB

	writes     chan *writeReq // changes to rooms, for the writer goroutine
	quit       chan struct{}
	writerDone chan struct{}
	onCommit   func([]chat.Event)
	onUser     func(chat.UserEvent)

	readStmts     sync.Map  // SQL text -> *sql.Stmt on the reader pool
	insertMessage *sql.Stmt // prepared on the writer connection
	messageAuthor *sql.Stmt
	insertEvent   *sql.Stmt
	roomSeq       *sql.Stmt
	setRoomSeq    *sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

// engine is what differs between SQLite (sqlite.go) and PostgreSQL
// (postgres.go); all other SQL in db is written once for both (see
// postgres.go for how).
type engine interface {
	// name is "sqlite" or "postgres".
	name() string
	// migrations is the glob of the engine's numbered migrations.
	migrations() string
	// shared reports whether the nodes of a cluster can share the database.
	shared() bool
	// lockMigrations holds off other nodes migrating the same database
	// until unlock, so that nodes that start at once migrate it once.
	lockMigrations(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// lockWrites, run first in each of the writer's transactions, holds off
	// other nodes' writers until it commits: the writer reads each room's
	// seq once per batch, and ids, seqs and event ids rise in commit order
	// only if no other writer takes one meanwhile.
	lockWrites(ctx context.Context, tx *sql.Tx) error
	// lockAccounts, run first in a transaction that makes an account, makes
	// such transactions take turns, so "no account exists yet" (the first is
	// the admin, and is made in every signup mode) stays true until the
	// insert commits.
	lockAccounts(ctx context.Context, tx *sql.Tx) error
	// lockRows ends a SELECT in a transaction that decides a write by the
	// rows it reads (the last active admin): " FOR UPDATE" holds other
	// transactions off them until it commits; "" where one writer already
	// runs one transaction at a time.
	lockRows() string
	// indexBatch indexes the new messages with ids in [first, last] for
	// search, where the index does not follow the table by itself.
	indexBatch(ctx context.Context, tx *sql.Tx, first, last int64) error
	// searchText is how the engine finds messages by their words: the
	// FROM clause (naming the message m), the snippet column and a
	// condition, for q's words, phrases and exclusions; arg adds an
	// argument and gives its placeholder. A q without words or phrases
	// gives a snippet of the body and at most the exclusions' condition.
	searchText(q chat.SearchQuery, arg func(any) string) (from, snippet, where string)
	// snippet finishes a snippet the engine made for body.
	snippet(body, s string) string
	// isUniqueViolation reports whether err is the engine refusing a
	// duplicate key.
	isUniqueViolation(err error) bool
	// isRolledBack reports whether a failed commit is known to have been
	// rolled back, so that writing its requests again is safe.
	isRolledBack(err error) bool
	// skipLocked ends the query that picks the job a runner claims, so that
	// runners on one PostgreSQL pass over each other's rows instead of
	// waiting for them; SQLite's single writer claims one at a time anyway.
	skipLocked() string
	// lockJobQueue, in a transaction that claims a job of queue, makes such
	// claims take turns (until commit), so that a claim can see whether
	// another took a job of that queue; SQLite's single writer takes turns
	// anyway.
	lockJobQueue(ctx context.Context, tx *sql.Tx, queue string) error
}

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
	openEngine := openSQLite
	if isPostgresURL(dsn) {
		openEngine = openPostgres
	}
	s, err := openEngine(ctx, dsn)
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

// Engine is "sqlite" or "postgres".
func (s *Store) Engine() string { return s.engine.name() }

// Shared reports whether the nodes of a cluster can share this database.
func (s *Store) Shared() bool { return s.engine.shared() }

// Source is the database's file, or its URL with the password hidden: fit
// for a log.
func (s *Store) Source() string { return s.source }

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
// engine's migration lock meanwhile, so nodes that start at once on one
// database migrate it once.
func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	unlock, err := s.engine.lockMigrations(ctx, conn)
	if err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer unlock()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(fsys, s.engine.migrations())
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
			return fmt.Errorf("migrate %s %s: %w", s.engine.name(), base, err)
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
