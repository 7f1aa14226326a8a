package pgtest

import (
	"context"
	"fmt"
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

// TestBouncerAndStandby: the harness's PgBouncer pools by transaction and
// its standby is a real one, replaying the primary.
func TestBouncerAndStandby(t *testing.T) {
	ctx := context.Background()
	dsn := NewDatabase(t)
	t.Run("pgbouncer", func(t *testing.T) {
		admin, err := pgx.Connect(ctx, SharedBouncer(t).AdminDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(ctx)
		rows, err := admin.Query(ctx, "SHOW CONFIG")
		if err != nil {
			t.Fatal(err)
		}
		mode := ""
		for rows.Next() {
			vals, _ := rows.Values()
			if fmt.Sprint(vals[0]) == "pool_mode" {
				mode = fmt.Sprint(vals[1])
			}
		}
		if rows.Err() != nil || mode != "transaction" {
			t.Fatalf("pool_mode %q, %v", mode, rows.Err())
		}
		c, err := pgx.Connect(ctx, BouncerDSN(t, dsn)+"&default_query_exec_mode=exec")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var one int
		if err := c.QueryRow(ctx, "SELECT $1::int", 1).Scan(&one); err != nil || one != 1 {
			t.Fatalf("through pgbouncer: %v", err)
		}
	})
	t.Run("standby", func(t *testing.T) {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "CREATE TABLE replicated (v text); INSERT INTO replicated VALUES ('streamed')"); err != nil {
			t.Fatal(err)
		}
		sb, err := pgx.Connect(ctx, StandbyDSN(t, dsn))
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close(ctx)
		var inRecovery bool
		var v string
		if err := sb.QueryRow(ctx, "SELECT pg_is_in_recovery(), (SELECT v FROM replicated)").Scan(&inRecovery, &v); err != nil {
			t.Fatal(err)
		}
		if !inRecovery || v != "streamed" {
			t.Fatalf("standby: in recovery %v, row %q", inRecovery, v)
		}
	})
}

// The standby stops when the last test using it ends (it would replay
// every later test's writes), and a later test gets a new one.
func TestStandbyStopsWithItsLastUser(t *testing.T) {
	ctx := context.Background()
	dsn := NewDatabase(t)
	var first string
	for _, name := range []string{"first", "again"} {
		t.Run(name, func(t *testing.T) {
			sdsn := StandbyDSN(t, dsn)
			c, err := pgx.Connect(ctx, sdsn)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			var inRecovery bool
			if err := c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
				t.Fatalf("standby: in recovery %v, %v", inRecovery, err)
			}
			if first == "" {
				first = sdsn
			}
		})
		if first == "" {
			return // skipped: no standby here
		}
		// Its only user has ended: nothing answers at its address.
		c, err := pgx.Connect(ctx, first+"&connect_timeout=2")
		if err == nil {
			c.Close(ctx)
			t.Fatalf("after %q ended, the standby still answers at %s", name, first)
		}
	}
}
