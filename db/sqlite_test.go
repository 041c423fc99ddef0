package db

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// The SQLite connections keep their statements (stmtConn): a query run
// again while its first run's rows are still being read, more distinct
// queries than a connection keeps, a statement that failed, and the schema
// changing under a kept statement all answer as they would unkept.
func TestSQLiteConnectionsKeepStatementsAndStayCorrect(t *testing.T) {
	ctx := context.Background()
	db, err := openStmtCaching("file:" + filepath.Join(t.TempDir(), "kept.db") + "?" + pragmas)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: every query below shares its statements
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The same SQL inside the loop over its own rows, in one transaction.
	const q = "SELECT id, v FROM t WHERE id >= ? ORDER BY id"
	rows, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var outer, inner []string
	for rows.Next() {
		var id int
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, v)
		var first string
		if err := tx.QueryRowContext(ctx, q, id).Scan(new(int), &first); err != nil {
			t.Fatalf("the same query while its rows are open: %v", err)
		}
		inner = append(inner, first)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if want := "[v1 v2 v3 v4 v5]"; fmt.Sprint(outer) != want || fmt.Sprint(inner) != want {
		t.Fatalf("outer %v, inner %v, want %s for both", outer, inner, want)
	}
	// A constraint refused on a kept statement leaves it fit for the next run.
	for range 2 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", 1, "again"); err == nil {
			t.Fatal("a duplicate id was stored")
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", 6, "v6"); err != nil {
		t.Fatalf("after a refused insert: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// More distinct statements than a connection keeps, then the first again.
	for i := range maxConnStmts + 10 {
		var n int
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) + %d FROM t", i)).Scan(&n); err != nil || n != 6+i {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) + 0 FROM t").Scan(&n); err != nil || n != 6 {
		t.Fatalf("a statement let go and prepared again: %d, %v", n, err)
	}
	// The schema changes under a kept statement.
	const all = "SELECT * FROM t ORDER BY id LIMIT 1"
	cols := func() []string {
		t.Helper()
		rows, err := db.QueryContext(ctx, all)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := cols(); len(c) != 2 {
		t.Fatalf("columns %v", c)
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT 'w'"); err != nil {
		t.Fatal(err)
	}
	if c := cols(); len(c) != 3 {
		t.Fatalf("columns after ALTER TABLE %v: the kept statement was not prepared again", c)
	}
	var w string
	if err := db.QueryRowContext(ctx, "SELECT w FROM t WHERE id = ?", 6).Scan(&w); err != nil || w != "w" {
		t.Fatalf("new column: %q, %v", w, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT v FROM t WHERE id = ?", 99).Scan(&w); err != sql.ErrNoRows {
		t.Fatalf("no row: %v", err)
	}
}
