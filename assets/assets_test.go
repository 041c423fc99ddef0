package assets

import (
	"io/fs"
	"testing"
)

// TestFetchedFilesAreEmbedded: a build made after `make assets` has htmx and
// its socket extension, and passes Check.
func TestFetchedFilesAreEmbedded(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	for _, name := range fetched {
		if b, err := fs.ReadFile(FS, name); err != nil || len(b) < 1000 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
}
