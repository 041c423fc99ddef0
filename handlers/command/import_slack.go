package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"agora/chat"
	"agora/db"
	"agora/db/slackimport"
)

// importer is who the audit list says imported: the operator at the console.
var importer = chat.User{Username: "operator (agora import-slack)"}

// ImportSlack is `agora import-slack [-db SOURCE] EXPORT`: a Slack workspace
// export (its zip, or the folder it unzips to) into the store, SQLite or
// PostgreSQL, while agora runs. Running it again adds nothing.
func ImportSlack(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	source, words, err := oneWord(args, getenv, stdout, "import-slack", "name one export (a zip or a folder)",
		"usage: agora import-slack [-db SOURCE] EXPORT.zip\n\nImports a Slack workspace export (the zip, or the folder it unzips to): members as accounts\nwithout passwords, channels as rooms, messages with their times, threads, reactions, edits and\ndeletions, files as links to Slack. Importing the same export again adds nothing. Safe while agora runs.")
	if err != nil || words == nil {
		return err
	}
	export := words[0]
	if _, err := os.Stat(export); err != nil {
		return fmt.Errorf("import-slack: %w", err)
	}
	store, err := db.Open(ctx, source)
	if err != nil {
		return err
	}
	defer store.Close()

	start := time.Now()
	show := &importProgress{out: stdout, bar: terminalBar(stdout, "importing")}
	rep, err := slackimport.Import(ctx, store, export, slackimport.Options{Progress: show.update})
	show.finish()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	summary := fmt.Sprintf("%d accounts (%d matched by email), %d bots, %d rooms, %d messages (%d replies, %d edited, %d deleted), %d reactions, %d file links",
		rep.Users, rep.MatchedUsers, rep.Bots, rep.Channels, rep.Messages, rep.Replies, rep.Edited, rep.Deleted, rep.Reactions, rep.FileLinks)
	rate := float64(rep.Messages) / max(elapsed.Seconds(), 0.001)
	fmt.Fprintf(stdout, "import-slack: imported %s in %s (%.0f messages/s): %s\n", export, elapsed.Round(100*time.Millisecond), rate, summary)
	if a := rep.Already; a.Users+a.Channels+a.Messages > 0 {
		fmt.Fprintf(stdout, "import-slack: already here from an earlier import: %d accounts, %d rooms, %d messages\n", a.Users, a.Channels, a.Messages)
	}
	if rep.Truncated > 0 {
		fmt.Fprintf(stdout, "import-slack: %d messages longer than %d characters were cut to that length\n", rep.Truncated, chat.MaxBodyChars)
	}
	for _, s := range rep.Skipped {
		line := fmt.Sprintf("import-slack: skipped %d %s", s.Count, s.Reason)
		if len(s.Examples) > 0 {
			line += ": " + strings.Join(s.Examples, "; ")
			if s.Count > len(s.Examples) {
				line += "; ..."
			}
		}
		fmt.Fprintln(stdout, line)
	}
	if rep.Users > 0 {
		fmt.Fprintln(stdout, "import-slack: imported people have no password: give each a link with `agora users reset-password NAME`,\n"+
			"  or let them sign in with OpenID Connect, which claims the account with the same verified email")
	}
	if err := store.Audit(ctx, importer, "import-slack", export, summary); err != nil {
		return err
	}
	return nil
}

// importProgress shows an import's progress: a bar on a terminal, plain
// lines (one per channel, and every 10,000 messages) anywhere else.
type importProgress struct {
	out      io.Writer
	bar      *progressbar.ProgressBar
	channel  string
	lastLine int
}

func (p *importProgress) update(pr slackimport.Progress) {
	if p.bar != nil {
		if p.bar.GetMax64() != int64(pr.Of) {
			p.bar.ChangeMax64(int64(pr.Of))
		}
		p.bar.Describe(fmt.Sprintf("day files, %d messages, #%s", pr.Messages, pr.Channel))
		_ = p.bar.Set64(int64(pr.Days))
		return
	}
	if pr.Channel != p.channel || pr.Messages-p.lastLine >= 10_000 {
		p.channel, p.lastLine = pr.Channel, pr.Messages
		fmt.Fprintf(p.out, "import-slack: %d of %d day files, %d messages (%d new, %d already here); now #%s\n",
			pr.Days, pr.Of, pr.Messages, pr.Imported, pr.Already, pr.Channel)
	}
}

func (p *importProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
