package commands

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// stateSum is what a change and its undo must leave equal: users,
// memberships, grants, commission plans and 2FA devices, by value (the
// surrogate ids of re-inserted membership rows and plan timestamps are
// not part of the state).
func stateSum(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	return queryText(t, db, `SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
  SELECT 'u' || md5(string_agg(u::text, ',' ORDER BY u.id)) x FROM rbac_user u
  UNION ALL SELECT 'g' || coalesce(md5(string_agg(user_id || ':' || group_id, ',' ORDER BY user_id, group_id)), '') FROM rbac_user_groups
  UNION ALL SELECT 'p' || coalesce(md5(string_agg(user_id || ':' || permission_id, ',' ORDER BY user_id, permission_id)), '') FROM rbac_user_user_permissions
  UNION ALL SELECT 'c' || coalesce(md5(string_agg(concat_ws(':', uc.user_id, c.operation, c.currency, c.percent, c.fixed_fee, c.min_fee, c.max_fee), ','
      ORDER BY uc.user_id, c.operation, c.currency)), '') FROM commissions_usercommission uc JOIN commissions_commission c ON c.id = uc.commission_id
  UNION ALL SELECT 'd' || coalesce(md5(string_agg(concat_ws(':', user_id, id, name, confirmed), ',' ORDER BY id)), '') FROM otp_totp_totpdevice
  UNION ALL SELECT 'e' || coalesce(md5(string_agg(concat_ws(':', user_id, id, name, confirmed), ',' ORDER BY id)), '') FROM otp_email_emaildevice
) s`)
}

var runLine = regexp.MustCompile(`(?m)^b2badmin: run ([0-9a-f-]{36}): `)

// runID returns the run a command's stderr names.
func runID(t *testing.T, r cliResult) string {
	t.Helper()
	m := runLine.FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("no run named: %q", r.Stderr)
	}
	return m[1]
}

// TestUndoRoundTrip: for every reversible command, undoing its run brings
// every user, membership, grant, plan and device back exactly; the undo's
// dry run equals it and changes nothing; undoing the undo re-applies the
// run exactly.
func TestUndoRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		stdin string
		// lossy: undoing the undo cannot re-apply the run (a deleted
		// device cannot be recreated), so it needs --partial.
		lossy bool
	}{
		{"users update", []string{"users", "update", "ann@example.com", "--first-name", "Annie", "--phone", "+44 20 7946 0958", "--ip-whitelist", "10.0.0.0/8"}, "", false},
		{"users update -", []string{"users", "update", "-", "--language", "fr", "--communication-language", "de"}, "ann@example.com\nbob@example.com\ndee@example.com\n", false},
		{"users update --active false", []string{"users", "update", "bob@example.com", "--active", "false", "--last-name", "Gone"}, "", false},
		{"users activate", []string{"users", "activate", "cid@example.com"}, "", false},
		{"users deactivate", []string{"users", "deactivate", "ann@example.com", "bob@example.com", "dee@example.com"}, "", false},
		{"users set-group", []string{"users", "set-group", "ann@example.com", "Merchant staff", "Email not verified"}, "", false},
		{"users add-group", []string{"users", "add-group", "-", "KYC not verified"}, "ann@example.com\nbob@example.com\n", false},
		{"users remove-group", []string{"users", "remove-group", "ann@example.com", "API", "Phone not verified"}, "", false},
		{"users set-role", []string{"users", "set-role", "-", "Legal merchant owner"}, "ann@example.com\nbob@example.com\n", false},
		{"perms grant", []string{"perms", "grant", "-", "api.view_*", "kyc.add_kycuser"}, "ann@example.com\nbob@example.com\n", false},
		{"perms revoke", []string{"perms", "revoke", "ann@example.com", "kyc.*", "api.view_wallet"}, "", false},
		{"commissions set (change)", []string{"commissions", "set", "ann@example.com", "--operation", "deposit", "--currency", "USDT", "--percent", "2", "--max", "9.5"}, "", false},
		{"commissions set (create)", []string{"commissions", "set", "-", "--operation", "payout", "--currency", "BTC", "--percent", "0.25", "--fixed", "0.0001"}, "bob@example.com\ndee@example.com\n", false},
		{"2fa enable", []string{"2fa", "enable", "bob@example.com", "--method", "totp"}, "", true},
		{"selector", []string{"users", "deactivate", "--type", "merchant", "--active"}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEngineDB(t)
			start := stateSum(t, e.db)
			run := runID(t, cliRun{DSN: e.dsn, Stdin: c.stdin}.run(t, append(c.args, "--yes")...))
			applied := stateSum(t, e.db)
			if applied == start {
				t.Fatal("the command changed nothing: the case tests nothing")
			}
			before := fixture.DumpAll(t, e.db)
			dry := mustRun(t, e.dsn, "undo", run[:8], "--dry-run", "-o", "json", "--restore-tokens")
			assertUnchanged(t, e.db, before)
			if !strings.Contains(dry.Stderr, "dry run: would have undone run "+run+" for ") {
				t.Errorf("dry run's summary: %q", dry.Stderr)
			}
			real := mustRun(t, e.dsn, "undo", run, "--yes", "-o", "json", "--restore-tokens")
			if dry.Stdout != real.Stdout {
				t.Fatalf("undo's change lists differ:\ndry:  %s\nreal: %s", dry.Stdout, real.Stdout)
			}
			if got := stateSum(t, e.db); got != start {
				t.Fatalf("after undo the state differs from before the run\n%s", fixture.DumpAll(t, e.db))
			}
			undo := runID(t, real)
			if rev := queryText(t, e.db, `SELECT coalesce(reverts_id::text, '') FROM api_operationrun WHERE id = $1`, undo); rev != run {
				t.Fatalf("the undo run records reverts %q, want %s", rev, run)
			}
			// Undoing it again does nothing: every field is back.
			if r := mustRun(t, e.dsn, "undo", run, "--yes"); !strings.Contains(r.Stderr, "no change") {
				t.Fatalf("a second undo of the same run: %s", r.Stderr)
			}
			if c.lossy {
				assertOneLineError(t, runCLI(t, e.dsn, "undo", undo, "--yes"), ExitRefused)
				return
			}
			// The undo of the undo re-applies the run.
			mustRun(t, e.dsn, "undo", undo, "--yes")
			if got := stateSum(t, e.db); got != applied {
				t.Fatalf("undo of the undo does not give the run's state back\n%s", fixture.DumpAll(t, e.db))
			}
		})
	}
}

// A later change to a user is a conflict: the undo refuses as a whole
// (exit 4) and lists it; --skip-conflicts undoes the others. A run
// partly undone (--user) is then undone for what remains.
func TestUndoConflictsAndPartlyUndoneRuns(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	start := stateSum(t, e.db)
	run := runID(t, cliRun{DSN: e.dsn, Stdin: "ann@example.com\nbob@example.com\ndee@example.com\n"}.run(t, "perms", "grant", "-", "api.charge_wallet", "--yes"))
	mustRun(t, e.dsn, "perms", "revoke", "bob@example.com", "api.charge_wallet") // someone else's later change
	mid := stateSum(t, e.db)
	r := runCLI(t, e.dsn, "undo", run, "--yes")
	if r.Code != ExitRefused || !strings.Contains(r.Stderr, fmt.Sprintf("b2badmin: conflict: user %d (bob@example.com) permissions: the run left ", e.bob)) {
		t.Fatalf("undo over a later change: exit %d %s", r.Code, r.Stderr)
	}
	if stateSum(t, e.db) != mid {
		t.Fatal("a refused undo changed the state")
	}
	// Only ann: a partial undo of the run.
	mustRun(t, e.dsn, "undo", run, "--user", "ann@example.com")
	// The rest, skipping bob: dee is undone, ann already was, bob reported.
	r = mustRun(t, e.dsn, "undo", run, "--skip-conflicts", "--yes", "-o", "json")
	rows := parseChanges(t, r.Stdout)
	if len(rows) != 1 || rows[0].UserID != e.dee || !strings.Contains(r.Stderr, fmt.Sprintf("skipped user %d (bob@example.com)", e.bob)) {
		t.Fatalf("--skip-conflicts: %+v %s", rows, r.Stderr)
	}
	// Bob's own revoke put him back where the run found him: with the
	// others undone, the whole state is as before the run.
	if stateSum(t, e.db) != start {
		t.Fatal("the run is not wholly undone")
	}
	assertOneLineError(t, runCLI(t, e.dsn, "undo", run, "--user", "cid@example.com"), ExitRefused)
	assertOneLineError(t, runCLI(t, e.dsn, "undo", "0000"), ExitRefused)
	assertOneLineError(t, runCLI(t, e.dsn, "undo", "01234567-0000-7000-8000-000000000000"), ExitNotFound)
}

// An undo that would give an email back to its old owner after another
// user took it is refused in one line (exit 4), dry run or not, and
// changes nothing; once the address is free again, the undo goes through.
func TestUndoRefusesAnEmailTakenSince(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	start := stateSum(t, e.db)
	run := runID(t, mustRun(t, e.dsn, "users", "update", "ann@example.com", "--email", "ann.new@example.com"))
	mustRun(t, e.dsn, "users", "update", "bob@example.com", "--email", "ANN@example.com") // bob takes ann's old address
	mid := stateSum(t, e.db)
	want := fmt.Sprintf("b2badmin: refused: undo would give back email ann@example.com to user %d (user %d uses it now)", e.ann, e.bob)
	for _, args := range [][]string{{"undo", run, "--yes"}, {"undo", run, "--dry-run"}} {
		r := runCLI(t, e.dsn, args...)
		assertOneLineError(t, r, ExitRefused)
		if !strings.HasPrefix(r.Stderr, want) {
			t.Fatalf("%v: stderr %q, want %q", args, r.Stderr, want)
		}
	}
	if stateSum(t, e.db) != mid {
		t.Fatal("a refused undo changed the state")
	}
	mustRun(t, e.dsn, "users", "update", fmt.Sprint(e.bob), "--email", "bob@example.com")
	mustRun(t, e.dsn, "undo", run, "--yes")
	if stateSum(t, e.db) != start {
		t.Fatal("the undo did not bring ann's email back")
	}
}

// Emails traded inside one run (a rename through a spare address, a swap)
// come back exactly: the holder the undo moves off an address frees it.
func TestUndoEmailsTradedInOneRun(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	start := stateSum(t, e.db)
	// bob takes ann's address, ann takes bob's: a swap, then a rename.
	swap := strings.Join([]string{
		"users update ann@example.com --email spare@example.com",
		"users update bob@example.com --email ann@example.com",
		fmt.Sprintf("users update %d --email bob@example.com", e.ann),
		"users update dee@example.com --email dee.new@example.com",
		"users update cid@example.com --email DEE@example.com",
	}, "\n") + "\n"
	run := runID(t, cliRun{DSN: e.dsn, Stdin: swap}.run(t, "batch"))
	if queryText(t, e.db, fmt.Sprintf("SELECT email FROM rbac_user WHERE id = %d", e.bob)) != "ann@example.com" {
		t.Fatal("the batch did not swap the addresses")
	}
	dry := runCLI(t, e.dsn, "undo", run, "--dry-run")
	if dry.Code != 0 {
		t.Fatalf("undo --dry-run: exit %d %s", dry.Code, dry.Stderr)
	}
	mustRun(t, e.dsn, "undo", run, "--yes")
	if stateSum(t, e.db) != start {
		t.Fatal("the undo did not bring every address back")
	}
	// A swap whose other side is a conflict: the conflict is what the
	// refusal names; skipped, that user keeps the address, and the undo of
	// the other is refused for it.
	swap = strings.Join([]string{
		"users update ann@example.com --email spare@example.com",
		"users update bob@example.com --email ann@example.com --last-name Swapped",
		fmt.Sprintf("users update %d --email bob@example.com", e.ann),
	}, "\n") + "\n"
	run = runID(t, cliRun{DSN: e.dsn, Stdin: swap}.run(t, "batch"))
	mustRun(t, e.dsn, "users", "update", fmt.Sprint(e.bob), "--last-name", "Later")
	r := runCLI(t, e.dsn, "undo", run, "--yes")
	if r.Code != ExitRefused || !strings.Contains(r.Stderr, fmt.Sprintf("conflict: user %d (ann@example.com) last_name", e.bob)) {
		t.Fatalf("undo of a swap with a conflict: exit %d %s", r.Code, r.Stderr)
	}
	r = runCLI(t, e.dsn, "undo", run, "--yes", "--skip-conflicts")
	assertOneLineError(t, r, ExitRefused)
	if !strings.Contains(r.Stderr, fmt.Sprintf("ann@example.com to user %d (user %d uses it now)", e.ann, e.bob)) {
		t.Fatalf("--skip-conflicts: %s", r.Stderr)
	}
}

// --restore-tokens un-blacklists exactly the tokens the run blacklisted and
// that have not expired; without it they stay, and the undo says so.
func TestUndoRestoreTokens(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	expired := addToken(t, e.db, e.ann, "jti-expired")
	mustExec(t, e.db, `UPDATE token_blacklist_outstandingtoken SET expires_at = now() - interval '1 hour' WHERE id = $1`, expired)
	earlier := addToken(t, e.db, e.ann, "jti-earlier")
	mustExec(t, e.db, `INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at) VALUES ($1, now())`, earlier)
	blacklisted := func() string {
		return queryText(t, e.db, `SELECT coalesce(string_agg(o.jti, ',' ORDER BY o.jti), '') FROM token_blacklist_blacklistedtoken b
            JOIN token_blacklist_outstandingtoken o ON o.id = b.token_id`)
	}
	run := runID(t, mustRun(t, e.dsn, "users", "deactivate", "ann@example.com", "bob@example.com", "--yes"))
	all := blacklisted()
	if strings.Count(all, ",") != 5 {
		t.Fatalf("blacklisted after deactivation: %s", all)
	}
	// Without --restore-tokens: users back, tokens stay blacklisted, said so.
	plain := mustRun(t, e.dsn, "undo", run, "--yes")
	if blacklisted() != all || !strings.Contains(plain.Stderr, "pass --restore-tokens") {
		t.Fatalf("undo without --restore-tokens: %s\n%s", blacklisted(), plain.Stderr)
	}
	// Deactivate again and undo with --restore-tokens.
	mustRun(t, e.dsn, "users", "activate", "ann@example.com", "bob@example.com", "--yes")
	mustExec(t, e.db, `DELETE FROM token_blacklist_blacklistedtoken WHERE token_id <> $1`, earlier)
	run = runID(t, mustRun(t, e.dsn, "users", "deactivate", "ann@example.com", "bob@example.com", "--yes"))
	mustRun(t, e.dsn, "undo", run, "--yes", "--restore-tokens")
	// Left: the token blacklisted before the run, and the expired one.
	if got := blacklisted(); got != "jti-earlier,jti-expired" {
		t.Fatalf("after --restore-tokens: %s", got)
	}
}

// What cannot come back is named and needs --partial.
func TestUndoNeedsPartial(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	pw := runID(t, cliRun{DSN: e.dsn, Stdin: "correct horse battery\n"}.run(t, "users", "set-password", "ann@example.com", "--password-stdin", "--iterations", "1000", "--force"))
	r := runCLI(t, e.dsn, "undo", pw, "--dry-run")
	assertOneLineError(t, r, ExitRefused)
	if !strings.Contains(r.Stderr, "the password of ann@example.com") || !strings.Contains(r.Stderr, "--partial") {
		t.Fatalf("set-password undo: %s", r.Stderr)
	}
	dis := runID(t, mustRun(t, e.dsn, "2fa", "disable", "ann@example.com"))
	assertOneLineError(t, runCLI(t, e.dsn, "undo", dis), ExitRefused)
	if r := mustRun(t, e.dsn, "undo", dis, "--partial"); !strings.Contains(r.Stderr, "no change") {
		t.Fatalf("--partial undo of a 2fa disable: %s", r.Stderr)
	}
	// Deleted sessions are named but do not need --partial.
	de := runID(t, mustRun(t, e.dsn, "users", "deactivate", "dee@example.com"))
	if r := mustRun(t, e.dsn, "undo", de); !strings.Contains(r.Stderr, "1 Django session the run deleted cannot come back") {
		t.Fatalf("undo of a deactivation: %s", r.Stderr)
	}
}

// SIGKILL during the undo of a 50,000-user run leaves the database exactly
// as it was before the undo.
func TestUndoKilledAppliesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL: skipped by -short (make test runs it)")
	}
	t.Parallel()
	dsn, db := writeDB(t)
	mustExec(t, db, `INSERT INTO rbac_user (password, is_superuser, email, first_name, last_name, phone, ip_white_list, language,
        communication_language, is_staff, is_active, type, uuid, date_joined, is_company_owner)
        SELECT '!x', false, 'u' || g || '@example.com', '', '', '', '', 'en', 'en', false, true, 'merchant', gen_random_uuid(), now(), false
        FROM generate_series(1, 50000) g`)
	run := runID(t, mustRun(t, dsn, "users", "deactivate", "--type", "merchant", "--yes"))
	before := fixture.DumpAll(t, db)
	for _, delay := range []time.Duration{300 * time.Millisecond, time.Duration(400+rand.IntN(1200)) * time.Millisecond} {
		cmd := helperCmd(t, dsn, "undo", run, "--yes")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		// The server notices the dead client and rolls its transaction back.
		waitFor(t, 10*time.Second, "the killed undo's backend to end", func() bool {
			return countQuery(t, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`) == 0
		})
		after := fixture.DumpAll(t, db)
		if after == before {
			continue
		}
		// A kill that lands after the COMMIT reached the server (on a
		// loaded machine the undo may take as long as the delay) finds
		// the undo committed: then it must be whole, never part of it.
		undos := countQuery(t, db, `SELECT count(*) FROM api_operationrun WHERE reverts_id = $1`, run)
		active := countQuery(t, db, `SELECT count(*) FROM rbac_user WHERE type = 'merchant' AND is_active`)
		if undos != 1 || active != 50000 {
			t.Fatalf("a killed undo (after %s, exit %v) changed the database: %d undo runs, %d of 50000 users active", delay, err, undos, active)
		}
		t.Logf("the undo committed within %s (exit %v): it is whole", delay, err)
		return
	}
}

// batch --resume after a SIGKILL at a random line applies every line
// exactly once, and refuses a file that changed.
func TestBatchResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL: skipped by -short (make test runs it)")
	}
	t.Parallel()
	e := newEngineDB(t)
	const lines = 600
	var b strings.Builder
	users := []string{"ann@example.com", "bob@example.com", "dee@example.com"}
	for i := 1; i <= lines; i++ {
		// Each line changes a name the next-but-two overwrites: a line
		// applied twice would leave a second log row for it.
		fmt.Fprintf(&b, "users update %s --first-name n%d\n", users[i%3], i)
	}
	file := writeTemp(t, "resume.txt", b.String())
	cmd := helperCmd(t, e.dsn, "batch", file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Killed once a random number of lines has committed.
	target := 1 + rand.IntN(300)
	waitFor(t, 60*time.Second, fmt.Sprintf("line %d to commit", target), func() bool {
		return countQuery(t, e.db, `SELECT coalesce(max(last_line), 0) FROM api_operationrun`) >= target
	})
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	waitFor(t, 10*time.Second, "the killed batch's backend to end", func() bool {
		return countQuery(t, e.db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`) == 0
	})
	run := queryText(t, e.db, `SELECT id::text FROM api_operationrun`)
	last := queryInt(t, e.db, `SELECT coalesce(last_line, 0) FROM api_operationrun`)
	if last >= lines {
		t.Fatalf("the batch of %d lines finished before it was killed at line %d+", lines, target)
	}
	// A changed file is refused.
	changed := writeTemp(t, "changed.txt", b.String()+"users update ann@example.com --last-name x\n")
	assertOneLineError(t, runCLI(t, e.dsn, "batch", "--resume", run, changed), ExitRefused)
	r := mustRun(t, e.dsn, "batch", "--resume", run[:13], file)
	if !strings.Contains(r.Stderr, fmt.Sprintf("resuming at %s:%d", file, last+1)) {
		t.Fatalf("resume: %s", r.Stderr)
	}
	if n := queryInt(t, e.db, `SELECT count(*) FROM (SELECT batch_line FROM api_operationlog WHERE run_id = $1 GROUP BY batch_line HAVING count(*) = 1) x`, run); n != lines {
		t.Fatalf("%d of %d lines logged exactly once", n, lines)
	}
	// Each user ends with the name of the last line naming it.
	want := map[string]string{}
	for i := 1; i <= lines; i++ {
		want[users[i%3]] = fmt.Sprintf("n%d", i)
	}
	if got := queryText(t, e.db, `SELECT string_agg(first_name, ',' ORDER BY id) FROM rbac_user WHERE id IN ($1, $2, $3)`, e.ann, e.bob, e.dee); got != want[users[0]]+","+want[users[1]]+","+want[users[2]] {
		t.Fatalf("final names %s, want %v", got, want)
	}
	if o := queryText(t, e.db, `SELECT outcome || ' ' || last_line FROM api_operationrun`); o != fmt.Sprintf("committed %d", lines) {
		t.Fatalf("run after resume: %s", o)
	}
	if r := mustRun(t, e.dsn, "batch", "--resume", run, file); !strings.Contains(r.Stderr, "nothing to resume") {
		t.Fatalf("resuming a finished run: %s", r.Stderr)
	}
}
