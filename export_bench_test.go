package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// BenchmarkExportRSS exports a server of 100,000 messages and 200 MB of
// files with `agora export` (the built binary, a process of its own) and
// prints the process's peak resident memory: rows are read a page at a time
// and files a chunk at a time, so it should stay far under 100 MB however
// large the server.
// Run: go test -run '^$' -bench ExportRSS -benchtime 1x .
func BenchmarkExportRSS(b *testing.B) {
	const messages, rooms, files, fileSize = 100_000, 20, 200, 1 << 20
	dir := b.TempDir()
	bin := filepath.Join(dir, "agora")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dbPath := filepath.Join(dir, "big.db")
	start := time.Now()
	fill(b, dbPath, messages, rooms, files, fileSize)
	b.Logf("made %d messages in %d rooms and %d files of %d bytes in %s", messages, rooms, files, fileSize, time.Since(start).Round(time.Second))
	b.ResetTimer()
	for i := range b.N {
		dest := filepath.Join(dir, fmt.Sprintf("export-%d.zip", i))
		cmd := exec.Command(bin, "export", "-db", dbPath, dest)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("agora export: %v\n%s", err, out)
		}
		elapsed := time.Since(start)
		peakKB := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		fi, _ := os.Stat(dest)
		b.ReportMetric(float64(peakKB)/1024, "MiB-peak-RSS")
		b.ReportMetric(elapsed.Seconds(), "s/export")
		fmt.Printf("export of %d messages and %d MiB of files: peak RSS %.1f MiB, %s, zip %d MiB\n",
			messages, files*fileSize>>20, float64(peakKB)/1024, elapsed.Round(100*time.Millisecond), fi.Size()>>20)
		os.Remove(dest)
	}
}

// fill makes a server: accounts, rooms, messages with a reaction now and
// then, and files of random (incompressible) bytes.
func fill(b *testing.B, path string, messages, rooms, files, fileSize int) {
	ctx := context.Background()
	s, err := db.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var users []chat.User
	for i := range 20 {
		u, err := s.CreateUser(ctx, fmt.Sprintf("user%02d", i), "", "", false)
		if err != nil {
			b.Fatal(err)
		}
		users = append(users, u)
	}
	var rs []chat.Room
	for i := range rooms {
		r, err := s.CreateRoom(ctx, fmt.Sprintf("room %d", i), fmt.Sprintf("room-%d", i), false, users[0].ID)
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, r)
	}
	// Many senders at once: the writer commits them in groups.
	const senders = 32
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for w := range senders {
		wg.Go(func() {
			for i := w; i < messages-files; i += senders {
				u, r := users[i%len(users)], rs[i%len(rs)]
				m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: u.ID, Kind: chat.MessageText,
					Body: fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog, and then some more words to be a line", i)})
				if err == nil && i%10 == 0 {
					_, err = s.ToggleReaction(ctx, m.ID, users[(i+1)%len(users)], "👍")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	for i := range files {
		r, u := rs[i%len(rs)], users[i%len(users)]
		f, err := s.CreateFile(ctx, chat.File{RoomID: r.ID, OwnerID: u.ID, Name: fmt.Sprintf("blob-%d.bin", i), ContentType: "application/octet-stream"},
			io.LimitReader(rand.Reader, int64(fileSize)))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: u.ID, Kind: chat.MessageText, File: &f}); err != nil {
			b.Fatal(err)
		}
	}
}
