package commands

import (
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestDBSeedThenRefuseThenIfEmpty(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	r := mustRun(t, dsn, "db", "seed", "--users", "300", "--seed", "5")
	if !strings.Contains(r.Stderr, "seeded 300 users") || r.Stdout != "" {
		t.Fatalf("seed said %q, stdout %q", r.Stderr, r.Stdout)
	}
	db := fixture.Conn(t, dsn)
	before := fixture.DumpAll(t, db)

	r = runCLI(t, dsn, "db", "seed", "--users", "10")
	assertOneLineError(t, r, 4)
	if !strings.Contains(r.Stderr, "already has users") {
		t.Errorf("refusal does not say why: %q", r.Stderr)
	}
	r = mustRun(t, dsn, "db", "seed", "--users", "10", "--if-empty")
	if !strings.Contains(r.Stderr, "not seeding") {
		t.Errorf("--if-empty said %q", r.Stderr)
	}
	assertOneLineError(t, runCLI(t, dsn, "db", "seed", "--users", "0"), 2)
	if fixture.DumpAll(t, db) != before {
		t.Error("a refused seed changed the database")
	}
}
