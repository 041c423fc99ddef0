package handlers

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"agora/chat/live"
	"agora/db"
)

// documentedRoute is "`GET /rooms/{slug}`" in the first cell of a table row.
var documentedRoute = regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/[^`]*)`")

// TestReadmeListsEveryRoute holds the route tables of handlers/README.md
// against the router: every route is documented, and nothing documented is
// missing from it.
func TestReadmeListsEveryRoute(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for line := range strings.Lines(string(readme)) {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range documentedRoute.FindAllStringSubmatch(first, -1) {
			documented[m[1]+" "+m[2]] = true
		}
	}
	if len(documented) == 0 {
		t.Fatal("handlers/README.md documents no routes")
	}

	store, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s := New(Config{Store: store, Hub: NewHub(live.HubConfig{})})
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, r := range s.echo.Routes() {
		if r.Method == "echo_route_not_found" || strings.HasSuffix(r.Path, "/*") && r.Path != "/assets/*" {
			continue // Echo's own fallbacks for groups
		}
		key := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		served[key] = true
		if !documented[key] {
			t.Errorf("%s is served but not in handlers/README.md", key)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("handlers/README.md documents %s, which the router does not serve", key)
		}
	}
}

// TestReadmeCloseCodes holds the close-code table of handlers/README.md
// against the constants of chat/live/close.go, the one table the code uses.
func TestReadmeCloseCodes(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "chat", "live", "close.go"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	inCode := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+Close\w+\s+= (1\d\d\d)\b`).FindAllStringSubmatch(string(src), -1) {
		inCode[m[1]] = true
	}
	inReadme := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (1\d\d\d) \|`).FindAllStringSubmatch(string(readme), -1) {
		inReadme[m[1]] = true
	}
	if len(inCode) == 0 || len(inReadme) == 0 {
		t.Fatalf("close codes: %d in close.go, %d in handlers/README.md", len(inCode), len(inReadme))
	}
	for c := range inCode {
		if !inReadme[c] {
			t.Errorf("close code %s is in chat/live/close.go but not in handlers/README.md", c)
		}
	}
	for c := range inReadme {
		if !inCode[c] {
			t.Errorf("handlers/README.md lists close code %s, which chat/live/close.go does not have", c)
		}
	}
}
