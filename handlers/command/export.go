package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"agora/db"
	"agora/db/export"
)

// Export is `agora export [-db SOURCE] DEST.zip`: everything the server
// holds, as a zip, from SQLite or PostgreSQL, while agora runs. The zip is
// made beside DEST and named DEST once whole, so DEST is whole or absent.
func Export(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	source, words, err := oneWord(args, getenv, stdout, "export", "name one destination file",
		"usage: agora export [-db SOURCE] DEST.zip\n\nWrites everything SOURCE holds to the new zip DEST: users.jsonl (never a password hash or a token),\nrooms.jsonl, messages/{room}.jsonl with reactions and edits, and files/. Safe while agora runs.")
	if err != nil || words == nil {
		return err
	}
	dest := words[0]
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("export: %s already exists; choose a new file", dest)
	} else if !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("export: %w", err)
	}
	if isSQLiteFile(source) {
		if _, err := os.Stat(source); err != nil {
			return fmt.Errorf("export: %w", err) // opening it would make an empty database
		}
	}
	store, err := db.Open(ctx, source)
	if err != nil {
		return err
	}
	defer store.Close()

	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	start := time.Now()
	show := newProgress(stdout)
	sum, err := export.Write(ctx, store, tmp, export.Options{Progress: show.update})
	show.finish()
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Link(tmp.Name(), dest); err != nil {
		// A link, not a rename: it fails rather than replace a DEST made meanwhile.
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stdout, "export: wrote %s (%s) in %s: %d users, %d rooms, %d messages, %d files (%s)\n",
		dest, sizeText(sum.Bytes), time.Since(start).Round(100*time.Millisecond), sum.Users, sum.Rooms, sum.Messages, sum.Files, sizeText(sum.FileBytes))
	return nil
}

// oneWord parses the flags of `agora NAME [-db SOURCE] WORD`, flags before
// or after the word, and returns the database and the word; nil words and
// nil error mean -h was asked for.
func oneWord(args []string, getenv func(string) string, stdout io.Writer, name, missing, usage string) (source string, words []string, err error) {
	fs := flag.NewFlagSet("agora "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	db := fs.String("db", envOr(getenv, "CHAT_DB", "agora.db"), "the database: a SQLite file or a postgres:// URL (env CHAT_DB)")
	words, err = parseAnywhere(fs, args[1:])
	if err != nil || words == nil {
		return "", nil, err
	}
	if len(words) != 1 {
		fs.Usage()
		return "", nil, errors.New(name + ": " + missing)
	}
	return *db, words, nil
}

// parseAnywhere parses flags before, between and after the words, and
// returns the words; nil words and nil error mean -h was asked for.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	words := []string{}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil
			}
			return nil, err
		}
		if fs.NArg() == 0 {
			return words, nil
		}
		words = append(words, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// progress shows how far a long command has come: a bar on a terminal,
// plain lines (one per room, and every 10,000 messages) anywhere else.
type progress struct {
	out      io.Writer
	bar      *progressbar.ProgressBar
	room     string
	lastLine int64
}

func newProgress(out io.Writer) *progress {
	return &progress{out: out, bar: terminalBar(out, "exporting")}
}

// terminalBar is a progress bar when out is a terminal, else nil: plain
// lines then, which logs and pipes keep readable.
func terminalBar(out io.Writer, what string) *progressbar.ProgressBar {
	if f, ok := out.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(-1, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

func (p *progress) update(pr export.Progress) {
	done, total := pr.Done.Messages+pr.Done.Files, pr.Total.Messages+pr.Total.Files
	if p.bar != nil {
		if p.bar.GetMax64() != total {
			p.bar.ChangeMax64(total)
		}
		p.bar.Describe("messages and files, #" + pr.Room)
		_ = p.bar.Set64(done)
		return
	}
	if pr.Room != p.room || pr.Done.Messages-p.lastLine >= 10_000 {
		p.room, p.lastLine = pr.Room, pr.Done.Messages
		fmt.Fprintf(p.out, "export: %d of %d messages, %d of %d files (%s of %s); now %s\n",
			pr.Done.Messages, pr.Total.Messages, pr.Done.Files, pr.Total.Files,
			sizeText(pr.Done.FileBytes), sizeText(pr.Total.FileBytes), pr.Room)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// sizeText writes a byte count for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
