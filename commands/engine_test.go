package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// engineDB is a database with something for every mutating command to
// change: a merchant owner with a status group, API, a company, grants,
// refresh tokens, Django sessions (plain and compressed), a TOTP device
// and a commission plan; a second merchant; an inactive user; an
// enterprise owner with an email device.
type engineDB struct {
	dsn                  string
	db                   *pgx.Conn
	ann, bob, cid, dee   int64
	sessionKeys, otpKeys []string
	hash                 string
}

const enginePassword = "pbkdf2_sha256$600000$fixturesalt00000000000$0123456789abcdefghijklmnopqrstuvwxyzABCDEF="

func newEngineDB(t *testing.T) engineDB {
	t.Helper()
	dsn, db := writeDB(t)
	e := engineDB{dsn: dsn, db: db, hash: enginePassword}
	e.ann = fixture.AddUser(t, db, fixture.User{Email: "ann@example.com", Type: "merchant", Company: "Acme", Password: enginePassword,
		Groups: []string{"Merchant owner", "Phone not verified", "API"}, Perms: []string{"api.view_wallet", "kyc.view_kycuser"}})
	e.bob = fixture.AddUser(t, db, fixture.User{Email: "bob@example.com", Type: "merchant", Company: "Acme", Password: enginePassword,
		Groups: []string{"Merchant staff"}})
	e.cid = fixture.AddUser(t, db, fixture.User{Email: "cid@example.com", Type: "merchant", Inactive: true})
	e.dee = fixture.AddUser(t, db, fixture.User{Email: "dee@example.com", Type: "enterprise", Groups: []string{"Enterprise owner"}})
	for _, u := range []int64{e.ann, e.bob} {
		addToken(t, db, u, fmt.Sprintf("jti-%d-1", u))
		addToken(t, db, u, fmt.Sprintf("jti-%d-2", u))
	}
	for i, s := range []struct {
		u  int64
		zl bool
	}{{e.ann, false}, {e.ann, true}, {e.bob, true}, {e.dee, false}} {
		key := fmt.Sprintf("sessionkey%030d", i)
		addSession(t, db, key, djangoSession(s.u, s.zl))
		e.sessionKeys = append(e.sessionKeys, key)
	}
	const totpKey = "3132333435363738393031323334353637383930"
	mustExec(t, db, `INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits, tolerance, drift, last_t,
        throttling_failure_count, created_at) VALUES ($1, 'phone', true, $2, 30, 0, 6, 1, 0, -1, 0, now())`, e.ann, totpKey)
	mustExec(t, db, `INSERT INTO otp_email_emaildevice (user_id, name, confirmed, token, valid_until, email, throttling_failure_count)
        VALUES ($1, 'mail', true, '917364', now(), 'dee@example.com', 0)`, e.dee)
	e.otpKeys = []string{totpKey, "917364"}
	mustExec(t, db, `WITH c AS (INSERT INTO commissions_commission (operation, currency, percent, fixed_fee, min_fee, max_fee, created_at, updated_at)
        VALUES ('deposit', 'USDT', 1.5, 2, NULL, NULL, now(), now()) RETURNING id)
        INSERT INTO commissions_usercommission (user_id, commission_id, created_at) SELECT $1, id, now() FROM c`, e.ann)
	return e
}

// TestEveryChangeDryRunEqualsRealRun runs every mutating command twice on
// the same data, dry and real: the change lists are equal byte for byte,
// the dry run leaves every table as it was (runs included), and the real
// run writes exactly one log row per changed user, whose before/after is
// that user's part of the change list, under the run named on stderr.
func TestEveryChangeDryRunEqualsRealRun(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  func(e engineDB) []string
		stdin func(e engineDB) string
	}{
		{"users update", func(e engineDB) []string {
			return []string{"users", "update", "ann@example.com", "--first-name", "Annie", "--phone", "+44 20 7946 0958", "--language", "de"}
		}, nil},
		{"users update -", func(e engineDB) []string { return []string{"users", "update", "-", "--language", "fr"} },
			func(e engineDB) string { return fmt.Sprintf("%d\nbob@example.com\ndee@example.com\n", e.ann) }},
		{"users update --active false", func(e engineDB) []string {
			return []string{"users", "update", "bob@example.com", "--active", "false", "--last-name", "Gone"}
		}, nil},
		{"users set-password", func(e engineDB) []string {
			return []string{"users", "set-password", "ann@example.com", "--password-stdin", "--iterations", "1000", "--force"}
		}, func(engineDB) string { return "correct horse battery\n" }},
		{"users set-password --unusable", func(e engineDB) []string { return []string{"users", "set-password", "-", "--unusable"} },
			func(engineDB) string { return "ann@example.com\nbob@example.com\n" }},
		{"users activate", func(e engineDB) []string { return []string{"users", "activate", "cid@example.com", "ann@example.com"} }, nil},
		{"users deactivate", func(e engineDB) []string {
			return []string{"users", "deactivate", "ann@example.com", "bob@example.com", "dee@example.com", "cid@example.com"}
		}, nil},
		{"users set-group", func(e engineDB) []string { return []string{"users", "set-group", "ann@example.com", "Merchant staff"} }, nil},
		{"users add-group", func(e engineDB) []string { return []string{"users", "add-group", "-", "KYC not verified"} },
			func(engineDB) string { return "ann@example.com\nbob@example.com\n" }},
		{"users remove-group", func(e engineDB) []string {
			return []string{"users", "remove-group", "ann@example.com", "API", "Phone not verified"}
		}, nil},
		{"users set-role", func(e engineDB) []string { return []string{"users", "set-role", "-", "Legal merchant owner"} },
			func(engineDB) string { return "ann@example.com\nbob@example.com\n" }},
		{"perms grant", func(e engineDB) []string { return []string{"perms", "grant", "-", "API.view_*"} },
			func(engineDB) string { return "ann@example.com\nbob@example.com\n" }},
		{"perms revoke", func(e engineDB) []string { return []string{"perms", "revoke", "ann@example.com", "kyc.*"} }, nil},
		{"2fa enable totp", func(e engineDB) []string {
			return []string{"2fa", "enable", "-", "--method", "totp", "--replace", "--issuer", "Acme"}
		}, func(engineDB) string { return "ann@example.com\nbob@example.com\n" }},
		{"2fa enable email", func(e engineDB) []string { return []string{"2fa", "enable", "bob@example.com", "--method", "email"} }, nil},
		{"2fa disable", func(e engineDB) []string {
			return []string{"2fa", "disable", "ann@example.com", "dee@example.com", "bob@example.com"}
		}, nil},
		{"commissions set (change)", func(e engineDB) []string {
			return []string{"commissions", "set", "ann@example.com", "--operation", "deposit", "--currency", "USDT", "--percent", "2", "--max", "9.5"}
		}, nil},
		{"commissions set - (create)", func(e engineDB) []string {
			return []string{"commissions", "set", "-", "--operation", "payout", "--currency", "BTC", "--percent", "0.25", "--fixed", "0.0001"}
		}, func(engineDB) string { return "bob@example.com\ndee@example.com\n" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEngineDB(t)
			args := c.args(e)
			stdin := ""
			if c.stdin != nil {
				stdin = c.stdin(e)
			}
			before := fixture.DumpAll(t, e.db)
			dry := cliRun{DSN: e.dsn, Stdin: stdin}.run(t, append(args, "--dry-run", "-o", "json")...)
			if dry.Code != 0 {
				t.Fatalf("dry run: exit %d %s", dry.Code, dry.Stderr)
			}
			assertUnchanged(t, e.db, before)
			real := cliRun{DSN: e.dsn, Stdin: stdin}.run(t, append(args, "--yes", "-o", "json", "--reason", "engine test")...)
			if real.Code != 0 {
				t.Fatalf("real run: exit %d %s", real.Code, real.Stderr)
			}
			dryList, realList := dry.Stdout, real.Stdout
			if strings.HasPrefix(c.name, "2fa enable totp") {
				// The provisioning URI holds the key the real run created:
				// the one value a dry run cannot have.
				dryList, realList = withoutURI(t, dryList, false), withoutURI(t, realList, true)
			}
			if dryList != realList {
				t.Fatalf("change lists differ:\ndry:  %s\nreal: %s", dryList, realList)
			}
			rows := parseChanges(t, real.Stdout)
			if len(rows) == 0 {
				t.Fatal("the command changed nothing: the case tests nothing")
			}
			run := regexp.MustCompile(`(?m)^b2badmin: run ([0-9a-f-]{36}): `).FindStringSubmatch(real.Stderr)
			if run == nil {
				t.Fatalf("stderr names no run: %q", real.Stderr)
			}
			checkLoggedWhole(t, e, run[1], rows)
		})
	}
}

// withoutURI drops otpauth_uri from each change row, after checking it is
// set (real) or null (dry).
func withoutURI(t *testing.T, list string, want bool) string {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(list), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if uri, _ := r["otpauth_uri"].(string); want != strings.HasPrefix(uri, "otpauth://totp/") {
			t.Fatalf("otpauth_uri %q in a %s run", uri, map[bool]string{true: "real", false: "dry"}[want])
		}
		delete(r, "otpauth_uri")
	}
	return string(mustJSON(rows))
}

// checkLoggedWhole: the run's log rows are one per changed user, each
// holding exactly that user's fields of the change list; `log --run`
// returns them all; the run records the counts; no row holds a secret.
func checkLoggedWhole(t *testing.T, e engineDB, run string, rows []changeRow) {
	t.Helper()
	want := map[int64]map[string][2]string{}
	for _, r := range rows {
		if want[r.UserID] == nil {
			want[r.UserID] = map[string][2]string{}
		}
		want[r.UserID][r.Field] = [2]string{string(mustJSON(r.Before)), string(mustJSON(r.After))}
	}
	logs := readLog(t, e.dsn, "--run", run[:13])
	if len(logs) != len(want) {
		t.Fatalf("log --run: %d rows for %d changed users", len(logs), len(want))
	}
	for _, l := range logs {
		fields := want[*l.UserID]
		if fields == nil || len(l.After) != len(fields) || len(l.Before) > len(fields) {
			t.Fatalf("log row %+v does not match the change list %v", l, fields)
		}
		for f, ba := range fields {
			if string(mustJSON(l.Before[f])) != ba[0] || string(mustJSON(l.After[f])) != ba[1] {
				t.Fatalf("user %d field %s: log %s -> %s, change list %s -> %s", *l.UserID, f,
					mustJSON(l.Before[f]), mustJSON(l.After[f]), ba[0], ba[1])
			}
		}
		if l.Reason != "engine test" || *l.RunID != run {
			t.Fatalf("log row %+v", l)
		}
	}
	var users, changes int64
	if err := e.db.QueryRow(context.Background(), `SELECT users_changed, changes FROM api_operationrun WHERE id = $1`, run).Scan(&users, &changes); err != nil {
		t.Fatal(err)
	}
	if users != int64(len(want)) || changes != int64(len(want)) {
		t.Fatalf("run records %d users and %d changes, want %d", users, changes, len(want))
	}
	all := fixture.Dump(t, e.db, "api_operationlog")
	for _, secret := range append(append([]string{e.hash, "pbkdf2_sha256$", "fixtureunusablepassword"}, e.sessionKeys...), e.otpKeys...) {
		if strings.Contains(all, secret) {
			t.Fatalf("a log row holds the secret %q", secret)
		}
	}
	// Keys of devices the run created are secrets too.
	rows2, err := e.db.Query(context.Background(), `SELECT key FROM otp_totp_totpdevice`)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := pgx.CollectRows(rows2, pgx.RowTo[string])
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(all, k) {
			t.Fatal("a log row holds a TOTP key")
		}
	}
}

// A 2,000-user deactivation is one run: log --run lists exactly its 2,000
// rows, each naming the tokens it blacklisted; log runs shows its counts.
func TestBulkDeactivationIsOneRun(t *testing.T) {
	t.Parallel()
	dsn, db := writeDB(t)
	mustExec(t, db, `INSERT INTO rbac_user (password, is_superuser, email, first_name, last_name, phone, ip_white_list, language,
        communication_language, is_staff, is_active, type, uuid, date_joined, is_company_owner)
        SELECT '!x', false, 'bulk' || g || '@example.com', '', '', '', '', 'en', 'en', false, true, 'merchant', gen_random_uuid(), now(), false
        FROM generate_series(1, 2100) g`)
	mustExec(t, db, `INSERT INTO token_blacklist_outstandingtoken (user_id, jti, token, created_at, expires_at)
        SELECT id, 'jti' || id, 'tok', now(), now() + interval '1 day' FROM rbac_user WHERE id % 5 = 0`)
	ids := make([]string, 0, 2000)
	for i := 1; i <= 2000; i++ {
		ids = append(ids, fmt.Sprint(i))
	}
	r := cliRun{DSN: dsn, Stdin: strings.Join(ids, "\n")}.run(t, "users", "deactivate", "-", "--yes", "--reason", "dormant")
	if r.Code != 0 {
		t.Fatalf("exit %d %s", r.Code, r.Stderr)
	}
	m := regexp.MustCompile(`(?m)^b2badmin: run ([0-9a-f-]{36}): deactivated 2,000 users \(400 tokens blacklisted\)$`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("run line: %q", r.Stderr)
	}
	logs := readLog(t, dsn, "--run", m[1])
	if len(logs) != 2000 {
		t.Fatalf("log --run: %d rows, want 2000", len(logs))
	}
	withTokens := 0
	for _, l := range logs {
		if toks, ok := l.After["blacklisted_tokens"].([]any); ok && len(toks) == 1 {
			withTokens++
		}
	}
	if withTokens != 400 {
		t.Fatalf("%d rows name a blacklisted token, want 400", withTokens)
	}
	var runs []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dsn, "log", "runs", "-o", "json").Stdout), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("log runs: %v %v", runs, err)
	}
	got := runs[0]
	if got["id"] != m[1] || got["users_changed"] != 2000.0 || got["changes"] != 2000.0 || got["tokens_blacklisted"] != 400.0 ||
		got["outcome"] != "committed" || got["mode"] != "command" || got["actor"] != "tester@"+hostname(t) {
		t.Fatalf("log runs row %v", got)
	}
	if !strings.Contains(got["command"].(string), "users deactivate - --yes --reason dormant") {
		t.Fatalf("run command %v", got["command"])
	}
	// Filters: by actor and by command.
	if n := len(mustRunJSONList(t, dsn, "log", "runs", "--command", "DEACTIVATE", "--since", "1h")); n != 1 {
		t.Fatalf("--command deactivate --since 1h: %d runs", n)
	}
	if n := len(mustRunJSONList(t, dsn, "log", "runs", "--actor", "someone-else")); n != 0 {
		t.Fatalf("--actor someone-else: %d runs", n)
	}
	if n := len(readLog(t, dsn, "--reason", "DORM", "--limit", "0")); n != 2000 {
		t.Fatalf("log --reason DORM: %d rows", n)
	}
}

func mustRunJSONList(t *testing.T, dsn string, args ...string) []any {
	t.Helper()
	var out []any
	if err := json.Unmarshal([]byte(mustRun(t, dsn, append(args, "-o", "json")...).Stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func hostname(t *testing.T) string {
	t.Helper()
	h, err := osHostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Every line of a batch changes under the batch's one run.
func TestBatchLinesShareOneRun(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	file := writeFile(t, "mixed.txt", `users update ann@example.com --first-name Ann2
perms grant bob@example.com 'API.view_*'
users deactivate cid@example.com dee@example.com
2fa disable ann@example.com
`)
	r := mustRun(t, e.dsn, "batch", file)
	m := regexp.MustCompile(`(?m)^b2badmin: run ([0-9a-f-]{36}): 4 ok, 0 failed; committed$`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("summary: %q", r.Stderr)
	}
	var runs, lines, other int64
	e.db.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM api_operationrun), (SELECT count(DISTINCT batch_line) FROM api_operationlog WHERE run_id = $1),
        (SELECT count(*) FROM api_operationlog WHERE run_id IS DISTINCT FROM $1)`, m[1]).Scan(&runs, &lines, &other)
	// cid was already inactive: line 3 changed dee only.
	if runs != 1 || lines != 4 || other != 0 {
		t.Fatalf("%d runs, %d lines logged under the run, %d rows elsewhere", runs, lines, other)
	}
	run := queryText(t, e.db, `SELECT outcome || ' ' || mode || ' ' || last_line || ' ' || users_changed || ' ' || changes || ' ' || batch_sha256 FROM api_operationrun`)
	if !regexp.MustCompile(`^committed batch 4 3 4 [0-9a-f]{64}$`).MatchString(run) {
		t.Fatalf("run row %q", run)
	}
}

// A glob is matched alike by the command and by the batch pre-check.
func TestPermGlobSameAloneAndInBatch(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	alone := runCLI(t, e.dsn, "perms", "grant", "bob@example.com", "API.View_*", "--dry-run", "-o", "json")
	file := writeFile(t, "g.txt", "perms grant bob@example.com 'API.View_*'\n")
	batch := runCLI(t, e.dsn, "batch", "--dry-run", file)
	if alone.Code != 0 || batch.Code != 0 {
		t.Fatalf("alone exit %d (%s), batch exit %d (%s)", alone.Code, alone.Stderr, batch.Code, batch.Stderr)
	}
	for _, word := range []string{"API.nothing_*", "api.[", "nope.view_wallet"} {
		a := runCLI(t, e.dsn, "perms", "grant", "bob@example.com", word)
		b := runCLI(t, e.dsn, "batch", writeFile(t, "bad.txt", "perms grant bob@example.com '"+word+"'\n"))
		if a.Code != ExitRefused || b.Code != ExitRefused {
			t.Fatalf("%q: alone exit %d, batch exit %d (%s)", word, a.Code, b.Code, b.Stderr)
		}
	}
}

// set-role replaces only the role group; add-group's refusal points at it.
func TestSetRoleKeepsStatusGroups(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	groups := func(id int64) string {
		return queryText(t, e.db, `SELECT string_agg(g.name, ',' ORDER BY g.name) FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = $1`, id)
	}
	r := runCLI(t, e.dsn, "users", "add-group", "ann@example.com", "Merchant staff")
	assertOneLineError(t, r, ExitRefused)
	if !strings.Contains(r.Stderr, "use set-role to replace the role group") {
		t.Fatalf("add-group refusal does not name set-role: %q", r.Stderr)
	}
	mustRun(t, e.dsn, "users", "set-role", "ann@example.com", "legal merchant owner")
	if got := groups(e.ann); got != "API,Legal merchant owner,Phone not verified" {
		t.Fatalf("after set-role: %s", got)
	}
	// The rules hold: an enterprise role on a merchant is refused; a status
	// group is not a role.
	assertOneLineError(t, runCLI(t, e.dsn, "users", "set-role", "ann@example.com", "Enterprise owner"), ExitRefused)
	assertOneLineError(t, runCLI(t, e.dsn, "users", "set-role", "ann@example.com", "API"), ExitRefused)
	assertOneLineError(t, runCLI(t, e.dsn, "users", "set-role", "ann@example.com", "Merchant staff", "API"), ExitUsage)
	if got := groups(e.ann); got != "API,Legal merchant owner,Phone not verified" {
		t.Fatalf("refused set-roles changed the groups: %s", got)
	}
}

var osHostname = os.Hostname

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
