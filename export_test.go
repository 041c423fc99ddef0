package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportCommand runs `agora export` on the database of a running server
// and reads the zip back; it refuses to overwrite, and says what is wrong.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "agora.db")
	r := startRun(t, map[string]string{"CHAT_DB": dbPath})
	ann := newBrowser(t, r.base, nil).signup("ann")
	ann.get("/rooms/general")
	ann.post("/rooms/general/messages", url.Values{"body": {"exported words"}})

	dest := filepath.Join(dir, "out.zip")
	var out bytes.Buffer
	noEnv := func(string) string { return "" }
	if err := run(context.Background(), []string{"agora", "export", "-db", dbPath, dest}, noEnv, &out); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	// Not a terminal: plain lines, then the summary.
	if !strings.Contains(out.String(), "of 2 messages") { // ann's and the notice that she joined
		t.Errorf("no progress lines:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "export: wrote "+dest) || !strings.Contains(out.String(), "1 users, 1 rooms, 2 messages, 0 files") {
		t.Errorf("no summary:\n%s", out.String())
	}
	zr, err := zip.OpenReader(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "messages/general.jsonl" && strings.Contains(string(b), "exported words") {
			found = true
		}
	}
	if !found {
		t.Error("the zip lacks the message")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("a temporary file is left: %s", e.Name())
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-db", dbPath, dest}, "already exists"},
		{[]string{"-db", dbPath}, "name one destination"},
		{[]string{"-db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.zip")}, "no such file"},
	} {
		out.Reset()
		err := run(context.Background(), append([]string{"agora", "export"}, c.args...), noEnv, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("export %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("exporting a missing database made one")
	}
}
