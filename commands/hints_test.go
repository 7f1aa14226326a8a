package commands

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// With nothing configured the error named a socket and nothing else: it
// now says how to configure a connection.
func TestNoConnectionConfiguredSaysHow(t *testing.T) {
	// pgx reads PG* from the process environment: point it at an empty
	// directory so that no server on the default socket answers. The
	// tool's own view of the environment (Getenv) has none of them.
	t.Setenv("PGHOST", t.TempDir())
	r := cliRun{DSN: ""}.run(t, "users", "list")
	assertOneLineError(t, r, ExitFailure)
	for _, want := range []string{"no database is configured", "--dsn", "B2BADMIN_DSN", "--profile", "make demo"} {
		if !strings.Contains(r.Stderr, want) {
			t.Fatalf("stderr %q does not say %q", r.Stderr, want)
		}
	}
	// A configured but unreachable database gets no such hint.
	r = cliRun{DSN: "postgres://u@127.0.0.1:1/x?sslmode=disable&connect_timeout=1"}.run(t, "users", "list")
	if strings.Contains(r.Stderr, "no database is configured") {
		t.Fatalf("hint given although a DSN was: %q", r.Stderr)
	}
}

// A database without the schema said relation "rbac_user" does not exist.
func TestMissingSchemaSaysMigrate(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	if _, err := conn.Exec(context.Background(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"users", "list"}, {"users", "deactivate", "1"}, {"groups", "list"}} {
		r := runCLI(t, dsn, args...)
		assertOneLineError(t, r, ExitFailure)
		if !strings.Contains(r.Stderr, "run b2badmin db migrate") {
			t.Errorf("%v: stderr %q", args, r.Stderr)
		}
	}
}

// A connection lost in the middle of a change said unexpected EOF (or a
// raw SQLSTATE): it says the change was rolled back, and it was.
func TestLostConnectionMidChangeSaysRolledBack(t *testing.T) {
	dsn, conn := batchDB(t)
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM rbac_user WHERE id = 1 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, dsn, "users", "update", "1", "--first-name", "changed") }()
	// The change waits for the row lock; then its session is ended.
	watch := fixture.Conn(t, dsn)
	var pid int
	deadline := time.Now().Add(20 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		_ = watch.QueryRow(ctx, `SELECT coalesce((SELECT pid FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND application_name = 'b2badmin' LIMIT 1), 0)`).Scan(&pid)
		time.Sleep(20 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the change never waited for the lock")
	}
	if _, err := watch.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	r := <-done
	_ = tx.Rollback(ctx)
	assertOneLineError(t, r, ExitFailure)
	if !strings.Contains(r.Stderr, "connection to the database was lost") || !strings.Contains(r.Stderr, "rolled back") || strings.Contains(r.Stderr, "EOF") {
		t.Fatalf("stderr %q", r.Stderr)
	}
	if got := firstNames(t, conn); got[0] != "orig" {
		t.Fatalf("first names %v: the lost change was applied", got)
	}
}
