package client_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func withParam(dsn, kv string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + kv
	}
	return dsn + "?" + kv
}

// TestReadOnlyHoldsPerTransaction: a read-only client connects directly
// and through a real PgBouncer in transaction pooling mode (which refuses
// the startup parameter default_transaction_read_only), and in both the
// database itself refuses every kind of write the service layer can send:
// a lone statement, a query, a transaction, a savepoint, a batch, a COPY.
func TestReadOnlyHoldsPerTransaction(t *testing.T) {
	direct := pgtest.NewDatabase(t)
	cases := []struct{ name, dsn, sessionDefault string }{
		{"direct", direct, "on"},
	}
	// PgBouncer cases are added only when it is available (else the
	// subtest skips, naming the package).
	t.Run("pgbouncer", func(t *testing.T) {
		bdsn := pgtest.BouncerDSN(t, direct)
		cases = append(cases,
			struct{ name, dsn, sessionDefault string }{"pgbouncer exec", withParam(bdsn, "default_query_exec_mode=exec"), "off"},
			struct{ name, dsn, sessionDefault string }{"pgbouncer simple_protocol", withParam(bdsn, "default_query_exec_mode=simple_protocol"), "off"})
	})
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, err := client.Connect(ctx, client.Options{DSN: c.dsn, ReadOnly: true})
			if err != nil {
				t.Fatalf("a read-only run must connect: %v", err)
			}
			defer cl.Close()
			db := cl.DB()
			var txRO, sessionRO string
			if err := db.QueryRow(ctx, `SELECT current_setting('transaction_read_only'), current_setting('default_transaction_read_only')`).Scan(&txRO, &sessionRO); err != nil {
				t.Fatal(err)
			}
			// The startup parameter is kept where the server takes it;
			// behind PgBouncer only the per-transaction guard is left.
			if txRO != "on" || sessionRO != c.sessionDefault {
				t.Fatalf("transaction_read_only %s, default_transaction_read_only %s (want on, %s)", txRO, sessionRO, c.sessionDefault)
			}
			refused := func(what string, err error) {
				t.Helper()
				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) || pgErr.Code != "25006" {
					t.Errorf("%s: want SQLSTATE 25006 (read-only transaction) from the server, got %v", what, err)
				}
			}
			_, err = db.Exec(ctx, `INSERT INTO rbac_company (name) VALUES ('written')`)
			refused("Exec without arguments", err)
			_, err = db.Exec(ctx, `INSERT INTO rbac_company (name) VALUES ($1)`, "written")
			refused("Exec with arguments", err)
			var n int
			refused("QueryRow of a writing CTE", db.QueryRow(ctx, `WITH w AS (INSERT INTO rbac_company (name) VALUES ($1) RETURNING id) SELECT count(*) FROM w`, "written").Scan(&n))
			rows, err := db.Query(ctx, `WITH w AS (INSERT INTO rbac_company (name) VALUES ($1) RETURNING id) SELECT id FROM w`, "written")
			if err == nil {
				for rows.Next() {
				}
				rows.Close()
				err = rows.Err()
			}
			refused("Query of a writing CTE", err)
			refused("transaction", pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO rbac_company (name) VALUES ($1)`, "written")
				return err
			}))
			refused("savepoint", pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
				return pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
					_, err := sp.Exec(ctx, `INSERT INTO rbac_company (name) VALUES ($1)`, "written")
					return err
				})
			}))
			b := &pgx.Batch{}
			b.Queue(`SELECT 1`)
			b.Queue(`INSERT INTO rbac_company (name) VALUES ($1)`, "written")
			br := db.SendBatch(ctx, b)
			if _, err := br.Exec(); err != nil {
				t.Fatalf("the batch's first (read) statement: %v", err)
			}
			_, err = br.Exec()
			refused("batch", err)
			_ = br.Close()
			_, err = db.CopyFrom(ctx, pgx.Identifier{"rbac_company"}, []string{"name"}, pgx.CopyFromRows([][]any{{"written"}}))
			refused("COPY", err)
			// Reads still work, the pool is healthy, nothing was written.
			if err := db.QueryRow(ctx, `SELECT count(*) FROM rbac_company WHERE name = $1`, "written").Scan(&n); err != nil || n != 0 {
				t.Fatalf("after the refused writes: %d rows, %v", n, err)
			}
		})
	}
}

// TestPoolerErrorNamesTheDSNOption: behind a transaction-pooling PgBouncer
// without the DSN option, pgx's cached prepared statements meet other
// clients' on the same server connection; the error says what to add.
func TestPoolerErrorNamesTheDSNOption(t *testing.T) {
	dsn := pgtest.BouncerDSN(t, pgtest.NewDatabase(t))
	ctx := context.Background()
	var got error
	for i := 0; i < 6 && got == nil; i++ {
		cl, err := client.Connect(ctx, client.Options{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		got = cl.DB().QueryRow(ctx, `SELECT count(*) FROM rbac_user WHERE id > $1`, int64(i)).Scan(&n)
		cl.Close()
	}
	var pe *client.PoolerError
	if !errors.As(got, &pe) {
		t.Fatalf("six clients in a row through PgBouncer, same statement: want a PoolerError, got %v", got)
	}
	if !strings.Contains(got.Error(), client.PoolerDSNOption) || !strings.Contains(got.Error(), "SQLSTATE") {
		t.Fatalf("message does not name the option: %q", got)
	}
}
