package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgres reports whether dsn names a PostgreSQL database (a postgres://
// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Redacted is dsn fit for a log: a URL's password is hidden.
func Redacted(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
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
	return &Store{dialect: postgresDialect(), write: pool, read: pool}, nil
}

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

// isRolledBack reports whether a failed commit is known to have been rolled
// back: PostgreSQL answers COMMIT of a transaction that a failed statement
// aborted with ROLLBACK.
func isRolledBack(err error) bool { return errors.Is(err, pgx.ErrTxCommitRollback) }

// isPgUniqueViolation reports whether err is PostgreSQL refusing a duplicate key.
func isPgUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
