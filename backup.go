package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"agora/db"
)

// runBackup is `agora backup [-db SOURCE] DEST`: a consistent copy of a live
// SQLite database, usable at once as -db DEST.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("agora backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: agora backup [-db SOURCE] DEST\n\nCopies the SQLite database SOURCE to the new file DEST, safely while agora runs.")
		fs.PrintDefaults()
	}
	source := fs.String("db", envOr(getenv, "CHAT_DB", "agora.db"), "the database to copy (env CHAT_DB)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup: name one destination file")
	}
	dest := fs.Arg(0)
	if strings.HasPrefix(*source, "postgres://") || strings.HasPrefix(*source, "postgresql://") {
		return errors.New("backup: this database is PostgreSQL: back it up with pg_dump (pg_dump -Fc -f agora.dump URL), restore with pg_restore")
	}
	if err := db.Backup(ctx, *source, dest); err != nil {
		return err
	}
	size := int64(0)
	if fi, err := os.Stat(dest); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "backup: copied %s to %s (%d bytes); run it with -db %s\n", *source, dest, size, dest)
	return nil
}
