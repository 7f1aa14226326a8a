package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
)

// addBoomTrigger makes the server refuse a user whose first name becomes
// BOOM: a write that fails only when the server runs it.
func addBoomTrigger(t *testing.T, db *pgx.Conn) {
	t.Helper()
	mustExec(t, db, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.first_name = 'BOOM' THEN RAISE EXCEPTION 'no BOOM here'; END IF; RETURN NEW; END $$`)
	mustExec(t, db, `CREATE TRIGGER boom BEFORE UPDATE ON rbac_user FOR EACH ROW EXECUTE FUNCTION boom()`)
}

// sideBySideText is a batch whose lines run side by side in windows: a
// second line on the same user (line 4) starts a new window, a read
// (line 7) runs alone.
var sideBySideText = strings.Join([]string{
	"users update ann@example.com --first-name A1",
	"users update bob@example.com --first-name B1 --phone +15550001",
	"users deactivate dee@example.com --reason gone",
	"users update ann@example.com --first-name A2", // same user: after line 1
	"perms grant bob@example.com api.view_wallet",
	"users add-group bob@example.com API",
	"users show ann@example.com -o json",
	"users activate cid@example.com",
	"perms revoke ann@example.com api.view_wallet",
	"users update dee@example.com --last-name D1",
	"",
}, "\n")

// The lines of an --atomic batch that change different users run side by
// side (client.Gather); the batch must still do exactly what a run line
// by line does: the same log rows in line order, the same end state, a
// second line on the same user seeing the first's change, outputs in line
// order. Default mode runs line by line, so it is the reference.
func TestAtomicSideBySideMatchesLineByLine(t *testing.T) {
	t.Parallel()
	text := sideBySideText
	type outcome struct {
		log, users, grants, groups, stdout string
	}
	run := func(args ...string) outcome {
		e := newEngineDB(t)
		file := writeTemp(t, "side.txt", text)
		r := runCLI(t, e.dsn, append(append([]string{"batch"}, args...), file)...)
		if r.Code != ExitOK {
			t.Fatalf("batch %v: exit %d\n%s", args, r.Code, r.Stderr)
		}
		q := func(sql string) string {
			var out string
			if err := e.db.QueryRow(context.Background(), sql).Scan(&out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		return outcome{
			log:    q(`SELECT string_agg(concat_ws('|', batch_line, action, target_user_id, before::text, after::text), E'\n' ORDER BY id) FROM api_operationlog`),
			users:  q(`SELECT string_agg(concat_ws('|', id, first_name, last_name, phone, is_active), E'\n' ORDER BY id) FROM rbac_user`),
			grants: q(`SELECT string_agg(concat_ws('|', user_id, permission_id), E'\n' ORDER BY user_id, permission_id) FROM rbac_user_user_permissions`),
			groups: q(`SELECT string_agg(concat_ws('|', user_id, group_id), E'\n' ORDER BY user_id, group_id) FROM rbac_user_groups`),
			// the two databases' fixtures differ in time stamps and UUIDs
			stdout: regexp.MustCompile(`"(created_at|date_joined|last_login|updated_at|from|to|month|uuid)": "[^"]*"`).ReplaceAllString(r.Stdout, ""),
		}
	}
	want, got := run(), run("--atomic")
	if want.log == "" || strings.Count(want.log, "\n") < 8 {
		t.Fatalf("the reference run logged too little:\n%s", want.log)
	}
	for _, f := range []struct{ name, want, got string }{
		{"log", want.log, got.log}, {"users", want.users, got.users}, {"grants", want.grants, got.grants},
		{"groups", want.groups, got.groups}, {"stdout", want.stdout, got.stdout},
	} {
		if f.got != f.want {
			t.Errorf("--atomic %s differs from line by line:\n--- line by line\n%s\n--- atomic\n%s", f.name, f.want, f.got)
		}
	}
	if !strings.Contains(want.log, `4|users.update|1|{"first_name": "A1"}|{"first_name": "A2"}`) {
		t.Fatalf("line 4 did not see line 1's change:\n%s", want.log)
	}
}

// An email can change hands inside a batch: after such a line, a later
// line naming a user by email may name someone else than the pre-check
// saw, so it must not run side by side with a line naming that user by id.
func TestAtomicSideBySideAfterEmailMoves(t *testing.T) {
	t.Parallel()
	text := strings.Join([]string{
		"users update bob@example.com --email bob2@example.com",
		"users update ann@example.com --email bob@example.com", // bob@example.com is ann now
		"users update bob@example.com --first-name X",          // ann
		"users update 1 --first-name Y",                        // ann again, by id
		"",
	}, "\n")
	logOf := func(args ...string) string {
		e := newEngineDB(t)
		if e.ann != 1 {
			t.Fatalf("the fixture's ann is user %d, the file names 1", e.ann)
		}
		r := runCLI(t, e.dsn, append(append([]string{"batch"}, args...), writeTemp(t, "moves.txt", text))...)
		if r.Code != ExitOK {
			t.Fatalf("batch %v: exit %d\n%s", args, r.Code, r.Stderr)
		}
		var out string
		if err := e.db.QueryRow(context.Background(), `SELECT string_agg(concat_ws('|', batch_line, target_user_id, before::text, after::text), E'\n' ORDER BY id) FROM api_operationlog`).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want, got := logOf(), logOf("--atomic")
	if !strings.Contains(want, `4|1|{"first_name": "X"}|{"first_name": "Y"}`) {
		t.Fatalf("line by line, line 4 did not see line 3's change on ann:\n%s", want)
	}
	if got != want {
		t.Fatalf("--atomic differs from line by line:\n--- line by line\n%s\n--- atomic\n%s", want, got)
	}
}

// A line that fails among lines running side by side is reported as a
// run line by line reports it: the lines before ok, the failed line, the
// rest not run, nothing applied.
func TestAtomicSideBySideFailureStops(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	before := fixture.DumpAll(t, e.db)
	file := writeTemp(t, "side-fail.txt", strings.Join([]string{
		"users update ann@example.com --first-name A1",
		"users add-group bob@example.com 'Enterprise owner'", // bob is a merchant: refused
		"users update dee@example.com --first-name D1",
		"users update cid@example.com --first-name C1",
		"",
	}, "\n"))
	r := runCLI(t, e.dsn, "batch", "--atomic", "-o", "jsonl", file)
	if r.Code != ExitRefused || !strings.Contains(r.Stderr, file+":2: ") ||
		!strings.Contains(r.Stderr, "1 ok, 1 failed, 2 not run (stopped before "+file+":3); rolled back, nothing was applied") {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	var lines []int
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		var res struct {
			Line   int    `json:"line"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(l), &res); err != nil {
			t.Fatalf("result %q: %v", l, err)
		}
		lines = append(lines, res.Line)
	}
	if fmt.Sprint(lines) != "[1 2]" {
		t.Fatalf("result lines %v, want [1 2]", lines)
	}
	assertUnchanged(t, e.db, before)
}

// In a default-mode batch a line's COMMIT rides on the next line's first
// round trip: when its writes fail there, that line is reported failed at
// its own line number, the line that sent them did not run, the lines
// before stay committed, and --resume starts again at the failed line. A
// line reading right after a change sees it committed.
func TestChainedCommitFailsAtItsLine(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	addBoomTrigger(t, e.db)
	name := func(id int64) string {
		var n string
		if err := e.db.QueryRow(context.Background(), `SELECT first_name FROM rbac_user WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	type result struct {
		Line     int     `json:"line"`
		Status   string  `json:"status"`
		ExitCode int     `json:"exit_code"`
		Error    *string `json:"error"`
		Output   *string `json:"output"`
	}
	for _, c := range []struct {
		name, text string
		lines      int // result rows
		summary    string
	}{
		{"middle", "users update ann@example.com --first-name Ok\nusers show ann@example.com -o json\nusers update bob@example.com --first-name BOOM\nusers update dee@example.com --first-name Later\n",
			3, "2 ok, 1 failed, 1 not run (stopped before FILE:4); partly committed"},
		{"last", "users update ann@example.com --first-name Ok\nusers show ann@example.com -o json\nusers update bob@example.com --first-name BOOM\n",
			3, "2 ok, 1 failed; partly committed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mustExec(t, e.db, `UPDATE rbac_user SET first_name = 'Before' WHERE id = ANY($1)`, []int64{e.ann, e.bob, e.dee})
			file := writeTemp(t, "chain-"+c.name+".txt", c.text)
			r := runCLI(t, e.dsn, "batch", "-o", "jsonl", file)
			if r.Code != ExitFailure || !strings.Contains(r.Stderr, file+":3: ") || !strings.Contains(r.Stderr, "no BOOM here") ||
				!strings.Contains(r.Stderr, strings.ReplaceAll(c.summary, "FILE", file)) {
				t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
			}
			var got []result
			for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
				var res result
				if err := json.Unmarshal([]byte(l), &res); err != nil {
					t.Fatalf("result %q: %v", l, err)
				}
				got = append(got, res)
			}
			if len(got) != c.lines || got[0].Status != "ok" || got[1].Status != "ok" || got[2].Status != "failed" ||
				got[2].Line != 3 || got[2].Error == nil || !strings.Contains(*got[2].Error, "no BOOM here") {
				t.Fatalf("results: %+v", got)
			}
			var shown struct {
				Info struct {
					FirstName string `json:"first_name"`
				} `json:"info"`
			}
			if got[1].Output == nil || json.Unmarshal([]byte(*got[1].Output), &shown) != nil || shown.Info.FirstName != "Ok" {
				t.Fatalf("line 2 did not see line 1 committed: %v", r.Stdout)
			}
			if a, b, d := name(e.ann), name(e.bob), name(e.dee); a != "Ok" || b != "Before" || d != "Before" {
				t.Fatalf("after the batch: ann %q bob %q dee %q", a, b, d)
			}
			run := regexp.MustCompile(`run ([0-9a-f-]{36})`).FindStringSubmatch(r.Stderr)
			if run == nil {
				t.Fatalf("no run named: %s", r.Stderr)
			}
			mustExec(t, e.db, `ALTER TABLE rbac_user DISABLE TRIGGER boom`)
			defer mustExec(t, e.db, `ALTER TABLE rbac_user ENABLE TRIGGER boom`)
			r = runCLI(t, e.dsn, "batch", "--resume", run[1], file)
			if r.Code != ExitOK || !strings.Contains(r.Stderr, "resuming at "+file+":2 (lines up to 1 committed)") {
				t.Fatalf("resume: exit %d\n%s", r.Code, r.Stderr)
			}
			if b := name(e.bob); b != "BOOM" {
				t.Fatalf("resume did not run line 3: bob %q", b)
			}
		})
	}
}

// In an --atomic batch a line's writes ride on the next line's round trip:
// when they fail there, the failure is reported at the line that wrote
// them, and nothing is applied.
func TestAtomicHeldWritesFailAtTheirLine(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	addBoomTrigger(t, e.db)
	before := fixture.DumpAll(t, e.db)
	for _, c := range []struct{ text, where string }{
		{"users update ann@example.com --first-name Ok\nusers update bob@example.com --first-name BOOM\nusers update dee@example.com --first-name Later\n", ":2: "},
		{"users update ann@example.com --first-name Ok\nusers update bob@example.com --first-name BOOM\n", ":2: "},
		// Lines 1-2 run side by side, then 3-4 (line 3 names ann again):
		// line 2's held writes fail in the second window's first round trip.
		{"users update ann@example.com --first-name Ok\nusers update bob@example.com --first-name BOOM\n" +
			"users update ann@example.com --first-name Again\nusers update dee@example.com --first-name Later\n", ":2: "},
	} {
		file := writeTemp(t, "held.txt", c.text)
		r := runCLI(t, e.dsn, "batch", "--atomic", file)
		if r.Code != ExitFailure || !strings.Contains(r.Stderr, file+c.where) || !strings.Contains(r.Stderr, "no BOOM here") ||
			!strings.Contains(r.Stderr, "1 ok, 1 failed") || !strings.Contains(r.Stderr, "rolled back, nothing was applied") {
			t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
		}
		assertUnchanged(t, e.db, before)
	}
}

// A batch's run records the batch's command line (on main: its first
// writing line's, so `log runs --command batch` missed it), and a resume
// that fails at its first line leaves the run partly committed (on main it
// said "rolled back" about a run whose first line had committed).
func TestBatchRunCommandAndFailedResume(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	addBoomTrigger(t, e.db)
	file := writeTemp(t, "resume-fails.txt", "users update ann@example.com --first-name Ok\nusers update bob@example.com --first-name BOOM\n")
	r := runCLI(t, e.dsn, "batch", file)
	run := regexp.MustCompile(`run ([0-9a-f-]{36})`).FindStringSubmatch(r.Stderr)
	if r.Code != ExitFailure || run == nil || !strings.Contains(r.Stderr, "1 ok, 1 failed; partly committed") {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	stored := func() (command, outcome string, last *int) {
		t.Helper()
		if err := e.db.QueryRow(context.Background(), `SELECT command, outcome, last_line FROM api_operationrun WHERE id = $1::uuid`, run[1]).
			Scan(&command, &outcome, &last); err != nil {
			t.Fatal(err)
		}
		return
	}
	command, _, _ := stored()
	if want := "b2badmin batch " + shellQuote(file); command != want {
		t.Errorf("run command %q, want %q", command, want)
	}
	var lineCommand string
	if err := e.db.QueryRow(context.Background(), `SELECT command FROM api_operationlog WHERE run_id = $1::uuid`, run[1]).Scan(&lineCommand); err != nil ||
		lineCommand != "b2badmin users update ann@example.com --first-name Ok" {
		t.Errorf("log row command %q (%v), want the line's text", lineCommand, err)
	}
	r = runCLI(t, e.dsn, "batch", "--resume", run[1], file)
	if r.Code != ExitFailure || !strings.Contains(r.Stderr, "0 ok, 1 failed; partly committed") {
		t.Fatalf("resume: exit %d\n%s", r.Code, r.Stderr)
	}
	if command2, outcome, last := stored(); outcome != client.RunPartlyCommitted || last == nil || *last != 1 || command2 != command {
		t.Errorf("after the failed resume: outcome %q, last line %v, command %q", outcome, last, command2)
	}
}

// A batch whose lines change nothing leaves no run, in every mode, as a
// command that changes nothing leaves none (on main each such batch
// recorded a "committed" run of 0 users and named it on stderr).
func TestNoOpBatchRecordsNoRun(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	mustExec(t, e.db, `UPDATE rbac_user SET first_name = 'Same', is_active = false WHERE id = $1`, e.ann)
	runs := func() (n int) {
		t.Helper()
		if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM api_operationrun`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	file := writeTemp(t, "noop.txt", "users update ann@example.com --first-name Same\nusers deactivate ann@example.com --reason again\nusers show ann@example.com -o json\n")
	before := runs()
	for _, mode := range [][]string{nil, {"--atomic"}, {"--continue-on-error"}} {
		r := runCLI(t, e.dsn, append(append([]string{"batch"}, mode...), file)...)
		if r.Code != ExitOK || strings.Contains(r.Stderr, "run ") || !strings.Contains(r.Stderr, "3 ok, 0 failed") {
			t.Errorf("batch %v: exit %d\n%s", mode, r.Code, r.Stderr)
		}
		if n := runs(); n != before {
			t.Errorf("batch %v of no-ops recorded %d runs", mode, n-before)
		}
	}
	// The first line that changes something records the run.
	file = writeTemp(t, "noop-then.txt", "users update ann@example.com --first-name Same\nusers update ann@example.com --first-name Other\n")
	r := runCLI(t, e.dsn, "batch", file)
	var last *int
	if err := e.db.QueryRow(context.Background(), `SELECT last_line FROM api_operationrun ORDER BY id DESC LIMIT 1`).Scan(&last); err != nil ||
		r.Code != ExitOK || runs() != before+1 || last == nil || *last != 2 || !strings.Contains(r.Stderr, "run ") {
		t.Errorf("exit %d, runs %d (was %d), last line %v (%v)\n%s", r.Code, runs(), before, last, err, r.Stderr)
	}
}

// --skip-missing with every user missing is exit 3 naming them (on main:
// "none of the users named exists not found").
func TestSkipMissingAllMissing(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	r := cliRun{DSN: e.dsn, Stdin: "999998\n999999\n"}.run(t, "users", "activate", "-", "--skip-missing", "--yes")
	if r.Code != ExitNotFound || !strings.HasSuffix(r.Stderr, "b2badmin: users 999998, 999999 not found\n") {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// A line that changes nothing still moves its run's last line, and a run
// that ended committed has nothing to resume: on the day's first cut a
// resume ran the trailing no-op again, deactivating a user reactivated since.
func TestResumeAfterTrailingNoOp(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	file := writeTemp(t, "trailing-noop.txt", "users update bob@example.com --first-name Bee\nusers deactivate ann@example.com --reason r\nusers deactivate ann@example.com --reason r\n")
	r := runCLI(t, e.dsn, "batch", file)
	run := regexp.MustCompile(`run ([0-9a-f-]{36})`).FindStringSubmatch(r.Stderr)
	if r.Code != ExitOK || run == nil {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	var last *int
	if err := e.db.QueryRow(context.Background(), `SELECT last_line FROM api_operationrun WHERE id = $1::uuid`, run[1]).Scan(&last); err != nil || last == nil || *last != 3 {
		t.Fatalf("last line %v (%v), want 3", last, err)
	}
	mustExec(t, e.db, `UPDATE rbac_user SET is_active = true WHERE id = $1`, e.ann)
	r = runCLI(t, e.dsn, "batch", "--resume", run[1], file)
	if r.Code != ExitOK || !strings.Contains(r.Stderr, "every line has committed; nothing to resume") {
		t.Fatalf("resume: exit %d\n%s", r.Code, r.Stderr)
	}
	var active bool
	if err := e.db.QueryRow(context.Background(), `SELECT is_active FROM rbac_user WHERE id = $1`, e.ann).Scan(&active); err != nil || !active {
		t.Fatalf("the resume ran a line again: ann active %v (%v)", active, err)
	}
}

// A batch that stopped with no line having written anything has no run
// and says nothing was committed (not "partly committed").
func TestStoppedBatchWithoutRunSaysNothingCommitted(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	addBoomTrigger(t, e.db)
	mustExec(t, e.db, `UPDATE rbac_user SET first_name = 'Same' WHERE id = $1`, e.ann)
	file := writeTemp(t, "noop-fail.txt", "users update ann@example.com --first-name Same\nusers update bob@example.com --first-name BOOM\n")
	for _, mode := range [][]string{nil, {"--continue-on-error"}} {
		r := runCLI(t, e.dsn, append(append([]string{"batch"}, mode...), file)...)
		if r.Code != ExitFailure || !strings.HasSuffix(r.Stderr, "b2badmin: 1 ok, 1 failed; nothing was committed\n") {
			t.Errorf("batch %v: exit %d\n%s", mode, r.Code, r.Stderr)
		}
	}
}
