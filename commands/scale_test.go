package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// bouncerDSN is a fresh test database reached through the real PgBouncer
// (transaction pooling) with the DSN option docs/scale.md documents, and
// the direct DSN of the same database for the test's own checks. A test of
// another command through PgBouncer (undo, say) needs only this.
func bouncerDSN(t *testing.T, mode string) (through, direct string) {
	t.Helper()
	direct = pgtest.NewDatabase(t)
	return withDSNParam(pgtest.BouncerDSN(t, direct), "default_query_exec_mode="+mode), direct
}

func withDSNParam(dsn, kv string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + kv
	}
	return dsn + "?" + kv
}

const scalePolicy = "deny:\n  - \"auth.*\"\n"

// TestThroughRealPgBouncer: reads, writes, a default-mode batch, an atomic
// batch, perms audit, a read-only run and undo, all through a real PgBouncer in
// transaction pooling mode, in the documented query mode (exec) and in
// simple_protocol.
func TestThroughRealPgBouncer(t *testing.T) {
	for _, mode := range []string{"exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			dsn, direct := bouncerDSN(t, mode)
			conn := fixture.Conn(t, direct)
			id := fixture.AddUser(t, conn, fixture.User{Email: "pool@example.com", Type: "merchant", Groups: []string{"Merchant owner"}})
			other := fixture.AddUser(t, conn, fixture.User{Email: "other@example.com", Type: "merchant"})
			mustRun(t, dsn, "users", "update", "pool@example.com", "--first-name", "Pooled")
			mustRun(t, dsn, "perms", "grant", "pool@example.com", "api.view_wallet", "auth.add_group")
			r := cliRun{DSN: dsn, Stdin: "users add-group pool@example.com 'KYC not verified'\nusers update other@example.com --last-name Batched\n"}.run(t, "batch", "-")
			if r.Code != 0 {
				t.Fatalf("batch: %d %s", r.Code, r.Stderr)
			}
			r = cliRun{DSN: dsn, Stdin: "users update other@example.com --first-name Atomic\nusers deactivate pool@example.com\n"}.run(t, "batch", "--atomic", "-")
			if r.Code != 0 {
				t.Fatalf("batch --atomic: %d %s", r.Code, r.Stderr)
			}
			// An atomic batch whose second line fails leaves nothing behind,
			// through the pooler too.
			r = cliRun{DSN: dsn, Stdin: "users update other@example.com --first-name Lost\nusers add-group other@example.com 'Enterprise owner'\n"}.run(t, "batch", "--atomic", "-")
			if r.Code == 0 {
				t.Fatalf("a merchant in Enterprise owner should be refused: %s", r.Stdout)
			}
			r = mustRun(t, dsn, "users", "list", "-o", "json", "--columns", "id,first_name,last_name,is_active,groups")
			var rows []struct {
				ID        int64    `json:"id"`
				FirstName string   `json:"first_name"`
				LastName  string   `json:"last_name"`
				IsActive  bool     `json:"is_active"`
				Groups    []string `json:"groups"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
				t.Fatalf("%v: %s", err, r.Stdout)
			}
			if len(rows) != 2 || rows[0].ID != id || rows[0].FirstName != "Pooled" || rows[0].IsActive || len(rows[0].Groups) != 2 ||
				rows[1].ID != other || rows[1].FirstName != "Atomic" || rows[1].LastName != "Batched" {
				t.Fatalf("after the changes: %+v", rows)
			}
			var logRows int
			if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM api_operationlog`).Scan(&logRows); err != nil {
				t.Fatal(err)
			}
			if logRows != 6 { // update, grant (one row for both), add-group, update, update, deactivate
				t.Fatalf("%d log rows, want 6", logRows)
			}
			pol := filepath.Join(t.TempDir(), "policy.yaml")
			writeFileAt(t, pol, scalePolicy)
			r = runCLI(t, dsn, "perms", "audit", "--policy", pol, "-o", "csv", "--no-headers")
			if r.Code != ExitFindings || !strings.Contains(r.Stdout, `auth.add_group,auth | group | Can add group,"deny ""auth.*"""`) || strings.Count(r.Stdout, "\n") != 2 {
				t.Fatalf("perms audit through PgBouncer: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
			}
			// Read-only through the pooler: connects (the startup parameter
			// is refused there) and reads.
			r = mustRun(t, dsn, "--read-only", "users", "show", "pool@example.com", "-o", "json")
			if !strings.Contains(r.Stdout, "Pooled") {
				t.Fatalf("read-only show: %s", r.Stdout)
			}
			// Undo through the pooler: a run and its reversal.
			run := runID(t, mustRun(t, dsn, "users", "update", "other@example.com", "--first-name", "Undone", "--last-name", "Twice"))
			mustRun(t, dsn, "undo", run, "--yes")
			if got := queryText(t, conn, `SELECT first_name || ' ' || last_name FROM rbac_user WHERE id = $1`, other); got != "Atomic Batched" {
				t.Fatalf("after undo through PgBouncer: %q", got)
			}
		})
	}
}

// TestPoolerWithoutOptionSaysWhatToAdd: behind PgBouncer without the DSN
// option, the cached prepared statements of one run meet another's; the
// tool's one-line error names the option.
func TestPoolerWithoutOptionSaysWhatToAdd(t *testing.T) {
	direct := pgtest.NewDatabase(t)
	dsn := pgtest.BouncerDSN(t, direct)
	fixture.AddUser(t, fixture.Conn(t, direct), fixture.User{Email: "a@example.com"})
	for i := 0; i < 6; i++ {
		r := runCLI(t, dsn, "users", "show", "a@example.com")
		if r.Code != 0 {
			assertOneLineError(t, r, ExitFailure)
			if !strings.Contains(r.Stderr, "default_query_exec_mode=exec") {
				t.Fatalf("the error does not name the option: %q", r.Stderr)
			}
			return
		}
	}
	t.Fatal("six runs through PgBouncer in the default query mode all worked: the failure mode this guards against is gone (PgBouncer ≥ 1.21 with max_prepared_statements?)")
}

// TestReadDSNReadsTheStandby: --read-dsn and a profile's read_dsn point at
// a real streaming standby. With its replay paused, a write made through
// the same invocation's flags lands on the primary while reads still show
// the standby's older data: proof of which server answered.
func TestReadDSNReadsTheStandby(t *testing.T) {
	primary := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, primary)
	fixture.AddUser(t, conn, fixture.User{Email: "r@example.com", FirstName: "Before"})
	standby := pgtest.StandbyDSN(t, primary)
	sb := fixture.Conn(t, standby)
	var inRecovery bool
	if err := sb.QueryRow(t.Context(), `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("the standby is not in recovery: %v %v", inRecovery, err)
	}
	if _, err := sb.Exec(t.Context(), `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	resume := func() { _, _ = fixture.Conn(t, standby).Exec(context.Background(), `SELECT pg_wal_replay_resume()`) }
	defer resume()

	firstName := func(r cliResult) string {
		t.Helper()
		var rows []struct {
			FirstName string `json:"first_name"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("%v: %q", err, r.Stdout)
		}
		return rows[0].FirstName
	}
	// The write goes to the primary (the standby would refuse it).
	mustRun(t, primary, "--read-dsn", standby, "users", "update", "r@example.com", "--first-name", "After")
	if got := firstName(mustRun(t, primary, "--read-dsn", standby, "users", "list", "-o", "json", "--columns", "first_name")); got != "Before" {
		t.Fatalf("--read-dsn list shows %q: it did not read the paused standby", got)
	}
	if got := firstName(mustRun(t, primary, "users", "list", "-o", "json", "--columns", "first_name")); got != "After" {
		t.Fatalf("list without --read-dsn shows %q, want the primary's After", got)
	}
	env := withConfig(t, "profiles:\n  prod:\n    dsn: \""+primary+"\"\n    read_dsn: \""+standby+"\"\n")
	r := cliRun{Env: env}.run(t, "--profile", "prod", "users", "list", "-o", "json", "--columns", "first_name")
	if r.Code != 0 || firstName(r) != "Before" {
		t.Fatalf("profile read_dsn: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// Once replay resumes, the standby catches up (replication lag is the
	// only difference docs/scale.md warns about).
	resume()
	t0 := time.Now()
	defer func() { t.Logf("replay caught up in %s", time.Since(t0)) }()
	if err := pgtest.WaitReplayed(t.Context(), primary, standby); err != nil {
		t.Fatal(err)
	}
	if got := firstName(mustRun(t, primary, "--read-dsn", standby, "users", "list", "-o", "json", "--columns", "first_name")); got != "After" {
		t.Fatalf("after replay the standby shows %q", got)
	}
}

// TestTimeoutCancelsServerSide: an export and an audit stuck behind a
// lock are cancelled on the server when --timeout expires, through
// PgBouncer and directly: the tool exits 1 with one line and its statement
// is gone from pg_stat_activity at once, while the lock is still held.
// pgx's own cancel request on a dropped connection runs in a goroutine
// that dies with the process, so this runs the tool as a process; and
// three cancelled runs in a row must leave PgBouncer alive (cancel.go).
func TestTimeoutCancelsServerSide(t *testing.T) {
	for _, via := range []string{"pgbouncer", "direct"} {
		t.Run(via, func(t *testing.T) {
			var dsn, direct string
			if via == "direct" {
				direct = pgtest.NewDatabase(t)
				dsn = direct
			} else {
				dsn, direct = bouncerDSN(t, "exec")
			}
			conn := fixture.Conn(t, direct)
			fixture.AddUser(t, conn, fixture.User{Email: "slow@example.com"})
			pol := filepath.Join(t.TempDir(), "policy.yaml")
			writeFileAt(t, pol, scalePolicy)
			locker := fixture.Conn(t, direct)
			if _, err := locker.Exec(t.Context(), `BEGIN; LOCK TABLE rbac_user IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			defer locker.Exec(context.Background(), `ROLLBACK`)
			for _, args := range [][]string{
				{"users", "list", "--all", "-o", "csv"},
				{"perms", "audit", "--policy", pol, "-o", "json"},
				{"users", "list", "--all", "-o", "csv"},
			} {
				// A real process: whatever the tool leaves for background
				// goroutines to finish dies with it at exit.
				cmd := helperCmd(t, dsn, append([]string{"--timeout", "700ms"}, args...)...)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				start := time.Now()
				_ = cmd.Run()
				took := time.Since(start)
				r := cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
				assertOneLineError(t, r, ExitFailure)
				if !strings.Contains(r.Stderr, "timed out") || took > 5*time.Second {
					t.Fatalf("%v: after %s: %q", args, took, r.Stderr)
				}
				var waiting int
				if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND application_name = 'b2badmin' AND state <> 'idle'`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting != 0 {
					t.Fatalf("%v: %d statements of the tool still on the server after it exited", args, waiting)
				}
			}
		})
	}
}

// TestTimeoutHoldsWhenTheToolIsKilled: a tool killed (SIGKILL) while its
// statement waits sends no cancel request at all; statement_timeout, set
// in the statement's own transaction from --timeout, still ends it on the
// server, directly and through PgBouncer (where a session setting would
// not survive).
func TestTimeoutHoldsWhenTheToolIsKilled(t *testing.T) {
	for _, via := range []string{"pgbouncer", "direct"} {
		t.Run(via, func(t *testing.T) {
			var dsn, direct string
			if via == "direct" {
				direct = pgtest.NewDatabase(t)
				dsn = direct
			} else {
				dsn, direct = bouncerDSN(t, "exec")
			}
			conn := fixture.Conn(t, direct)
			fixture.AddUser(t, conn, fixture.User{Email: "slow@example.com"})
			locker := fixture.Conn(t, direct)
			if _, err := locker.Exec(t.Context(), `BEGIN; LOCK TABLE rbac_user IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			defer locker.Exec(context.Background(), `ROLLBACK`)
			const waitingSQL = `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND application_name = 'b2badmin' AND wait_event_type = 'Lock'`
			cmd := helperCmd(t, dsn, "--timeout", "1s", "users", "list", "--all", "-o", "csv")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the export to wait on the lock", func() bool { return countQuery(t, conn, waitingSQL) == 1 })
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			killed := time.Now()
			// statement_timeout is the deadline plus a second: 2 s after start.
			waitFor(t, 4*time.Second, "the killed tool's statement to end", func() bool { return countQuery(t, conn, waitingSQL) == 0 })
			t.Logf("statement ended %s after the kill", time.Since(killed).Round(time.Millisecond))
		})
	}
}

func writeFileAt(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
