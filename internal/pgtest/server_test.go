package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func TestFreshDatabaseIsMigratedAndIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := NewDatabase(t), NewDatabase(t)
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var groups, perms int
	if err := ca.QueryRow(ctx, `SELECT (SELECT count(*) FROM auth_group), (SELECT count(*) FROM auth_permission)`).Scan(&groups, &perms); err != nil {
		t.Fatal(err)
	}
	if groups != 10 || perms != 401 {
		t.Fatalf("fresh database has %d groups and %d permissions, want 10 and 401", groups, perms)
	}
	if _, err := ca.Exec(ctx, `DELETE FROM auth_group_permissions; DELETE FROM auth_group WHERE name = 'API'`); err != nil {
		t.Fatal(err)
	}
	if err := cb.QueryRow(ctx, `SELECT count(*) FROM auth_group`).Scan(&groups); err != nil {
		t.Fatal(err)
	}
	if groups != 10 {
		t.Fatalf("a change in one test database leaked into another: %d groups", groups)
	}
}

func TestSocketDSNWorks(t *testing.T) {
	srv := SharedServer(t)
	if srv == nil {
		t.Skip("external server via " + EnvTestDSN)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, srv.SocketDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1 over the socket: %v %d", err, one)
	}
}
