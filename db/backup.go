package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of the SQLite database at source to dest,
// while agora may be writing to it: VACUUM INTO reads one snapshot on a
// connection of its own (WAL lets the server write meanwhile) and writes a
// compact copy. The copy is made beside dest, checked, synced and renamed
// into place, so dest is either whole or absent. dest must not exist.
func Backup(ctx context.Context, source, dest string) error {
	if source == "" || dest == "" || strings.ContainsAny(source, "?#") {
		return fmt.Errorf("backup: bad path")
	}
	if _, err := os.Stat(source); err != nil {
		// Opening a missing file would make an empty database.
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // VACUUM INTO makes the file itself; only the name was wanted
	defer os.Remove(tmpPath)

	// Not query_only: SQLite counts VACUUM INTO as a write, though the
	// source is only read.
	src, err := sql.Open("sqlite", "file:"+source+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", source, err)
	}
	defer src.Close()
	var version int
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("backup: %s is not an agora database: %w", source, err)
	}
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return fmt.Errorf("backup: copy %s: %w", source, err)
	}

	if err := check(ctx, tmpPath); err != nil {
		return err
	}
	f, err := os.Open(tmpPath)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("backup: sync: %w", err)
	}
	if err := os.Link(tmpPath, dest); err != nil {
		// A link, not a rename: it fails rather than replace a dest made meanwhile.
		return fmt.Errorf("backup: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// check runs SQLite's integrity check on the copy.
func check(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(ON)")
	if err != nil {
		return fmt.Errorf("backup: check copy: %w", err)
	}
	defer c.Close()
	var result string
	if err := c.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&result); err != nil {
		return fmt.Errorf("backup: check copy: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("backup: the copy failed its check: %s", result)
	}
	return nil
}
