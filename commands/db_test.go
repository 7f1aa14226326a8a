package commands

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestMigrateTwiceIsNoOpAndStatusListsAll(t *testing.T) {
	dsn := pgtest.NewDatabase(t) // already migrated from the template
	r := mustRun(t, dsn, "db", "migrate")
	if !strings.Contains(r.Stderr, "up to date") {
		t.Fatalf("second migrate was not a no-op: %q", r.Stderr)
	}
	r = mustRun(t, dsn, "db", "status", "-o", "json")
	var st []struct {
		Version   int     `json:"version"`
		Name      string  `json:"name"`
		AppliedAt *string `json:"applied_at"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("db status -o json: %v\n%s", err, r.Stdout)
	}
	if len(st) < 3 {
		t.Fatalf("want at least 3 migrations, got %d", len(st))
	}
	for _, m := range st {
		if m.AppliedAt == nil {
			t.Errorf("migration %d_%s not applied", m.Version, m.Name)
		}
	}
}
