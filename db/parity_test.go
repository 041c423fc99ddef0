package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"agora/db"
	"agora/db/pgtest"
)

// The two migration folders are written by hand, one per engine, and
// PostgreSQL's 0001 folds SQLite's 0001 to 0003. These tests build each
// engine's schema from its folder through the store's own migrate, read it
// back from the engine's catalog, describe it in one vocabulary (the
// mapping below) and require the two descriptions to be equal: a migration
// changed or added for one engine alone fails here.

// typeMap is how a column type of one engine maps to the other's. SQLite's
// INTEGER is 64-bit; PostgreSQL's integer is 32-bit, used for booleans (0/1,
// as the store's shared SQL writes them) and small counts: a column that
// holds an id, a time or a size must be bigint there (see wide).
var typeMap = []struct{ sqlite, postgres, common string }{
	{"INTEGER", "bigint", "integer"},
	{"BIGINT", "bigint", "integer"}, // the store's schema_migrations, made by code for both
	{"INTEGER", "integer", "integer"},
	{"TEXT", "text", "text"},
	{"TEXT COLLATE NOCASE", "citext", "text, case-insensitive"},
	{"BLOB", "bytea", "blob"},
	{"REAL", "double precision", "real"},
}

// wide names the columns that must be 64-bit on PostgreSQL: ids, times
// (Unix milliseconds), sequence numbers and sizes in bytes.
var wide = regexp.MustCompile(`^(id|.*_id|.*_at|seq|size|.*_bytes)$`)

// engineOnly are the facts that differ by design, each engine's full-text
// search (see the engines' search): SQLite's FTS5 index over a view with
// triggers that keep it, PostgreSQL's generated tsvector columns and their
// GIN indexes. Patterns are path.Match patterns over the facts below.
var engineOnly = map[string][]string{
	// PostgreSQL's 0001 stands for SQLite's 0001 to 0003.
	"*": {"schema_migrations: * rows"},
	"sqlite": {
		"messages_fts*",
		"view messages_search",
		"trigger messages_fts_*",
		"trigger files_fts_*",
	},
	"postgres": {
		"messages: column search *",
		"messages: index messages_search *",
		"files: column search *",
		"files: index files_search *",
	},
}

func TestMigrationsBuildTheSameSchemaOnBothEngines(t *testing.T) {
	lite, pg := schemas(t, os.DirFS("."))
	if diff := schemaDiff(lite, pg); diff != "" {
		t.Errorf("the engines' migrations build different schemas "+
			"(write a migration of the same number for each engine):\n%s", diff)
	}
	// PARITY_DUMP=1 prints both descriptions, for seeing what is compared.
	if os.Getenv("PARITY_DUMP") != "" {
		t.Logf("SQLite:\n%s\n\nPostgreSQL:\n%s", strings.Join(lite, "\n"), strings.Join(pg, "\n"))
	}
	if len(lite) < 50 {
		t.Fatalf("read only %d facts of SQLite's schema: the catalog queries are broken\n%s", len(lite), strings.Join(lite, "\n"))
	}
}

// TestMigrationNumbersMatch: every migration has its twin of the same
// number in the other engine's folder, but for SQLite's 0002 and 0003,
// which PostgreSQL's 0001 folds in.
func TestMigrationNumbersMatch(t *testing.T) {
	lite, pg := migrationNumbers(t, os.DirFS("."), "migrations"), migrationNumbers(t, os.DirFS("."), "migrations/postgres")
	lite = slices.DeleteFunc(lite, func(n int) bool { return n == 2 || n == 3 })
	if !slices.Equal(lite, pg) {
		t.Errorf("migration numbers differ: SQLite %v (0002, 0003 folded into PostgreSQL's 0001), PostgreSQL %v", lite, pg)
	}
}

// TestParityCatchesAOneSidedChange changes one engine's migration in a copy
// of the folders, the way a hurried change would, and requires the
// comparison to see it.
func TestParityCatchesAOneSidedChange(t *testing.T) {
	for _, c := range []struct {
		name, file, old, new, want string
	}{
		{"a column added on SQLite only", "migrations/0009_room_topic.sql",
			"NOT NULL DEFAULT '';", "NOT NULL DEFAULT '';\nALTER TABLE rooms ADD COLUMN color TEXT;",
			"only on sqlite: rooms: column color text"},
		{"a default changed on PostgreSQL only", "migrations/postgres/0005_accounts.sql",
			"uses       INTEGER NOT NULL DEFAULT 0", "uses       INTEGER NOT NULL DEFAULT 1",
			"only on postgres: invites: column uses integer not null default 1"},
		{"an index dropped on PostgreSQL only", "migrations/postgres/0006_api.sql",
			"CREATE INDEX api_tokens_user ON api_tokens (user_id);", "",
			"only on sqlite: api_tokens: index api_tokens_user (user_id)"},
		{"a cascade lost on SQLite only", "migrations/0007_files.sql",
			"file_id      INTEGER PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE",
			"file_id      INTEGER PRIMARY KEY REFERENCES files (id)",
			"only on sqlite: file_thumbs: foreign key (file_id) references files (id) on delete no action"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(".")); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, filepath.FromSlash(c.file))
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), c.old) {
				t.Fatalf("%s no longer has %q: update this test", c.file, c.old)
			}
			if err := os.WriteFile(file, []byte(strings.Replace(string(b), c.old, c.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			lite, pg := schemas(t, os.DirFS(dir))
			diff := schemaDiff(lite, pg)
			if !strings.Contains(diff, c.want) {
				t.Errorf("the comparison did not see %s: want %q in the difference, got:\n%s", c.name, c.want, diff)
			}
		})
	}
}

func migrationNumbers(t *testing.T, fsys fs.FS, dir string) []int {
	t.Helper()
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil {
			t.Fatalf("%s has no number", name)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// schemas builds a fresh database of each engine from the migrations in
// fsys and describes each.
func schemas(t *testing.T, fsys fs.FS) (lite, pg []string) {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "parity.db")
	pgURL := pgtest.Database(t)
	for engine, dsn := range map[string]string{"sqlite": file, "postgres": pgURL} {
		s, err := db.OpenFrom(ctx, dsn, fsys)
		if err != nil {
			t.Fatalf("migrate %s: %v", engine, err)
		}
		s.Close()
	}
	lite = describeSQLite(t, file)
	pg = describePostgres(t, pgURL)
	return lite, pg
}

// schemaDiff lists the facts of one engine's schema the other lacks, but
// for those engineOnly allows.
func schemaDiff(lite, pg []string) string {
	var b strings.Builder
	only := func(engine string, a, other []string) {
		for _, f := range a {
			if slices.Contains(other, f) || allowed(engine, f) {
				continue
			}
			fmt.Fprintf(&b, "only on %s: %s\n", engine, f)
		}
	}
	only("sqlite", lite, pg)
	only("postgres", pg, lite)
	return b.String()
}

func allowed(engine, fact string) bool {
	for _, p := range append(engineOnly[engine], engineOnly["*"]...) {
		if ok, _ := path.Match(p, fact); ok {
			return true
		}
		// A pattern naming a table covers every fact of that table.
		if ok, _ := path.Match(p, strings.SplitN(fact, ":", 2)[0]); ok && strings.Contains(fact, ":") {
			return true
		}
	}
	return false
}

// norm is an expression (a CHECK, an index's expression or predicate, a
// default) with what the engines write differently taken out: PostgreSQL's
// casts and `= ANY (ARRAY[...])` for IN, parentheses, spaces and case.
func norm(expr string) string {
	s := strings.ToLower(expr)
	s = regexp.MustCompile(`\s*=\s*any\s*\(\s*array\[(.*?)\]\s*\)`).ReplaceAllString(s, " in ($1)")
	s = regexp.MustCompile(`::[a-z_]+( [a-z_]+)*(\[\])?`).ReplaceAllString(s, "")
	return strings.NewReplacer("(", "", ")", "", " ", "", "\n", "", "\t", "").Replace(s)
}

func column(table, name, typ string, notNull bool, def string, identity bool) string {
	f := table + ": column " + name + " " + typ
	if notNull {
		f += " not null"
	}
	if identity {
		f += " identity"
	} else if def != "" {
		f += " default " + norm(def)
	}
	return f
}

func index(table, name string, cols []string, unique bool, where string) string {
	for i, c := range cols {
		cols[i] = norm(c)
	}
	f := table + ": index " + name + " (" + strings.Join(cols, ", ") + ")"
	if unique {
		f += " unique"
	}
	if where != "" {
		f += " where " + norm(where)
	}
	return f
}

func foreignKey(table, cols, ref, refCols, onDelete string) string {
	return table + ": foreign key (" + cols + ") references " + ref + " (" + refCols + ") on delete " + strings.ToLower(onDelete)
}

// describeSQLite reads the schema of the SQLite file at path.
func describeSQLite(t *testing.T, file string) []string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var facts []string
	type object struct{ kind, name, table, sql string }
	var objects []object
	rows, err := conn.Query(`SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.table, &o.sql); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	query := func(q string, scan func(*sql.Rows) error) {
		t.Helper()
		rows, err := conn.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, o := range objects {
		switch o.kind {
		case "view", "trigger":
			facts = append(facts, o.kind+" "+o.name)
		case "index":
			// Explicit indexes only; those of constraints are described with
			// the constraints.
			if o.sql == "" {
				continue
			}
			list, rest := parenthesised(o.sql[strings.Index(strings.ToUpper(o.sql), " ON "):])
			var where string
			if i := strings.Index(strings.ToUpper(rest), "WHERE"); i >= 0 {
				where = rest[i+len("WHERE"):]
			}
			unique := strings.HasPrefix(strings.ToUpper(o.sql), "CREATE UNIQUE")
			facts = append(facts, index(o.table, o.name, splitTop(list), unique, where))
		case "table":
			if strings.HasPrefix(strings.ToUpper(o.sql), "CREATE VIRTUAL") {
				facts = append(facts, o.name+": virtual table")
				continue
			}
			defs, _ := parenthesised(o.sql)
			colDef := map[string]string{}
			for _, d := range splitTop(defs) {
				name := strings.Trim(strings.Fields(d)[0], `"`+"`")
				colDef[strings.ToLower(name)] = strings.ToUpper(d)
				for _, c := range checks(d) {
					facts = append(facts, o.name+": check ("+norm(c)+")")
				}
			}
			var pk []string
			query(`SELECT name, type, "notnull", coalesce(dflt_value, ''), pk FROM pragma_table_info('`+o.name+`') ORDER BY pk, cid`,
				func(r *sql.Rows) error {
					var name, typ, def string
					var notNull bool
					var inPK int
					if err := r.Scan(&name, &typ, &notNull, &def, &inPK); err != nil {
						return err
					}
					typ = strings.ToUpper(typ)
					d := colDef[strings.ToLower(name)]
					if strings.Contains(d, "COLLATE NOCASE") {
						typ += " COLLATE NOCASE"
					}
					common := "no mapping for SQLite's " + typ
					for _, m := range typeMap {
						if m.sqlite == typ {
							common = m.common
							break
						}
					}
					if inPK > 0 {
						// Primary keys are never NULL on PostgreSQL; on SQLite
						// an INTEGER PRIMARY KEY is the rowid and is not either.
						notNull = true
						pk = append(pk, name)
					}
					facts = append(facts, column(o.name, name, common, notNull, def, strings.Contains(d, "AUTOINCREMENT")))
					return nil
				})
			if len(pk) > 0 {
				facts = append(facts, o.name+": primary key ("+strings.Join(pk, ", ")+")")
			}
			query(`SELECT name, "unique", origin FROM pragma_index_list('`+o.name+`') WHERE origin = 'u'`, func(r *sql.Rows) error {
				var name, origin string
				var unique bool
				if err := r.Scan(&name, &unique, &origin); err != nil {
					return err
				}
				var cols []string
				query(`SELECT name FROM pragma_index_info('`+name+`') ORDER BY seqno`, func(r *sql.Rows) error {
					var c string
					cols = append(cols, c)
					return r.Scan(&cols[len(cols)-1])
				})
				facts = append(facts, o.name+": unique ("+strings.Join(cols, ", ")+")")
				return nil
			})
			fks := map[int]*[5]string{}
			var ids []int
			query(`SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list('`+o.name+`') ORDER BY id, seq`, func(r *sql.Rows) error {
				var id int
				var ref, from, to, onDelete string
				if err := r.Scan(&id, &ref, &from, &to, &onDelete); err != nil {
					return err
				}
				fk, ok := fks[id]
				if !ok {
					fk = &[5]string{o.name, "", ref, "", onDelete}
					fks[id] = fk
					ids = append(ids, id)
				}
				fk[1] = strings.TrimPrefix(fk[1]+", "+from, ", ")
				fk[3] = strings.TrimPrefix(fk[3]+", "+to, ", ")
				return nil
			})
			for _, id := range ids {
				fk := fks[id]
				facts = append(facts, foreignKey(fk[0], fk[1], fk[2], fk[3], fk[4]))
			}
			var n int
			if err := conn.QueryRow(`SELECT count(*) FROM "` + o.name + `"`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			facts = append(facts, fmt.Sprintf("%s: %d rows", o.name, n))
		}
	}
	slices.Sort(facts)
	return facts
}

// describePostgres reads the schema of the PostgreSQL database at url.
func describePostgres(t *testing.T, url string) []string {
	t.Helper()
	conn, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var facts []string
	query := func(q string, scan func(*sql.Rows) error) {
		t.Helper()
		rows, err := conn.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var tables []string
	query(`SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname`, func(r *sql.Rows) error {
		var name, kind string
		if err := r.Scan(&name, &kind); err != nil {
			return err
		}
		if kind == "v" || kind == "m" {
			facts = append(facts, "view "+name)
		} else {
			tables = append(tables, name)
		}
		return nil
	})
	query(`SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND NOT t.tgisinternal`, func(r *sql.Rows) error {
		var name string
		if err := r.Scan(&name); err != nil {
			return err
		}
		facts = append(facts, "trigger "+name)
		return nil
	})
	query(`SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
			coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text, a.attgenerated::text
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`, func(r *sql.Rows) error {
		var table, name, typ, def, identity, generated string
		var notNull bool
		if err := r.Scan(&table, &name, &typ, &notNull, &def, &identity, &generated); err != nil {
			return err
		}
		common := "no mapping for PostgreSQL's " + typ
		for _, m := range typeMap {
			if m.postgres == typ {
				common = m.common
				break
			}
		}
		if common == "integer" && typ != "bigint" && wide.MatchString(name) {
			common = "32-bit integer (ids, times and sizes are bigint)"
		}
		if generated != "" {
			common = typ + " generated"
			def = ""
		}
		facts = append(facts, column(table, name, common, notNull, def, identity != ""))
		return nil
	})
	query(`SELECT t.relname, i.relname, ix.indisunique, am.amname, coalesce(pg_get_expr(ix.indpred, ix.indrelid), ''),
			array_to_string(ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) FROM generate_series(1, ix.indnkeyatts) k ORDER BY k), chr(31))
		FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam
		WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u'))`,
		func(r *sql.Rows) error {
			var table, name, method, where, cols string
			var unique bool
			if err := r.Scan(&table, &name, &unique, &method, &where, &cols); err != nil {
				return err
			}
			f := index(table, name, strings.Split(cols, "\x1f"), unique, where)
			if method != "btree" {
				f += " using " + method
			}
			facts = append(facts, f)
			return nil
		})
	const keyCols = `array_to_string(ARRAY(SELECT a.attname FROM unnest(%s) WITH ORDINALITY k(n, o)
		JOIN pg_attribute a ON a.attrelid = %s AND a.attnum = k.n ORDER BY k.o), ', ')`
	query(`SELECT t.relname, c.contype::text, `+fmt.Sprintf(keyCols, "c.conkey", "c.conrelid")+`,
			coalesce(rt.relname, ''), coalesce(`+fmt.Sprintf(keyCols, "c.confkey", "c.confrelid")+`, ''),
			c.confdeltype::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		LEFT JOIN pg_class rt ON rt.oid = c.confrelid
		WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f', 'c')`, func(r *sql.Rows) error {
		var table, kind, cols, ref, refCols, onDelete, def string
		if err := r.Scan(&table, &kind, &cols, &ref, &refCols, &onDelete, &def); err != nil {
			return err
		}
		switch kind {
		case "p":
			facts = append(facts, table+": primary key ("+cols+")")
		case "u":
			facts = append(facts, table+": unique ("+cols+")")
		case "f":
			action := map[string]string{"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}[onDelete]
			facts = append(facts, foreignKey(table, cols, ref, refCols, action))
		case "c":
			facts = append(facts, table+": check ("+norm(strings.TrimPrefix(def, "CHECK "))+")")
		}
		return nil
	})
	for _, table := range tables {
		var n int
		if err := conn.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		facts = append(facts, fmt.Sprintf("%s: %d rows", table, n))
	}
	slices.Sort(facts)
	return facts
}

// parenthesised returns the text inside the first balanced parentheses of
// s, and what follows them.
func parenthesised(s string) (inside, rest string) {
	start := strings.IndexByte(s, '(')
	if start < 0 {
		return "", s
	}
	depth := 0
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '\'':
			if j := strings.IndexByte(s[i+1:], '\''); j >= 0 {
				i += j + 1
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[start+1 : i], s[i+1:]
			}
		}
	}
	return s[start+1:], ""
}

// splitTop splits s at the commas outside parentheses and quotes, dropping
// SQL comments.
func splitTop(s string) []string {
	s = regexp.MustCompile(`--[^\n]*`).ReplaceAllString(s, "")
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			if j := strings.IndexByte(s[i+1:], '\''); j >= 0 {
				i += j + 1
			}
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" {
		out = append(out, last)
	}
	return out
}

// checks returns the expressions of the CHECK constraints in a column or
// table constraint definition.
func checks(def string) []string {
	var out []string
	for {
		i := strings.Index(strings.ToUpper(def), "CHECK")
		if i < 0 {
			return out
		}
		var c string
		c, def = parenthesised(def[i+len("CHECK"):])
		out = append(out, c)
	}
}
