package seed_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/seed"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// seedNow is the reference moment of the tests' data: mid-month, so both
// the current and the last calendar month have transfers.
var seedNow = time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)

// allSeeded lists every table Seed fills.
var allSeeded = []string{
	"rbac_company", "rbac_user", "rbac_user_groups", "rbac_user_user_permissions",
	"otp_totp_totpdevice", "otp_email_emaildevice", "rbac_authlog", "rbac_authtoken",
	"api_wallet", "api_transfer", "commissions_commission", "commissions_usercommission",
	"token_blacklist_outstandingtoken", "token_blacklist_blacklistedtoken", "django_session",
	"b2badmin_session_owner",
}

// seedDB seeds a fresh database and returns a connection to it.
func seedDB(t *testing.T, users int, seedN int64) (*pgx.Conn, seed.Stats, []int64) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	var progress []int64
	st, err := seed.Run(ctx, c.DB(), seed.Options{Users: users, Seed: seedN, Now: seedNow, HashIterations: 1000,
		Progress: func(done int64) { mu.Lock(); progress = append(progress, done); mu.Unlock() }})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return fixture.Conn(t, dsn), st, progress
}

func dumpSeeded(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	var b strings.Builder
	for _, tbl := range allSeeded {
		b.WriteString("== " + tbl + "\n" + fixture.Dump(t, db, tbl) + "\n")
	}
	return b.String()
}

// schemaOf lists the indexes and constraints of the seeded tables: Seed
// drops and rebuilds them and must leave the schema exactly as it was.
func schemaOf(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	var out string
	err := db.QueryRow(context.Background(), `
SELECT string_agg(d, E'\n' ORDER BY d) FROM (
  SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index WHERE indrelid = ANY ($1::text[]::regclass[])
  UNION ALL
  SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' valid=' || convalidated
  FROM pg_constraint WHERE conrelid = ANY ($1::text[]::regclass[]) OR confrelid = ANY ($1::text[]::regclass[])
  UNION ALL -- the session triggers, enabled (O) after either load path
  SELECT tgrelid::regclass || ' ' || tgname || ' enabled=' || tgenabled::text FROM pg_trigger
  WHERE tgrelid = 'django_session'::regclass AND NOT tgisinternal) s`,
		append(allSeeded, "api_operationlog")).Scan(&out)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	var dumps [3]string
	for i, seed := range []int64{7, 7, 8} {
		db, st, _ := seedDB(t, 2000, seed)
		if st.Users != 2000 {
			t.Errorf("seed %d: %d users", seed, st.Users)
		}
		dumps[i] = dumpSeeded(t, db)
	}
	if dumps[0] != dumps[1] {
		t.Fatalf("the same seed gave different data (%d vs %d bytes)", len(dumps[0]), len(dumps[1]))
	}
	if dumps[0] == dumps[2] {
		t.Fatal("different seeds gave the same data")
	}
	for _, tbl := range allSeeded {
		if !strings.Contains(dumps[0], "== "+tbl+"\n(") {
			t.Errorf("table %s is empty", tbl)
		}
	}
}

// TestSeedValidatedPathMatches runs the path for roles that may not switch
// foreign-key triggers off: same rows, and both paths leave the schema —
// every index, key and validated foreign key — as the migrations made it.
func TestSeedValidatedPathMatches(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	before := schemaOf(t, fixture.Conn(t, dsn))

	fast, _, _ := seedDB(t, 1500, 3)
	if got := schemaOf(t, fast); got != before {
		t.Errorf("schema changed by the fast path:\n%s\nwant\n%s", got, before)
	}
	*seed.SeedTryTriggersOff = false
	defer func() { *seed.SeedTryTriggersOff = true }()
	slow, _, _ := seedDB(t, 1500, 3)
	if got := schemaOf(t, slow); got != before {
		t.Errorf("schema changed by the validated path:\n%s\nwant\n%s", got, before)
	}
	if dumpSeeded(t, fast) != dumpSeeded(t, slow) {
		t.Error("the two load paths wrote different data")
	}
}

func TestSeedRefusesNonEmptyDatabase(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	fixture.AddUser(t, db, fixture.User{Email: "someone@example.com"})
	before := dumpSeeded(t, db) + fixture.DumpAll(t, db)
	schema := schemaOf(t, db)

	ctx := context.Background()
	c, err := client.Connect(ctx, client.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = seed.Run(ctx, c.DB(), seed.Options{Users: 10, Seed: 1, Now: seedNow, HashIterations: 1000})
	if !client.IsRefused(err) {
		t.Fatalf("want a refusal, got %v", err)
	}
	if !strings.Contains(err.Error(), "already has users") {
		t.Errorf("message %q does not say why", err)
	}
	if after := dumpSeeded(t, db) + fixture.DumpAll(t, db); after != before {
		t.Error("a refused seed changed the data")
	}
	if schemaOf(t, db) != schema {
		t.Error("a refused seed changed the schema")
	}
}

// TestSeedTiny: the smallest databases still come out whole (no empty
// list to pick from, no staff without a company).
func TestSeedTiny(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 9} {
		db, st, progress := seedDB(t, n, int64(n))
		var users, staffAlone int64
		if err := db.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE NOT is_company_owner AND company_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM rbac_user o WHERE o.company_id = u.company_id AND o.is_company_owner)) FROM rbac_user u`).Scan(&users, &staffAlone); err != nil {
			t.Fatal(err)
		}
		if users != int64(n) || st.Users != int64(n) || staffAlone != 0 || progress[len(progress)-1] != int64(n) {
			t.Errorf("%d users: got %d users, %d staff of owner-less companies, stats %+v, progress %v", n, users, staffAlone, st, progress)
		}
	}
}
