package commands

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// permsDB is a fresh database with four explicit users.
type permsDB struct {
	dsn                    string
	conn                   *pgx.Conn
	alice, bob, carol, dan int64
}

func newPermsDB(t *testing.T) permsDB {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	d := permsDB{dsn: dsn, conn: conn}
	d.alice = fixture.AddUser(t, conn, fixture.User{Email: "alice@example.com", Type: "enterprise",
		Groups: []string{"Enterprise owner"}, Perms: []string{"api.view_wallet", "api.charge_wallet", "auth.view_group"}})
	d.bob = fixture.AddUser(t, conn, fixture.User{Email: "bob@example.com", Type: "merchant", Company: "Acme",
		Groups: []string{"Merchant owner", "API"}, Perms: []string{"api.view_deposit", "api.add_deposit", "kyc.view_kycuser", "node.add_address"}})
	d.carol = fixture.AddUser(t, conn, fixture.User{Email: "carol@example.com", Type: "merchant", Perms: []string{"api.view_wallet"}})
	d.dan = fixture.AddUser(t, conn, fixture.User{Email: "dan@example.com", Type: "merchant", Groups: []string{"Merchant staff"}})
	return d
}

// held returns a user's permission identifiers, sorted, straight from SQL.
func (d permsDB) held(t *testing.T, uid int64) []string {
	t.Helper()
	rows, err := d.conn.Query(context.Background(), `
SELECT ct.app_label || '.' || p.codename FROM rbac_user_user_permissions up
JOIN auth_permission p ON p.id = up.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id
WHERE up.user_id = $1 ORDER BY (ct.app_label || '.' || p.codename) COLLATE "C"`, uid)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type logRow struct {
	UserID int64
	Action string
	Before []string
	After  []string
	Reason string
}

func (d permsDB) logRows(t *testing.T) []logRow {
	t.Helper()
	rows, err := d.conn.Query(context.Background(), `
SELECT target_user_id, action, before->'permissions', after->'permissions', reason FROM api_operationlog ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []logRow
	for rows.Next() {
		var r logRow
		var b, a []byte
		if err := rows.Scan(&r.UserID, &r.Action, &b, &a, &r.Reason); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, &r.Before)
		json.Unmarshal(a, &r.After)
		out = append(out, r)
	}
	return out
}

// permChangeJSON is a row of a grant's or revoke's change list.
type permChangeJSON struct {
	UserID int64    `json:"user_id"`
	Email  string   `json:"email"`
	Field  string   `json:"field"`
	Before []string `json:"before"`
	After  []string `json:"after"`
}

func permsDecodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	return v
}

func TestPermsList(t *testing.T) {
	all := permsDecodeJSON[[]map[string]string](t, mustRun(t, "", "perms", "list", "-o", "json").Stdout)
	if len(all) != 401 || all[0]["id"] != "api.add_actionrequest" || all[0]["label"] != "api | action request | Can add action request" {
		t.Fatalf("perms list: %d rows, first %v", len(all), all[0])
	}
	kyc := permsDecodeJSON[[]map[string]string](t, mustRun(t, "", "perms", "list", "--app", "KYC", "-o", "json").Stdout)
	if len(kyc) != 24 {
		t.Fatalf("--app kyc: %d rows, want 24", len(kyc))
	}
	ids := strings.Fields(mustRun(t, "", "perms", "list", "--search", "Can charge WALLET", "-o", "ids").Stdout)
	if strings.Join(ids, " ") != "api.charge_wallet" {
		t.Fatalf("--search by label: %v", ids)
	}
	wallet := permsDecodeJSON[[]map[string]string](t, mustRun(t, "", "perms", "list", "--model", "wallet", "--search", "view_", "-o", "json").Stdout)
	for _, p := range wallet {
		if p["model"] != "wallet" || !strings.Contains(p["id"], "view_") {
			t.Fatalf("--model wallet --search view_ gave %v", p)
		}
	}
	if len(wallet) == 0 {
		t.Fatal("--model wallet --search view_ gave nothing")
	}
}

func TestPermsGrantForms(t *testing.T) {
	d := newPermsDB(t)
	// By identifier, by exact seed label, by glob, in one command.
	r := mustRun(t, d.dsn, "perms", "grant", "dan@example.com", "api.charge_wallet",
		"api | wallet | Can add wallet", "kyc.view_*", "--reason", "OPS-1", "-o", "json")
	res := permsDecodeJSON[[]permChangeJSON](t, r.Stdout)
	got := d.held(t, d.dan)
	want := []string{"api.add_wallet", "api.charge_wallet"}
	for _, p := range permsDecodeJSON[[]map[string]string](t, mustRun(t, "", "perms", "list", "--app", "kyc", "--search", "kyc.view_", "-o", "json").Stdout) {
		want = append(want, p["id"])
	}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("dan holds %v, want %v", got, want)
	}
	if len(res) != 1 || res[0].UserID != d.dan || res[0].Field != "permissions" || len(res[0].Before) != 0 ||
		strings.Join(res[0].After, ",") != strings.Join(want, ",") {
		t.Fatalf("change list %+v", res)
	}
	logs := d.logRows(t)
	if len(logs) != 1 || logs[0].Action != "perms.grant" || logs[0].UserID != d.dan || len(logs[0].Before) != 0 ||
		strings.Join(logs[0].After, ",") != strings.Join(want, ",") || logs[0].Reason != "OPS-1" {
		t.Fatalf("log rows %+v", logs)
	}

	// Idempotent: granting again changes nothing and logs nothing.
	before := fixture.DumpAll(t, d.conn)
	r = mustRun(t, d.dsn, "perms", "grant", "dan@example.com", "api.charge_wallet", "-o", "json")
	if res := permsDecodeJSON[[]permChangeJSON](t, r.Stdout); len(res) != 0 || !strings.Contains(r.Stderr, "already hold") {
		t.Fatalf("re-grant: %+v %q", res, r.Stderr)
	}
	if fixture.DumpAll(t, d.conn) != before {
		t.Fatal("an idempotent grant changed the database")
	}

	// Revoke by glob: only what is held is revoked; one log row with before/after.
	r = mustRun(t, d.dsn, "perms", "revoke", "alice@example.com", "api.*_wallet", "-o", "json")
	res = permsDecodeJSON[[]permChangeJSON](t, r.Stdout)
	if len(res) != 1 || strings.Join(res[0].Before, ",") != "api.charge_wallet,api.view_wallet,auth.view_group" || strings.Join(res[0].After, ",") != "auth.view_group" {
		t.Fatalf("revoke change list %+v", res)
	}
	if h := d.held(t, d.alice); strings.Join(h, ",") != "auth.view_group" {
		t.Fatalf("alice holds %v", h)
	}
	logs = d.logRows(t)
	last := logs[len(logs)-1]
	if len(logs) != 2 || last.Action != "perms.revoke" || last.UserID != d.alice ||
		strings.Join(last.Before, ",") != "api.charge_wallet,api.view_wallet,auth.view_group" || strings.Join(last.After, ",") != "auth.view_group" {
		t.Fatalf("revoke log %+v", logs)
	}
}

func TestPermsGrantFromStdin(t *testing.T) {
	d := newPermsDB(t)
	in := "# users to fix\nalice@example.com\n\n" + permsItoa(d.bob) + "\ncarol@example.com\n" + permsItoa(d.dan) + "\n"
	// More than one user that would change, without a terminal, needs --yes.
	before := fixture.DumpAll(t, d.conn)
	r := cliRun{DSN: d.dsn, Stdin: in}.run(t, "perms", "grant", "-", "api.view_wallet")
	assertOneLineError(t, r, ExitUsage)
	if fixture.DumpAll(t, d.conn) != before {
		t.Fatal("an unconfirmed grant changed the database")
	}
	r = cliRun{DSN: d.dsn, Stdin: in}.run(t, "perms", "grant", "-", "api.view_wallet", "--yes", "-o", "csv")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	recs := permsReadCSV(t, r.Stdout)
	changed := map[string]string{}
	for _, rec := range recs[1:] {
		changed[rec[1]] = rec[4]
	}
	if len(changed) != 2 || !strings.Contains(changed["bob@example.com"], "api.view_wallet") || !strings.Contains(changed["dan@example.com"], "api.view_wallet") {
		t.Fatalf("changes %v", changed)
	}
	if !strings.Contains(r.Stderr, "2 users already hold them: ") {
		t.Fatalf("unchanged users not reported: %q", r.Stderr)
	}
	// Only bob and dan changed, so only they are logged.
	logs := d.logRows(t)
	if len(logs) != 2 || logs[0].UserID != d.bob || logs[1].UserID != d.dan {
		t.Fatalf("logs %+v", logs)
	}
	// One user that would change needs no confirmation, however many are named.
	one := "alice@example.com\ncarol@example.com\n" + permsItoa(d.dan) + "\n"
	if r := (cliRun{DSN: d.dsn, Stdin: one}).run(t, "perms", "revoke", "-", "api.charge_wallet"); r.Code != 0 {
		t.Fatalf("revoke from one of three users: exit %d %s", r.Code, r.Stderr)
	}
	// --max-affected refuses before writing.
	before = fixture.DumpAll(t, d.conn)
	r = cliRun{DSN: d.dsn, Stdin: in}.run(t, "perms", "revoke", "-", "api.view_wallet", "--yes", "--max-affected", "2")
	assertOneLineError(t, r, ExitRefused)
	if fixture.DumpAll(t, d.conn) != before {
		t.Fatal("a refused revoke changed the database")
	}
}

func TestPermsDryRunAndRefusals(t *testing.T) {
	d := newPermsDB(t)
	before := fixture.DumpAll(t, d.conn)
	r := mustRun(t, d.dsn, "perms", "grant", "carol@example.com", "api.charge_wallet", "api.view_wallet", "--dry-run", "-o", "json")
	res := permsDecodeJSON[[]permChangeJSON](t, r.Stdout)
	if len(res) != 1 || strings.Join(res[0].Before, ",") != "api.view_wallet" || strings.Join(res[0].After, ",") != "api.charge_wallet,api.view_wallet" {
		t.Fatalf("dry run change list %+v", res)
	}
	r = mustRun(t, d.dsn, "perms", "revoke", "alice@example.com", "auth.*", "--dry-run", "-o", "json")
	if res := permsDecodeJSON[[]permChangeJSON](t, r.Stdout); len(res) != 1 || strings.Join(res[0].After, ",") != "api.charge_wallet,api.view_wallet" {
		t.Fatalf("dry revoke of auth.*: %+v", res)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"perms", "grant", "carol@example.com", "api.charge_walet"}, ExitRefused, "did you mean api.charge_wallet"},
		{[]string{"perms", "grant", "carol@example.com", "nothing.*"}, ExitRefused, "matches no permission"},
		{[]string{"perms", "grant", "carol@example.com", "api.view_wallet", "bogus"}, ExitRefused, "unknown permission"},
		{[]string{"perms", "grant", "nobody@example.com", "api.view_wallet"}, ExitNotFound, "nobody@example.com"},
		{[]string{"perms", "grant", "carol@example.com", "api.view_wallet", "--read-only"}, ExitRefused, "read-only"},
		{[]string{"perms", "grant", "carol@example.com"}, ExitUsage, ""},
		{[]string{"perms", "grant", "carol@example.com", "'; DROP TABLE rbac_user; --"}, ExitRefused, "unknown permission"},
	} {
		r := runCLI(t, d.dsn, c.args...)
		assertOneLineError(t, r, c.code)
		if !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, r.Stderr, c.want)
		}
	}
	if fixture.DumpAll(t, d.conn) != before {
		t.Fatal("dry runs or refused commands changed the database")
	}
}

func TestPermsShow(t *testing.T) {
	d := newPermsDB(t)
	r := mustRun(t, d.dsn, "perms", "show", "alice@example.com", "-o", "json")
	rows := permsDecodeJSON[[]map[string]any](t, r.Stdout)
	var got []string
	for _, x := range rows {
		got = append(got, x["permission"].(string))
		if x["email"] != "alice@example.com" {
			t.Fatalf("row %v", x)
		}
	}
	if strings.Join(got, ",") != "api.charge_wallet,api.view_wallet,auth.view_group" || rows[0]["label"] != "api | wallet | Can charge wallet" {
		t.Fatalf("show: %v", rows)
	}
	if r := mustRun(t, d.dsn, "perms", "show", permsItoa(d.dan), "-o", "json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("dan: %q", r.Stdout)
	}
	assertOneLineError(t, runCLI(t, d.dsn, "perms", "show", "ghost@example.com"), ExitNotFound)
}

func permsItoa(n int64) string { return strconv.FormatInt(n, 10) }

func permsReadCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("bad CSV: %v\n%s", err, s)
	}
	return recs
}

// Concurrent grants to one user serialise on the user's row: every log row's
// "before" is exactly the previous row's "after", and nothing is lost.
func TestPermsConcurrentGrantsChainLogRows(t *testing.T) {
	d := newPermsDB(t)
	perms := []string{"api.view_wallet", "api.add_wallet", "api.charge_wallet", "api.view_deposit", "api.add_deposit", "kyc.view_kycuser", "api.view_payout", "api.view_transfer"}
	done := make(chan cliResult, len(perms))
	for _, p := range perms {
		go func() { done <- runCLI(t, d.dsn, "perms", "grant", "dan@example.com", p) }()
	}
	for range perms {
		if r := <-done; r.Code != 0 {
			t.Fatalf("concurrent grant: exit %d %s", r.Code, r.Stderr)
		}
	}
	logs := d.logRows(t)
	if len(logs) != len(perms) {
		t.Fatalf("%d log rows, want %d", len(logs), len(perms))
	}
	prev := ""
	for _, l := range logs {
		if strings.Join(l.Before, ",") != prev || len(l.After) != len(l.Before)+1 {
			t.Fatalf("log chain broken: before %v after previous %q, after %v", l.Before, prev, l.After)
		}
		prev = strings.Join(l.After, ",")
	}
	if got := strings.Join(d.held(t, d.dan), ","); got != prev || len(d.held(t, d.dan)) != len(perms) {
		t.Fatalf("dan holds %s, last log after %s", got, prev)
	}
}

// The catalog is fixed: a mistyped --app or --model fails (exit 2) instead
// of listing nothing with exit 0, and a model given as the app (a stale
// content type's label begins with its model) is named as one.
func TestPermsListRefusesUnknownAppOrModel(t *testing.T) {
	for args, want := range map[string]string{
		"--app apii":       `b2badmin: unknown app "apii" (did you mean "api"?)`,
		"--app autopayout": `b2badmin: unknown app "autopayout": autopayout is a model of app api (--model autopayout)`,
		"--model walet":    `b2badmin: unknown model "walet" (did you mean "wallet"?)`,
	} {
		r := cliRun{DSN: noDB}.run(t, append([]string{"perms", "list"}, strings.Fields(args)...)...)
		assertOneLineError(t, r, ExitUsage)
		if got := strings.TrimSuffix(r.Stderr, "\n"); got != want {
			t.Errorf("%s: %q, want %q", args, got, want)
		}
	}
	r := cliRun{DSN: noDB}.run(t, "perms", "list", "--model", "AutoPayout", "-o", "ids")
	if r.Code != 0 || len(strings.Fields(r.Stdout)) != 4 || !strings.Contains(r.Stdout, "api.add_autopayout\n") {
		t.Errorf("--model AutoPayout: exit %d, %q", r.Code, r.Stdout)
	}
}
