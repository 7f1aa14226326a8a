package client_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

func djangoSession(dict string, compress bool) string {
	data, prefix := []byte(dict), ""
	if compress {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(data)
		w.Close()
		data, prefix = b.Bytes(), "."
	}
	return prefix + base64.RawURLEncoding.EncodeToString(data) + ":1tCxyz:c2lnbmF0dXJl"
}

func authDict(uid any) string {
	v, _ := json.Marshal(uid)
	return `{"_auth_user_id":` + string(v) + `,"_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"` + strings.Repeat("ab", 32) + `"}`
}

func addSession(t *testing.T, db *pgx.Conn, key, data string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), `INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, now() + interval '14 days')`, key, data); err != nil {
		t.Fatal(err)
	}
}

func sessionKeys(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	rows, _ := db.Query(context.Background(), `SELECT session_key FROM django_session ORDER BY 1`)
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(keys, " ")
}

func deleteSessions(t *testing.T, dsn string, ids ...int64) map[int64]int64 {
	t.Helper()
	c, err := client.Connect(context.Background(), client.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got map[int64]int64
	err = pgx.BeginFunc(context.Background(), c.DB(), func(tx pgx.Tx) error {
		got, err = client.DeleteSessions(context.Background(), tx, ids)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestDeleteSessionsIsExact: every session of the users goes — compressed
// or not, pk as a string or a number — and no other: not another user's,
// not an anonymous one, not garbage, not one whose id only looks alike.
// Sessions created after an earlier call are found too (the trigger queue).
func TestDeleteSessionsIsExact(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	a := fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	b := fixture.AddUser(t, db, fixture.User{Email: "b@example.com"})
	c := fixture.AddUser(t, db, fixture.User{Email: "c@example.com"})
	id := func(n int64) string { return fmt.Sprint(n) }
	addSession(t, db, "a-plain", djangoSession(authDict(id(a)), false))
	addSession(t, db, "a-zlib", djangoSession(authDict(id(a)), true))
	addSession(t, db, "a-number", djangoSession(authDict(a), true))
	addSession(t, db, "b-plain", djangoSession(authDict(id(b)), false))
	addSession(t, db, "b-zlib", djangoSession(authDict(id(b)), true))
	addSession(t, db, "c-zlib", djangoSession(authDict(id(c)), true))
	addSession(t, db, "a-lookalike", djangoSession(authDict("0"+id(a)), false))
	addSession(t, db, "anonymous", djangoSession(`{"cart":[1,2,3]}`, true))
	addSession(t, db, "garbage", "%%%not base64:x:y")
	addSession(t, db, "bad-zlib", ".AAAA:x:y")
	addSession(t, db, "empty", "")

	if got := deleteSessions(t, dsn, a, b); got[a] != 3 || got[b] != 2 || len(got) != 2 {
		t.Fatalf("per-user counts %v, want %d:3 %d:2", got, a, b)
	}
	if got, want := sessionKeys(t, db), "a-lookalike anonymous bad-zlib c-zlib empty garbage"; got != want {
		t.Fatalf("left %q, want %q", got, want)
	}
	// New sessions after the first call: found through the queue.
	addSession(t, db, "a-new", djangoSession(authDict(id(a)), true))
	addSession(t, db, "c-new", djangoSession(authDict(id(c)), false))
	if got := deleteSessions(t, dsn, a); got[a] != 1 || len(got) != 1 {
		t.Fatalf("second call: %v", got)
	}
	if got := deleteSessions(t, dsn, c); got[c] != 2 {
		t.Fatalf("third call: %v", got)
	}
	if got, want := sessionKeys(t, db), "a-lookalike anonymous bad-zlib empty garbage"; got != want {
		t.Fatalf("left %q, want %q", got, want)
	}
	// Django deletes (logout) and truncates (flush): the side table follows.
	var owners int
	if _, err := db.Exec(t.Context(), `DELETE FROM django_session WHERE session_key = 'anonymous'`); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM b2badmin_session_owner`).Scan(&owners); err != nil || owners != 4 {
		t.Fatalf("%d owner rows after a delete, want 4 (%v)", owners, err)
	}
	if _, err := db.Exec(t.Context(), `TRUNCATE django_session`); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM b2badmin_session_owner`).Scan(&owners); err != nil || owners != 0 {
		t.Fatalf("%d owner rows after TRUNCATE (%v)", owners, err)
	}
}

// TestDeleteSessionsCostIgnoresUnrelatedSessions: with 20,000 other users'
// sessions already decoded, a deactivation decodes only the sessions
// created since (3 here) and reads only its user's rows: EXPLAIN ANALYZE of
// the delete counts the rows each scan returned. No timing involved.
func TestDeleteSessionsCostIgnoresUnrelatedSessions(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := fixture.Conn(t, dsn)
	target := fixture.AddUser(t, db, fixture.User{Email: "t@example.com"})
	if _, err := db.Exec(t.Context(), `INSERT INTO django_session (session_key, session_data, expire_date)
		SELECT 'other-' || g, $1, now() FROM generate_series(1, 20000) g`, djangoSession(authDict("999999"), true)); err != nil {
		t.Fatal(err)
	}
	deleteSessions(t, dsn, target) // decodes the 20,000 once
	addSession(t, db, "t-1", djangoSession(authDict(fmt.Sprint(target)), true))
	addSession(t, db, "t-2", djangoSession(authDict(fmt.Sprint(target)), false))
	addSession(t, db, "other-new", djangoSession(authDict("999999"), false))
	if _, err := db.Exec(t.Context(), `ANALYZE django_session, b2badmin_session_owner`); err != nil {
		t.Fatal(err)
	}
	c, err := client.Connect(t.Context(), client.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = pgx.BeginFunc(t.Context(), c.DB(), func(tx pgx.Tx) error {
		n, err := client.DecodePendingSessions(t.Context(), tx)
		if err != nil || n != 3 {
			return fmt.Errorf("decoded %d sessions, want only the 3 new ones (%v)", n, err)
		}
		var plan []map[string]any
		if err := tx.QueryRow(t.Context(), `EXPLAIN (ANALYZE, FORMAT JSON) `+client.DeleteOwnedSessionsSQL, []int64{target}).Scan(&plan); err != nil {
			return err
		}
		read := map[string]float64{}
		var walk func(n map[string]any)
		walk = func(n map[string]any) {
			if rel, ok := n["Relation Name"].(string); ok && strings.Contains(fmt.Sprint(n["Node Type"]), "Scan") {
				read[rel] += n["Actual Rows"].(float64) * n["Actual Loops"].(float64)
				if n["Node Type"] == "Seq Scan" {
					t.Errorf("a sequential scan of %s", rel)
				}
			}
			for _, k := range []string{"Plans"} {
				if kids, ok := n[k].([]any); ok {
					for _, kid := range kids {
						walk(kid.(map[string]any))
					}
				}
			}
		}
		walk(plan[0]["Plan"].(map[string]any))
		if read["django_session"] != 2 || read["b2badmin_session_owner"] != 2 {
			t.Errorf("rows read: %v; want 2 of django_session and 2 of the owner table, of 20,003 sessions", read)
		}
		return pgx.ErrTxClosed // roll back: the plan ran the delete
	})
	if err != nil && err != pgx.ErrTxClosed {
		t.Fatal(err)
	}
}
