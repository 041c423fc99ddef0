package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"time"
)

// OpenFrom opens dsn with the migrations in fsys instead of the embedded
// ones, for tests that build schemas from copies of the folders.
func OpenFrom(ctx context.Context, dsn string, fsys fs.FS) (*Store, error) {
	return open(ctx, dsn, fsys)
}

// Backdate moves a message's or a file's creation to at, for tests of what
// is counted by day: the store itself only ever writes now.
func (s *Store) Backdate(ctx context.Context, table string, id int64, at time.Time) error {
	if table != "messages" && table != "files" {
		return fmt.Errorf("backdate: no table %q", table)
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET created_at = ? WHERE id = ?", toDB(at), id)
		return err
	})
}
