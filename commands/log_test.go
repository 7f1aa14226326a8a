package commands

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

type logJSON struct {
	ID        int64          `json:"id"`
	CreatedAt string         `json:"created_at"`
	Actor     string         `json:"actor"`
	Action    string         `json:"action"`
	UserID    *int64         `json:"user_id"`
	Email     *string        `json:"email"`
	Before    map[string]any `json:"before"`
	After     map[string]any `json:"after"`
	Reason    string         `json:"reason"`
	Command   string         `json:"command"`
	Detail    map[string]any `json:"detail"`
	RunID     *string        `json:"run_id"`
	BatchFile string         `json:"batch_file"`
	BatchLine *int           `json:"batch_line"`
}

func readLog(t *testing.T, dsn string, args ...string) []logJSON {
	t.Helper()
	r := mustRun(t, dsn, append([]string{"log", "-o", "json"}, args...)...)
	var out []logJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("log -o json: %v\n%s", err, r.Stdout)
	}
	return out
}

func TestLogFiltersAndFormats(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	a := fixture.AddUser(t, db, fixture.User{Email: "a@example.com", LastName: "Old"})
	fixture.AddUser(t, db, fixture.User{Email: "b@example.com"})
	cliRun{DSN: dsn}.run(t, "--actor", "alice", "users", "update", "a@example.com", "--last-name", "New", "--reason", "typo")
	cliRun{DSN: dsn, Env: map[string]string{"B2BADMIN_ACTOR": "bob"}}.run(t, "users", "deactivate", "a@example.com", "b@example.com", "--yes")

	all := readLog(t, dsn)
	if len(all) != 3 {
		t.Fatalf("%d rows, want 3", len(all))
	}
	// An empty --run or --user (an unset shell variable) is refused, not
	// taken to mean every row.
	for _, flag := range []string{"--run", "--user"} {
		r := runCLI(t, dsn, "log", flag, "", "-o", "json")
		assertOneLineError(t, r, ExitUsage)
		if r.Stdout != "" {
			t.Fatalf("log %s '' printed %q", flag, r.Stdout)
		}
	}
	// Newest first; --reverse gives the oldest first.
	if all[0].ID < all[2].ID || readLog(t, dsn, "--reverse")[0].ID != all[2].ID {
		t.Fatal("order: newest first by default, oldest first with --reverse")
	}
	upd := all[2]
	if upd.Action != "users.update" || upd.Actor != "alice" || *upd.UserID != a || *upd.Email != "a@example.com" ||
		upd.Before["last_name"] != "Old" || upd.After["last_name"] != "New" || upd.Reason != "typo" || upd.RunID == nil {
		t.Fatalf("update row %+v", upd)
	}
	if _, err := time.Parse(time.RFC3339, upd.CreatedAt); err != nil || !strings.HasSuffix(upd.CreatedAt, "Z") {
		t.Fatalf("created_at %q is not RFC 3339 UTC", upd.CreatedAt)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--user", "a@example.com"}, 2},
		{[]string{"--user", "A@EXAMPLE.COM", "--action", "deactivate"}, 1},
		{[]string{"--action", "users.deactivate"}, 2},
		{[]string{"--actor", "alice"}, 1},
		{[]string{"--actor", "nobody"}, 0},
		{[]string{"--since", "1h"}, 3},
		{[]string{"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 0},
		{[]string{"--until", "2000-01-01"}, 0},
		{[]string{"--until", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--since", "2000-01-01"}, 3},
		{[]string{"--limit", "2"}, 2},
	} {
		if got := readLog(t, dsn, c.args...); len(got) != c.want {
			t.Errorf("log %v: %d rows, want %d", c.args, len(got), c.want)
		}
	}
	// CSV: header = JSON keys; before/after are JSON text.
	r := mustRun(t, dsn, "log", "-o", "csv", "--action", "update", "--columns", "id,action,before,after,command")
	recs, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v %q", err, r.Stdout)
	}
	var after map[string]any
	if recs[0][3] != "after" || json.Unmarshal([]byte(recs[1][3]), &after) != nil || after["last_name"] != "New" {
		t.Fatalf("csv rows %q", recs)
	}
	if !strings.HasPrefix(recs[1][4], "b2badmin --actor alice users update") {
		t.Fatalf("command %q", recs[1][4])
	}
	// JSON Lines stream one object per line.
	r = mustRun(t, dsn, "log", "-o", "jsonl")
	if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 3 {
		t.Fatalf("jsonl lines %d", len(lines))
	}
	// Table output works and has the default columns.
	r = mustRun(t, dsn, "log", "--limit", "1")
	if !strings.Contains(r.Stdout, "users.deactivate") {
		t.Fatalf("table %q", r.Stdout)
	}
	// Bad input.
	assertOneLineError(t, runCLI(t, dsn, "log", "--user", "ghost@example.com"), 3)
	assertOneLineError(t, runCLI(t, dsn, "log", "--since", "yesterday-ish"), 2)
	assertOneLineError(t, runCLI(t, dsn, "log", "--limit", "-1"), 2)
}

// Inside a batch the file is the confirmation, and every log row records
// the batch's run, file and line.
func TestBatchLineIsConfirmationAndLogged(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	fixture.AddUser(t, db, fixture.User{Email: "b@example.com"})
	file := writeFile(t, "ops.txt", "# two users, no --yes: the file confirms\n\nusers deactivate a@example.com b@example.com\n")
	r := mustRun(t, dsn, "batch", file)
	rows := readLog(t, dsn, "--reverse")
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	run := queryText(t, db, `SELECT id::text FROM api_operationrun`)
	if !strings.Contains(r.Stderr, "run "+run+": ") {
		t.Fatalf("the batch's summary does not name run %s: %q", run, r.Stderr)
	}
	for _, r := range rows {
		if r.RunID == nil || *r.RunID != run || r.BatchFile != file || r.BatchLine == nil || *r.BatchLine != 3 {
			t.Fatalf("batch fields %+v", r)
		}
	}
}

// --action takes one of a fixed set: a typo fails (exit 2, did you mean)
// before any SQL, instead of listing nothing with exit 0 as on main.
func TestLogActionTypoExitsTwo(t *testing.T) {
	for action, want := range map[string]string{
		"deactiv":         `b2badmin: unknown action "deactiv" for --action (did you mean "deactivate"?)`,
		"users.set_group": `b2badmin: unknown action "users.set_group" for --action (did you mean "users.set-group" or "users.add-group" or "users.set-role"?)`,
		"frobnicate":      `b2badmin: unknown action "frobnicate" for --action`,
		"%":               `b2badmin: unknown action "%" for --action`, // not a LIKE pattern
	} {
		r := cliRun{DSN: noDB}.run(t, "log", "--action", action)
		assertOneLineError(t, r, ExitUsage)
		if got := strings.TrimSuffix(r.Stderr, "\n"); got != want {
			t.Errorf("--action %s: %q, want %q", action, got, want)
		}
	}
	for _, action := range []string{"deactivate", "users.deactivate", "undo", "disable", "2fa.disable", "access.apply", "set-role"} {
		if r := (cliRun{DSN: noDB}).run(t, "log", "--action", action); r.Code != ExitFailure || !strings.Contains(r.Stderr, "cannot connect") {
			t.Errorf("--action %s: exit %d, %q (want it accepted, then the connection to fail)", action, r.Code, r.Stderr)
		}
	}
}
