package slackimport_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"agora/db"
	"agora/db/slackimport"
	"agora/db/slackimport/slacktest"
)

// BenchmarkImportSlack imports a generated Slack export of 100,000
// messages (20 channels of 50 days of 100 messages, threads, reactions and
// edits among them) into a new SQLite database and prints the rate.
// Run: go test -run '^$' -bench ImportSlack -benchtime 1x ./db/slackimport/
func BenchmarkImportSlack(b *testing.B) {
	channels, days, perDay := 20, 50, 100
	if testing.Short() {
		channels = 2
	}
	dir := b.TempDir()
	export := filepath.Join(dir, "export")
	slacktest.WriteLarge(b, export, channels, days, perDay)
	b.ResetTimer()
	for i := range b.N {
		s, err := db.Open(context.Background(), filepath.Join(dir, fmt.Sprintf("agora-%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		rep, err := slackimport.Import(context.Background(), s, export, slackimport.Options{})
		elapsed := time.Since(start)
		s.Close()
		if err != nil {
			b.Fatal(err)
		}
		if want := channels * days * perDay; rep.Messages != want {
			b.Fatalf("imported %d messages, want %d: %+v", rep.Messages, want, rep.Skipped)
		}
		rate := float64(rep.Messages) / elapsed.Seconds()
		b.ReportMetric(rate, "messages/s")
		fmt.Printf("import-slack of %d messages (%d replies, %d reactions, %d edited) into SQLite: %s, %.0f messages/s\n",
			rep.Messages, rep.Replies, rep.Reactions, rep.Edited, elapsed.Round(10*time.Millisecond), rate)
	}
}
