package commands

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/fixture"
)

func TestDeactivateManyFromStdin(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	a := fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	b := fixture.AddUser(t, db, fixture.User{Email: "b@example.com"})
	c := fixture.AddUser(t, db, fixture.User{Email: "c@example.com", Inactive: true})
	keep := fixture.AddUser(t, db, fixture.User{Email: "keep@example.com"})
	ta := addToken(t, db, a, "jti-a")
	tb1 := addToken(t, db, b, "jti-b1")
	tb2 := addToken(t, db, b, "jti-b2")
	tk := addToken(t, db, keep, "jti-keep")
	// One of a's tokens is already blacklisted: no duplicate, no error.
	if _, err := db.Exec(context.Background(), `INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at) VALUES ($1, now())`, ta); err != nil {
		t.Fatal(err)
	}
	addSession(t, db, "sa-plain", djangoSession(a, false))
	addSession(t, db, "sb-zlib", djangoSession(b, true))
	addSession(t, db, "skeep", djangoSession(keep, true))
	addSession(t, db, "sanon", "eyJjYXJ0IjpbMV19:1tCa2b:c2ln") // {"cart":[1]}, no user

	r := cliRun{DSN: dsn, Stdin: fmt.Sprintf("%d\n# a comment\n\nB@example.com\nc@example.com\n", a), Env: map[string]string{"B2BADMIN_ACTOR": "ops"}}.
		run(t, "users", "deactivate", "-", "--yes", "--reason", "OPS-77")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "already inactive") || !strings.Contains(r.Stderr, "c@example.com") {
		t.Fatalf("already-inactive user not reported: %q", r.Stderr)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM rbac_user WHERE is_active`); n != 1 {
		t.Fatalf("%d active users, want 1 (keep)", n)
	}
	if got := queryText(t, db, `SELECT string_agg(o.jti, ',' ORDER BY o.jti) FROM token_blacklist_blacklistedtoken bt JOIN token_blacklist_outstandingtoken o ON o.id = bt.token_id`); got != "jti-a,jti-b1,jti-b2" {
		t.Fatalf("blacklisted %s", got)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM token_blacklist_blacklistedtoken WHERE token_id = $1`, tk); n != 0 {
		t.Fatal("bystander's token blacklisted")
	}
	if got := queryText(t, db, `SELECT string_agg(session_key, ',' ORDER BY session_key) FROM django_session`); got != "sanon,skeep" {
		t.Fatalf("sessions left: %s", got)
	}
	logs := opLog(t, db)
	if len(logs) != 2 {
		t.Fatalf("want 2 log rows (not for the already inactive user), got %+v", logs)
	}
	// Each row records everything its change did: a's token was already
	// blacklisted, so only b's row names tokens; both lost one session.
	wantRows := []struct {
		id            int64
		before, after string
	}{
		{a, `map[is_active:true sessions:1]`, `map[is_active:false sessions:0]`},
		{b, `map[blacklisted_tokens:[] is_active:true sessions:1]`, fmt.Sprintf(`map[blacklisted_tokens:[%d %d] is_active:false sessions:0]`, tb1, tb2)},
	}
	for i, want := range wantRows {
		l := logs[i]
		if l.UserID != want.id || l.Action != "users.deactivate" || l.Actor != "ops" || l.Reason != "OPS-77" ||
			fmt.Sprint(l.Before) != want.before || fmt.Sprint(l.After) != want.after {
			t.Fatalf("log row %d: %+v\nwant before %s after %s", i, l, want.before, want.after)
		}
	}
	_ = c
	// Activating again logs users.activate for all three.
	mustRun(t, dsn, "users", "activate", "a@example.com", "b@example.com", "c@example.com", "--yes")
	if n := queryInt(t, db, `SELECT count(*) FROM api_operationlog WHERE action = 'users.activate'`); n != 3 {
		t.Fatalf("%d activate rows, want 3", n)
	}
}

func TestDeactivateKeepSessions(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	a := fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	addSession(t, db, "s1", djangoSession(a, false))
	addToken(t, db, a, "jti")
	mustRun(t, dsn, "users", "deactivate", "a@example.com", "--keep-sessions")
	if n := queryInt(t, db, `SELECT count(*) FROM django_session`); n != 1 {
		t.Fatal("--keep-sessions deleted the session")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM token_blacklist_blacklistedtoken`); n != 1 {
		t.Fatal("tokens must be blacklisted even with --keep-sessions")
	}
}

func TestDeactivateAllOrNothingAndBlastRadius(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	a := fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	fixture.AddUser(t, db, fixture.User{Email: "b@example.com"})
	addSession(t, db, "s1", djangoSession(a, false))
	addToken(t, db, a, "jti")
	before := fixture.DumpAll(t, db)

	// An unknown user among many: exit 3, names it, nothing changes.
	r := cliRun{DSN: dsn, Stdin: "a@example.com\nghost@example.com\nb@example.com\n"}.run(t, "users", "deactivate", "-", "--yes")
	assertOneLineError(t, r, 3)
	if !strings.Contains(r.Stderr, "ghost@example.com") {
		t.Fatalf("unknown user not named: %q", r.Stderr)
	}
	// More than one user without a terminal and without --yes: exit 2.
	assertOneLineError(t, runCLI(t, dsn, "users", "deactivate", "a@example.com", "b@example.com"), 2)
	// --max-affected: exit 4, nothing written; a dry run is refused alike.
	assertOneLineError(t, runCLI(t, dsn, "users", "deactivate", "a@example.com", "b@example.com", "--yes", "--max-affected", "1"), 4)
	assertOneLineError(t, runCLI(t, dsn, "users", "deactivate", "a@example.com", "b@example.com", "--dry-run", "--max-affected", "1"), 4)
	assertOneLineError(t, runCLI(t, dsn, "users", "deactivate", "a@example.com", "--max-affected", "-1"), 2)
	// A terminal that answers no: exit 2. The prompt names the database,
	// the users and what an undo could not bring back.
	r = cliRun{DSN: dsn, TTY: true, Stdin: "n\n"}.run(t, "users", "deactivate", "a@example.com", "b@example.com")
	prompt := fmt.Sprintf("b2badmin: users deactivate will change 2 users of %s: %d (a@example.com), %d (b@example.com)\n"+
		"b2badmin: an undo cannot bring back: deleted Django sessions\nContinue? [y/N] b2badmin: aborted", client.DescribeDSN(dsn), a, a+1)
	if r.Code != 2 || !strings.HasPrefix(r.Stderr, prompt) {
		t.Fatalf("declined prompt: exit %d %q\nwant prefix %q", r.Code, r.Stderr, prompt)
	}
	// Dry run: the exact change list, side effects included, nothing written.
	r = mustRun(t, dsn, "users", "deactivate", "a@example.com", "b@example.com", "--dry-run", "-o", "json")
	rows := parseChanges(t, r.Stdout)
	var fields []string
	for _, row := range rows {
		fields = append(fields, fmt.Sprintf("%s:%s:%v->%v", row.Email, row.Field, row.Before, row.After))
	}
	if got := strings.Join(fields, " "); !regexp.MustCompile(`^a@example.com:blacklisted_tokens:\[\]->\[\d+\] a@example.com:is_active:true->false a@example.com:sessions:1->0 b@example.com:is_active:true->false$`).MatchString(got) {
		t.Fatalf("dry run rows %s", got)
	}
	if !strings.Contains(r.Stderr, "1 session deleted") || !strings.Contains(r.Stderr, "nothing was written") {
		t.Fatalf("dry run summary %q", r.Stderr)
	}
	assertUnchanged(t, db, before)

	// A terminal that answers yes goes ahead.
	r = cliRun{DSN: dsn, TTY: true, Stdin: "y\n"}.run(t, "users", "deactivate", "a@example.com", "b@example.com")
	if r.Code != 0 || queryInt(t, db, `SELECT count(*) FROM rbac_user WHERE is_active`) != 0 {
		t.Fatalf("confirmed deactivation: exit %d %s", r.Code, r.Stderr)
	}
}

func TestDeactivateOutputOnRequest(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "a@example.com"})
	r := mustRun(t, dsn, "users", "deactivate", "a@example.com")
	if r.Stdout != "" {
		t.Fatalf("a real run prints the change list only with -o: %q", r.Stdout)
	}
	r = mustRun(t, dsn, "users", "activate", "a@example.com", "-o", "jsonl")
	var row changeRow
	if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &row) != nil ||
		row.Field != "is_active" || row.Before != false || row.After != true {
		t.Fatalf("jsonl %q", r.Stdout)
	}
}

// Deactivation finds the sessions the seeder writes (Django's encoding),
// decoded here independently: base64url, zlib + JSON, no shared code.
func TestDeactivateFindsSeededSessions(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	mustRun(t, dsn, "db", "seed", "--users", "300", "--seed", "3")
	owners := func() map[string]int {
		rows, err := db.Query(context.Background(), `SELECT session_data FROM django_session`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for rows.Next() {
			var data string
			if err := rows.Scan(&data); err != nil {
				t.Fatal(err)
			}
			payload, _, _ := strings.Cut(data, ":")
			payload, compressed := strings.CutPrefix(payload, ".")
			raw, err := base64.RawURLEncoding.DecodeString(payload)
			if err == nil && compressed { // Django compresses nearly every session
				var zr io.ReadCloser
				if zr, err = zlib.NewReader(bytes.NewReader(raw)); err == nil {
					raw, err = io.ReadAll(zr)
				}
			}
			var s struct {
				UID string `json:"_auth_user_id"`
			}
			if err != nil || json.Unmarshal(raw, &s) != nil {
				t.Fatalf("seeded session %q does not decode", data)
			}
			out[s.UID]++
		}
		return out
	}
	before := owners()
	if len(before) < 2 {
		t.Skipf("seed made sessions for %d users only", len(before))
	}
	var targets []string
	total := 0
	for uid, n := range before {
		if len(targets) < len(before)/2 {
			targets = append(targets, uid)
			total += n
		}
	}
	r := cliRun{DSN: dsn, Stdin: strings.Join(targets, "\n")}.run(t, "users", "deactivate", "-", "--yes")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	after := owners()
	for _, uid := range targets {
		if after[uid] != 0 {
			t.Fatalf("user %s still has %d sessions", uid, after[uid])
		}
	}
	if len(after) != len(before)-len(targets) {
		t.Fatalf("bystanders lost sessions: %d owners left, want %d", len(after), len(before)-len(targets))
	}
	if !strings.Contains(r.Stderr, fmt.Sprintf("%d sessions deleted", total)) {
		t.Fatalf("summary %q, want %d sessions deleted", r.Stderr, total)
	}
}
