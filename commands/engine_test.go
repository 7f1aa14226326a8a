package commands

import (
	"context"
	"encoding/json"
	"fmt"
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
