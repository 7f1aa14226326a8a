package commands

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// closedDSN points at a port nothing listens on: a command that reaches
// for the database with it fails with exit 1, so exit 4 proves the
// refusal came before any SQL.
const closedDSN = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"

// writeDB is a fresh database and a connection to inspect it.
func writeDB(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	return dsn, fixture.Conn(t, dsn)
}

// opLogRow is one api_operationlog row as tests read it back.
type opLogRow struct {
	Action    string
	Actor     string
	UserID    int64
	Before    map[string]any
	After     map[string]any
	Reason    string
	Command   string
	BatchID   *string
	BatchLine *int
}

func opLog(t *testing.T, db *pgx.Conn) []opLogRow {
	t.Helper()
	rows, err := db.Query(context.Background(), `
SELECT action, actor, target_user_id, before::text, after::text, reason, command, run_id::text, batch_line
FROM api_operationlog ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []opLogRow
	var r opLogRow
	var b, a string
	_, err = pgx.ForEachRow(rows, []any{&r.Action, &r.Actor, &r.UserID, &b, &a, &r.Reason, &r.Command, &r.BatchID, &r.BatchLine}, func() error {
		x := r
		x.Before, x.After = map[string]any{}, map[string]any{}
		if err := json.Unmarshal([]byte(b), &x.Before); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(a), &x.After); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// djangoSession encodes a session for userID the way Django's
// signing.dumps does (zlib-compressed with a leading "." when compress).
func djangoSession(userID int64, compress bool) string {
	data := []byte(fmt.Sprintf(`{"_auth_user_id":"%d","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"0123abcd"}`, userID))
	prefix := ""
	if compress {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(data)
		w.Close()
		data, prefix = b.Bytes(), "."
	}
	return prefix + base64.RawURLEncoding.EncodeToString(data) + ":1tCa2b:Zm9vYmFyc2lnbmF0dXJl"
}

func addSession(t *testing.T, db *pgx.Conn, key, data string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), `INSERT INTO django_session VALUES ($1, $2, now() + interval '14 days')`, key, data); err != nil {
		t.Fatal(err)
	}
}

func addToken(t *testing.T, db *pgx.Conn, userID int64, jti string) int64 {
	t.Helper()
	var id int64
	err := db.QueryRow(context.Background(), `
INSERT INTO token_blacklist_outstandingtoken (user_id, jti, token, created_at, expires_at)
VALUES ($1, $2::text, 'eyJ.' || $2::text, now(), now() + interval '1 day') RETURNING id`, userID, jti).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func queryInt(t *testing.T, db *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func queryText(t *testing.T, db *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// changeRow is one row of a change list (-o json).
type changeRow struct {
	UserID int64  `json:"user_id"`
	Email  string `json:"email"`
	Field  string `json:"field"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

func parseChanges(t *testing.T, out string) []changeRow {
	t.Helper()
	var rows []changeRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("change list is not JSON: %v\n%s", err, out)
	}
	return rows
}

// assertUnchanged fails when the database differs from before.
func assertUnchanged(t *testing.T, db *pgx.Conn, before string) {
	t.Helper()
	if after := fixture.DumpAll(t, db); after != before {
		t.Fatalf("database changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
