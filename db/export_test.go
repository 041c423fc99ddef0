package db

import (
	"context"
	"io/fs"
)

// OpenFrom opens dsn with the migrations in fsys instead of the embedded
// ones, for tests that build schemas from copies of the folders.
func OpenFrom(ctx context.Context, dsn string, fsys fs.FS) (*Store, error) {
	return open(ctx, dsn, fsys)
}
