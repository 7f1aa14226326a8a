package commands

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// TestWorksInPgBouncerQueryModes runs reads, writes and a batch with the
// query modes a DSN chooses behind PgBouncer in transaction pooling (SPEC
// §9): no server-side prepared statements, no session state.
func TestWorksInPgBouncerQueryModes(t *testing.T) {
	for _, mode := range []string{"simple_protocol", "exec"} {
		t.Run(mode, func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			conn := fixture.Conn(t, dsn)
			id := fixture.AddUser(t, conn, fixture.User{Email: "pool@example.com", Type: "merchant", Groups: []string{"Merchant owner"}})
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + "default_query_exec_mode=" + mode
			mustRun(t, dsn, "users", "update", "pool@example.com", "--first-name", "Pooled")
			mustRun(t, dsn, "perms", "grant", "pool@example.com", "api.view_wallet")
			r := cliRun{DSN: dsn, Stdin: "users add-group pool@example.com 'KYC not verified'\nusers deactivate pool@example.com\n"}.run(t, "batch", "--atomic", "-")
			if r.Code != 0 {
				t.Fatalf("batch: %d %s", r.Code, r.Stderr)
			}
			r = mustRun(t, dsn, "users", "list", "--id", "1,2,3", "-o", "json", "--columns", "id,first_name,is_active,groups")
			var rows []struct {
				ID        int64    `json:"id"`
				FirstName string   `json:"first_name"`
				IsActive  bool     `json:"is_active"`
				Groups    []string `json:"groups"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
				t.Fatalf("%v: %s", err, r.Stdout)
			}
			if len(rows) != 1 || rows[0].ID != id || rows[0].FirstName != "Pooled" || rows[0].IsActive || len(rows[0].Groups) != 2 {
				t.Fatalf("after the changes: %+v", rows)
			}
			var logRows int
			if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM api_operationlog WHERE target_user_id = $1`, id).Scan(&logRows); err != nil {
				t.Fatal(err)
			}
			if logRows != 4 {
				t.Fatalf("%d log rows, want 4 (update, grant, add-group, deactivate)", logRows)
			}
		})
	}
}

// TestReadDSNServesReadsOnly points --read-dsn at a second database (a
// stand-in for a replica): list reads from it, update writes the primary.
func TestReadDSNServesReadsOnly(t *testing.T) {
	primary, replica := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	fixture.AddUser(t, fixture.Conn(t, primary), fixture.User{Email: "primary@example.com"})
	fixture.AddUser(t, fixture.Conn(t, replica), fixture.User{Email: "replica@example.com"})
	r := mustRun(t, primary, "--read-dsn", replica, "users", "list", "-o", "jsonl", "--columns", "email")
	if strings.TrimSpace(r.Stdout) != `{"email":"replica@example.com"}` {
		t.Fatalf("list did not read the replica: %q", r.Stdout)
	}
	mustRun(t, primary, "--read-dsn", replica, "users", "update", "primary@example.com", "--first-name", "Written")
	r = mustRun(t, primary, "users", "list", "-o", "jsonl", "--columns", "first_name")
	if strings.TrimSpace(r.Stdout) != `{"first_name":"Written"}` {
		t.Fatalf("update did not write the primary: %q", r.Stdout)
	}
}

// TestReviewFindingsAreUsageErrors: inputs found in review that used to be
// silently misread or reach SQL now stop with exit 2 and change nothing.
func TestReviewFindingsAreUsageErrors(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	fixture.AddUser(t, conn, fixture.User{Email: "a@example.com"})
	fixture.AddUser(t, conn, fixture.User{Email: "b@example.com"})
	before := fixture.DumpAll(t, conn)
	for _, args := range [][]string{
		{"users", "list", "--email", "gmail", "--email", "yahoo"},
		{"users", "list", "--sort", "id", "--sort", "email"},
		{"users", "list", "--limit", "9223372036854775807"},
	} {
		assertOneLineError(t, runCLI(t, dsn, args...), ExitUsage)
	}
	csvFile := t.TempDir() + "/dup.csv"
	if err := os.WriteFile(csvFile, []byte("id,id\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dsn, "batch", "--csv", csvFile, "--template", "users update {id} --first-name x")
	if r.Code != ExitUsage || !strings.Contains(r.Stderr, `column "id" appears twice`) {
		t.Fatalf("duplicate CSV header: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if after := fixture.DumpAll(t, conn); after != before {
		t.Fatal("a refused command changed the database")
	}
}

// TestBatchPrecheckValidatesFlagValues: a malformed value on a later line
// stops the batch before its first line runs.
func TestBatchPrecheckValidatesFlagValues(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	fixture.AddUser(t, conn, fixture.User{Email: "a@example.com"})
	fixture.AddUser(t, conn, fixture.User{Email: "b@example.com"})
	before := fixture.DumpAll(t, conn)
	cases := []struct {
		line string
		code int
	}{
		{"users update b@example.com --phone notaphone", ExitRefused},
		{"users update b@example.com --ip-whitelist 10.0.0.300", ExitRefused},
		{"users update b@example.com --active maybe", ExitRefused},
		{"users add-group b@example.com 'No such group'", ExitRefused},
	}
	for _, c := range cases {
		r := cliRun{DSN: dsn, Stdin: "users update a@example.com --first-name Changed\n" + c.line + "\n"}.run(t, "batch", "-")
		if r.Code != c.code || !strings.Contains(r.Stderr, "<stdin>:2: ") {
			t.Fatalf("%q: exit %d (want %d), stderr %q", c.line, r.Code, c.code, r.Stderr)
		}
		if after := fixture.DumpAll(t, conn); after != before {
			t.Fatalf("%q: line 1 ran although line 2 was bad", c.line)
		}
	}
}

func TestBatchRefusesPasswordStdin(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	fixture.AddUser(t, fixture.Conn(t, dsn), fixture.User{Email: "a@example.com"})
	r := cliRun{DSN: dsn, Stdin: "users set-password a@example.com --password-stdin\n"}.run(t, "batch", "-")
	if r.Code != ExitUsage || !strings.Contains(r.Stderr, "<stdin>:1: --password-stdin cannot read inside a batch") {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestSetPasswordUnusableMany: many users from stdin, each with its own
// unusable password, one log row each; a usable password for many is refused.
func TestSetPasswordUnusableMany(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	a := fixture.AddUser(t, conn, fixture.User{Email: "a@example.com", Password: "pbkdf2_sha256$1$salt$aGFzaA=="})
	b := fixture.AddUser(t, conn, fixture.User{Email: "b@example.com", Password: "pbkdf2_sha256$1$salt$aGFzaA=="})
	before := fixture.DumpAll(t, conn)
	assertOneLineError(t, cliRun{DSN: dsn, Stdin: "a@example.com\nb@example.com\n"}.run(t, "users", "set-password", "-", "--password-stdin"), ExitUsage)
	assertOneLineError(t, cliRun{DSN: dsn, Stdin: "a@example.com\nb@example.com\n"}.run(t, "users", "set-password", "-", "--unusable"), ExitUsage) // no --yes
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("a refused set-password changed the database")
	}
	r := cliRun{DSN: dsn, Stdin: "a@example.com\nb@example.com\n"}.run(t, "users", "set-password", "-", "--unusable", "--yes", "--reason", "offboarding")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	rows, err := conn.Query(t.Context(), `SELECT password FROM rbac_user WHERE id = ANY($1)`, []int64{a, b})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var pw string
		if err := rows.Scan(&pw); err != nil {
			t.Fatal(err)
		}
		if len(pw) != 41 || pw[0] != '!' || seen[pw] {
			t.Fatalf("password %q is not a fresh unusable password", pw)
		}
		seen[pw] = true
	}
	if len(seen) != 2 {
		t.Fatalf("%d passwords changed, want 2", len(seen))
	}
	var logs int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM api_operationlog WHERE action = 'users.set-password' AND reason = 'offboarding' AND NOT (after::text LIKE '%!%')`).Scan(&logs); err != nil {
		t.Fatal(err)
	}
	if logs != 2 {
		t.Fatalf("%d log rows without the password, want 2", logs)
	}
}
