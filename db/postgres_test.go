package db

import "testing"

func TestRebindTurnsPlaceholdersIntoPostgres(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b IN (?, ?)", "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{"WHERE u = ?1 OR d = ?1 LIMIT ?12", "WHERE u = $1 OR d = $1 LIMIT $12"},
		{"SELECT '?', \"a?b\", ? -- why? it's\nFROM t WHERE x = ?", "SELECT '?', \"a?b\", $1 -- why? it's\nFROM t WHERE x = $2"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"SELECT ? -- trailing ?", "SELECT $1 -- trailing ?"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactedHidesThePassword(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://agora@/agora?host=/tmp/pg":                          "postgres://agora@/agora?host=/tmp/pg",
		"postgres://a:b@h/%zz":                                          "postgres://(unreadable URL)",
		"postgres://agora:s3cret@db.example:5432/agora?sslmode=require": "postgres://agora:xxxxx@db.example:5432/agora?sslmode=require",
	} {
		if got := redacted(in); got != want {
			t.Errorf("redacted(%q) = %q, want %q", in, got, want)
		}
	}
}
