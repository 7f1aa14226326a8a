package client_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/seed"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// exportUser is what a test compares of an exported row.
type exportUser struct {
	ID        int64
	FirstName string
	Company   string
	Groups    string
	TwoFA     bool
}

// connect is a client on dsn, closed when the test ends.
func connect(t *testing.T, dsn string) *client.Client {
	t.Helper()
	c, err := client.Connect(t.Context(), client.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// watchSplit reports whether an export of the test got as far as
// splitting (its snapshot exported, the ranges about to be read).
func watchSplit(t *testing.T) *bool {
	split := new(bool)
	client.SetAfterSnapshotHook(func() { *split = true })
	t.Cleanup(func() { client.SetAfterSnapshotHook(nil) })
	return split
}

// seededExport is a database of 20,000 seeded users (several ranges of
// a split export) with a client on it.
func seededExport(t *testing.T) (*client.Client, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	c := connect(t, dsn)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	if _, err := seed.Run(t.Context(), c.DB(), seed.Options{Users: 20000, Seed: 5, Now: now, HashIterations: 1000}); err != nil {
		t.Fatal(err)
	}
	return c, fixture.Conn(t, dsn)
}

func export(t *testing.T, c *client.Client, q client.UserQuery, each func(n int)) []exportUser {
	t.Helper()
	var out []exportUser
	_, err := c.ListUsers(t.Context(), q, func(u *client.UserRow) error {
		e := exportUser{ID: u.ID, FirstName: u.FirstName, Groups: strings.Join(u.Groups, ","), TwoFA: u.TwoFA}
		if u.Company != nil {
			e.Company = *u.Company
		}
		out = append(out, e)
		if each != nil {
			each(len(out))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The same users, read by SQL written independently of the export's.
func expectedExport(t *testing.T, db *pgx.Conn, where string) []exportUser {
	t.Helper()
	rows, _ := db.Query(t.Context(), `SELECT u.id, u.first_name, coalesce(c.name, ''),
		coalesce((SELECT string_agg(g.name, ',' ORDER BY g.name) FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = u.id), ''),
		EXISTS (SELECT 1 FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed)
		  OR EXISTS (SELECT 1 FROM otp_email_emaildevice d WHERE d.user_id = u.id AND d.confirmed)
		FROM rbac_user u LEFT JOIN rbac_company c ON c.id = u.company_id `+where+` ORDER BY u.id`)
	want, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (exportUser, error) {
		var e exportUser
		err := r.Scan(&e.ID, &e.FirstName, &e.Company, &e.Groups, &e.TwoFA)
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// A whole export, read in id ranges on two connections, has every user
// once, in id order, with its company, groups and 2FA, filtered or not;
// and it is one snapshot: what commits while it runs is not in it, as
// with one query. The split must really run (two connections busy).
func TestSplitExportIsWholeAndOneSnapshot(t *testing.T) {
	c, db := seededExport(t)
	ids := func(where string) []int64 {
		var out []int64
		for _, e := range expectedExport(t, db, where) {
			out = append(out, e.ID)
		}
		return out
	}
	// The client orders a user's groups as the server orders their
	// names: under a collation that is not byte order ("api" before
	// "KYC…", where C puts it last), as under C.
	for _, q := range []string{
		`ALTER TABLE auth_group ALTER COLUMN name TYPE varchar(150) COLLATE "und-x-icu"`,
		`UPDATE auth_group SET name = 'api' WHERE name = 'API'`,
	} {
		if _, err := db.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	all := ids("")
	if len(all) != 20000 {
		t.Fatalf("seeded %d users", len(all))
	}
	last, middle := all[len(all)-1], all[len(all)/2]
	before := expectedExport(t, db, "")
	if !slices.ContainsFunc(before, func(e exportUser) bool { return strings.HasPrefix(e.Groups, "api,") }) {
		t.Fatal("no user has groups that C would order otherwise: the collation is not tested")
	}
	// Committed after the snapshot was taken, before the second
	// connection starts: it must not see it either.
	client.SetAfterSnapshotHook(func() {
		if _, err := db.Exec(context.Background(), `UPDATE rbac_user SET first_name = first_name || '!'`); err != nil {
			t.Error(err)
		}
	})
	defer client.SetAfterSnapshotHook(nil)
	busy := 0
	got := export(t, c, client.UserQuery{}, func(n int) {
		if n != 1 {
			return
		}
		// While the first rows are handed on, later ranges are unread.
		busy = countBusy(t, db)
		client.SetAfterSnapshotHook(nil)
		for _, q := range []string{
			`UPDATE rbac_user SET first_name = 'Changed' WHERE id = $1`,
			`DELETE FROM rbac_user_groups WHERE user_id = $1`,
		} {
			if _, err := db.Exec(context.Background(), q, last); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(context.Background(), `UPDATE rbac_user SET company_id = NULL WHERE id = $1`, middle); err != nil {
			t.Fatal(err)
		}
	})
	if busy < 2 {
		t.Fatalf("%d connections read the export: it was not split", busy)
	}
	if !slices.Equal(got, before) {
		diff(t, got, before)
	}
	if after := expectedExport(t, db, ""); slices.Equal(after, before) {
		t.Fatal("the concurrent changes did not commit: the test proves nothing")
	}

	// A reader that stops (a closed pipe) ends the export with its error,
	// and the export's transactions are over when it returns.
	stop := errors.New("stop")
	n := 0
	_, err := c.ListUsers(t.Context(), client.UserQuery{}, func(*client.UserRow) error {
		if n++; n == 5000 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("stopped export: %v", err)
	}
	if b := countBusy(t, db); b != 0 {
		t.Fatalf("%d sessions still busy after the export returned", b)
	}

	// Filtered (active merchants): the same filter in SQL.
	q := client.UserQuery{Filter: client.UserFilter{Active: new(true), Type: "merchant"}}
	if got, want := export(t, c, q, nil), expectedExport(t, db, "WHERE u.is_active AND u.type = 'merchant'"); !slices.Equal(got, want) {
		diff(t, got, want)
	}
}

func countBusy(t *testing.T, db *pgx.Conn) int {
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func diff(t *testing.T, got, want []exportUser) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// The split export through a real PgBouncer in transaction pooling mode
// (the snapshot travels between two server connections it lends) and on
// a real streaming standby: the same rows as the primary's own SQL.
func TestSplitExportThroughPgBouncerAndStandby(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	c := connect(t, dsn)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	if _, err := seed.Run(t.Context(), c.DB(), seed.Options{Users: 20000, Seed: 6, Now: now, HashIterations: 1000}); err != nil {
		t.Fatal(err)
	}
	db := fixture.Conn(t, dsn)
	want := expectedExport(t, db, "")
	for _, via := range []string{"pgbouncer", "standby"} {
		t.Run(via, func(t *testing.T) {
			var other string
			if via == "pgbouncer" {
				other = pgtest.BouncerDSN(t, dsn) + "&default_query_exec_mode=exec"
				if !strings.Contains(other, "?") {
					other = strings.Replace(other, "&", "?", 1)
				}
			} else {
				other = pgtest.StandbyDSN(t, dsn)
			}
			oc := connect(t, other)
			busy := 0
			watch := fixture.Conn(t, other)
			if via == "pgbouncer" {
				watch = db // pg_stat_activity of the server behind it
			}
			got := export(t, oc, client.UserQuery{}, func(n int) {
				if n == 1 {
					busy = countBusy(t, watch)
				}
			})
			if busy < 2 {
				t.Fatalf("%d connections read the export: it was not split", busy)
			}
			if !slices.Equal(got, want) {
				diff(t, got, want)
			}
		})
	}
}

// usersWithIDs makes bare users with these ids, and ANALYZE (the split
// reads the planner's count).
func usersWithIDs(t *testing.T, db *pgx.Conn, from, to int64, extra ...int64) {
	t.Helper()
	ins := `INSERT INTO rbac_user (id, password, is_superuser, email, first_name, last_name, phone, ip_white_list, language,
		communication_language, is_staff, is_active, type, uuid, date_joined, is_company_owner)
		SELECT g, '!x', false, 'u' || g || '@example.com', 'F' || g, '', '', '', 'en', 'en', false, true, 'merchant', gen_random_uuid(), now(), false
		FROM unnest(array_cat(ARRAY(SELECT generate_series($1::int8, $2::int8)), $3::int8[])) g`
	if _, err := db.Exec(t.Context(), ins, from, to, extra); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(t.Context(), `ANALYZE rbac_user`); err != nil {
		t.Fatal(err)
	}
}

// Ids at the top of int8 are split without overflow (the last range ends
// at the largest id); ids made sparse by one outlier are not split, but
// read whole by one query; a filter is not split (its subplans would run
// for each range). Every case has every user, in order.
func TestSplitExportIdRanges(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to int64
		extra    []int64
		filter   client.UserFilter
		split    bool
	}{
		{"top of int8", math.MaxInt64 - 19_999, math.MaxInt64, nil, client.UserFilter{}, true},
		{"a partial last range", 1, 20_001, nil, client.UserFilter{}, true},
		{"one outlier", 1, 20_000, []int64{1_000_000_000_000}, client.UserFilter{}, false},
		{"filtered", 1, 20_000, nil, client.UserFilter{Active: new(true)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			db := fixture.Conn(t, dsn)
			usersWithIDs(t, db, c.from, c.to, c.extra...)
			split := watchSplit(t)
			got := export(t, connect(t, dsn), client.UserQuery{Filter: c.filter}, nil)
			if *split != c.split {
				t.Fatalf("split %v, want %v", *split, c.split)
			}
			if want := expectedExport(t, db, ""); !slices.Equal(got, want) {
				diff(t, got, want)
			}
		})
	}
}

// A server that ends transactions idle for half a second does not end
// the export's while its reader pauses for longer (the readers wait idle
// in them, where one query would sit sending).
func TestSplitExportOutlastsIdleTransactionTimeout(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	usersWithIDs(t, db, 1, 20_000)
	var name string
	if err := db.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(t.Context(), `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` SET idle_in_transaction_session_timeout = '500ms'`); err != nil {
		t.Fatal(err)
	}
	split := watchSplit(t)
	got := export(t, connect(t, dsn), client.UserQuery{}, func(n int) {
		if n == 1 || n == 10_000 {
			time.Sleep(1500 * time.Millisecond)
		}
	})
	if !*split || len(got) != 20_000 {
		t.Fatalf("split %v, %d rows", *split, len(got))
	}
}
