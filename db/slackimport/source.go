package slackimport

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// maxJSON is the most one file of the export may hold: a day of a busy
// channel is a few MB; more is not an export Slack wrote.
const maxJSON = 64 << 20

// source is an export, a zip or a directory, read by path inside it.
type source struct {
	fsys   fs.FS
	closer io.Closer
	// unsafe are the zip's entries that name a place outside it (../x, /x,
	// C:\x): never read.
	unsafe []string
}

// openSource opens the export at p: a zip file or a directory. An export
// whose files sit in one folder of the zip (zipped with its folder) is read
// from that folder.
func openSource(p string) (*source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	src := &source{}
	if fi.IsDir() {
		src.fsys = os.DirFS(p)
	} else {
		zr, err := zip.OpenReader(p)
		if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
			return nil, fmt.Errorf("%s is neither a directory nor a zip: %w", p, err)
		}
		src.closer = zr
		for _, f := range zr.File {
			if !safeEntry(f.Name) {
				src.unsafe = append(src.unsafe, f.Name)
			}
		}
		// zip.Reader's fs.FS serves only valid, local names: the unsafe
		// ones cannot be opened through it.
		src.fsys = &zr.Reader
	}
	if _, err := fs.Stat(src.fsys, "users.json"); err != nil {
		if entries, derr := fs.ReadDir(src.fsys, "."); derr == nil && len(entries) == 1 && entries[0].IsDir() {
			if sub, serr := fs.Sub(src.fsys, entries[0].Name()); serr == nil {
				src.fsys = sub
			}
		}
	}
	return src, nil
}

func (s *source) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// safeEntry reports whether a zip entry's name stays inside the zip.
func safeEntry(name string) bool {
	name = strings.TrimSuffix(name, "/")
	return fs.ValidPath(name) && !strings.Contains(name, `\`) && !strings.Contains(name, ":")
}

// readFile reads a file of the export, refusing one too large to be
// Slack's.
func (s *source) readFile(name string) ([]byte, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxJSON {
		return nil, fmt.Errorf("%s is larger than %d MB", name, maxJSON>>20)
	}
	return b, nil
}

// exists reports whether the export has the file.
func (s *source) exists(name string) bool {
	_, err := fs.Stat(s.fsys, name)
	return err == nil
}

// days lists a channel folder's daily files (YYYY-MM-DD.json), oldest first.
func (s *source) days(folder string) ([]string, error) {
	entries, err := fs.ReadDir(s.fsys, folder)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && isDayFile(e.Name()) {
			out = append(out, path.Join(folder, e.Name()))
		}
	}
	return out, nil // ReadDir sorts by name, which is by date
}

func isDayFile(name string) bool {
	day, ok := strings.CutSuffix(name, ".json")
	if !ok || len(day) != 10 || day[4] != '-' || day[7] != '-' {
		return false
	}
	for i, c := range day {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
