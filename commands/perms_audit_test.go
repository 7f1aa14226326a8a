package commands

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// auditTestPolicy and auditTestSQL say the same thing twice: once as a
// policy file, once as an independent SQL query (regular expressions, not
// the tool's globs) computing the violating (user, permission) pairs.
const auditTestPolicy = `deny:
  - "auth.*"
groups:
  "Merchant owner":
    allow: ["api.view_*", "kyc.view_*"]
  API:
    allow: ["api.*_deposit"]
types:
  enterprise:
    allow: ["api.view_wallet"]
`

const auditTestSQL = `
WITH g AS (
  SELECT up.user_id, ct.app_label || '.' || p.codename AS perm, u.type,
         EXISTS (SELECT 1 FROM rbac_user_groups ug JOIN auth_group ag ON ag.id = ug.group_id
                 WHERE ug.user_id = u.id AND ag.name = 'Merchant owner') AS mo,
         EXISTS (SELECT 1 FROM rbac_user_groups ug JOIN auth_group ag ON ag.id = ug.group_id
                 WHERE ug.user_id = u.id AND ag.name = 'API') AS api
  FROM rbac_user_user_permissions up
  JOIN rbac_user u ON u.id = up.user_id
  JOIN auth_permission p ON p.id = up.permission_id
  JOIN django_content_type ct ON ct.id = p.content_type_id)
SELECT user_id, perm FROM g
WHERE perm ~* '^auth\..*$'
   OR NOT ((mo AND (perm ~* '^api\.view_.*$' OR perm ~* '^kyc\.view_.*$'))
        OR (api AND perm ~* '^api\..*_deposit$')
        OR (type = 'enterprise' AND perm = 'api.view_wallet'))`

type findingJSON struct {
	UserID     int64    `json:"user_id"`
	Email      string   `json:"email"`
	Groups     []string `json:"groups"`
	Type       string   `json:"type"`
	Permission string   `json:"permission"`
	Label      string   `json:"label"`
	Rule       string   `json:"rule"`
	PolicyLine *int     `json:"policy_line"`
	Change     string   `json:"change"`
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pairsOf(fs []findingJSON) []string {
	var out []string
	for _, f := range fs {
		out = append(out, permsItoa(f.UserID)+" "+f.Permission)
	}
	sort.Strings(out)
	return out
}

func TestPermsAuditMatchesSQL(t *testing.T) {
	d := newPermsDB(t)
	// More variety: a user with no groups, an enterprise staff member.
	fixture.AddUser(t, d.conn, fixture.User{Email: "erin@example.com", Type: "enterprise", Groups: []string{"Enterprise staff"},
		Perms: []string{"api.view_wallet", "api.view_deposit", "auth.add_group"}})
	fixture.AddUser(t, d.conn, fixture.User{Email: "finn@example.com", Type: "merchant", Groups: []string{"Merchant owner"},
		Perms: []string{"api.view_payout", "kyc.view_kycuser"}})
	pol := writeFile(t, "policy.yaml", auditTestPolicy)
	r := runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "-o", "json")
	assertOneLineError(t, r, ExitFindings)
	got := permsDecodeJSON[[]findingJSON](t, r.Stdout)

	rows, err := d.conn.Query(context.Background(), auditTestSQL)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var uid int64
		var perm string
		if err := rows.Scan(&uid, &perm); err != nil {
			t.Fatal(err)
		}
		want = append(want, permsItoa(uid)+" "+perm)
	}
	sort.Strings(want)
	if len(want) < 5 {
		t.Fatalf("the fixture should violate the policy more: %v", want)
	}
	if strings.Join(pairsOf(got), "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit pairs:\n%s\nSQL pairs:\n%s", strings.Join(pairsOf(got), "\n"), strings.Join(want, "\n"))
	}
	if r.Stderr != "b2badmin: "+permsItoa(int64(len(want)))+" findings over 6 users\n" {
		t.Fatalf("stderr %q", r.Stderr)
	}
	// The fields of one finding, exactly.
	for _, f := range got {
		if f.Email == "alice@example.com" && f.Permission == "auth.view_group" {
			if f.Rule != `deny "auth.*"` || f.PolicyLine == nil || *f.PolicyLine != 2 || f.Type != "enterprise" ||
				strings.Join(f.Groups, ",") != "Enterprise owner" || f.Label != "auth | group | Can view group" {
				t.Fatalf("finding %+v", f)
			}
		}
		if f.Email == "dan@example.com" {
			t.Fatalf("dan holds nothing: %+v", f)
		}
		if f.Email == "bob@example.com" && f.Permission == "node.add_address" &&
			f.Rule != "not allowed for groups [API, Merchant owner] / type merchant" {
			t.Fatalf("finding %+v", f)
		}
	}

	// The other formats carry the same findings.
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "-o", "csv")
	recs := permsReadCSV(t, r.Stdout)
	if r.Code != ExitFindings || len(recs) != len(want)+1 || strings.Join(recs[0], ",") != "user_id,email,groups,type,permission,label,rule,policy_line" {
		t.Fatalf("csv: exit %d, %d records, header %v", r.Code, len(recs), recs[0])
	}
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "-o", "jsonl")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	for _, l := range lines {
		var f findingJSON
		if err := json.Unmarshal([]byte(l), &f); err != nil || f.Permission == "" {
			t.Fatalf("jsonl line %q: %v", l, err)
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("jsonl: %d lines, want %d", len(lines), len(want))
	}
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol)
	if r.Code != ExitFindings || !strings.Contains(r.Stdout, "RULE") || !strings.Contains(r.Stdout, "auth.view_group") {
		t.Fatalf("table: exit %d\n%s", r.Code, r.Stdout)
	}
}

func TestPermsAuditCleanAndExamples(t *testing.T) {
	d := newPermsDB(t)
	// Bring the fixture in line with the clean example policy.
	mustRun(t, d.dsn, "perms", "revoke", "alice@example.com", "auth.*", "api.charge_wallet")
	mustRun(t, d.dsn, "perms", "revoke", "bob@example.com", "node.*")
	mustRun(t, d.dsn, "perms", "revoke", "carol@example.com", "api.view_wallet")
	r := runCLI(t, d.dsn, "perms", "audit", "--policy", "../examples/policy-clean.yaml", "-o", "json")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "[]" || r.Stderr != "b2badmin: 0 findings over 4 users\n" {
		t.Fatalf("clean policy: exit %d\nstdout %s\nstderr %s", r.Code, r.Stdout, r.Stderr)
	}
	// The documented example policy: bob's API deposit grants are fine; give
	// carol something it forbids and exactly that is found.
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", "../examples/policy.yaml", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("examples/policy.yaml on a compliant fixture: exit %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	mustRun(t, d.dsn, "perms", "grant", "carol@example.com", "sessions.view_session")
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", "../examples/policy.yaml", "-o", "json")
	fs := permsDecodeJSON[[]findingJSON](t, r.Stdout)
	if r.Code != ExitFindings || len(fs) != 1 || fs[0].Permission != "sessions.view_session" || fs[0].Rule != `deny "sessions.*"` {
		t.Fatalf("examples/policy.yaml: exit %d %+v", r.Code, fs)
	}
}

func TestPermsAuditInvalidPolicy(t *testing.T) {
	d := newPermsDB(t)
	cases := []struct {
		name, text, where string
	}{
		{"unknown key", "deny: [auth.*]\nallowed: []\n", ":2: "},
		{"unknown group", "groups:\n  Merchant:\n    allow: [api.view_wallet]\n", ":2: "},
		{"glob matching nothing", "deny:\n  - auth.*\n  - zzz.*\n", ":3: "},
		{"bad expiry", "exceptions:\n  - user: alice@example.com\n    allow: [api.charge_wallet]\n    reason: X\n    expires: 31/01/2027\n", ":5: "},
		{"missing reason", "deny: []\nexceptions:\n  - user: alice@example.com\n    allow: [api.charge_wallet]\n    expires: 2027-01-31\n", ":3: "},
		{"yaml syntax", "deny:\n  - auth.*\ngroups:\n  API:\n    allow: [a\n  b: c\n", ":4: "},
		{"group with an empty body", "deny: [auth.*]\ngroups:\n  API:\n  Merchant owner:\n    allow: [api.view_wallet]\n", ":3: "},
	}
	before := fixture.DumpAll(t, d.conn)
	for _, c := range cases {
		pol := writeFile(t, "bad.yaml", c.text)
		r := runCLI(t, d.dsn, "perms", "audit", "--policy", pol)
		assertOneLineError(t, r, ExitRefused)
		if !strings.HasPrefix(r.Stderr, "b2badmin: "+pol+c.where) {
			t.Errorf("%s: stderr %q, want b2badmin: %s%s…", c.name, r.Stderr, pol, c.where)
		}
		if r.Stdout != "" {
			t.Errorf("%s: stdout %q", c.name, r.Stdout)
		}
	}
	// A policy that cannot be read is an I/O failure, not an invalid policy.
	r := runCLI(t, d.dsn, "perms", "audit", "--policy", filepath.Join(t.TempDir(), "missing.yaml"))
	assertOneLineError(t, r, ExitFailure)
	if !strings.Contains(r.Stderr, "missing.yaml: cannot read policy: no such file or directory") {
		t.Errorf("missing policy: %q", r.Stderr)
	}
	assertOneLineError(t, runCLI(t, d.dsn, "perms", "audit", "--policy", t.TempDir()), ExitFailure)
	assertOneLineError(t, runCLI(t, d.dsn, "perms", "audit"), ExitUsage)
	if fixture.DumpAll(t, d.conn) != before {
		t.Fatal("audit changed the database")
	}
}

func TestPermsAuditExceptionExpiry(t *testing.T) {
	d := newPermsDB(t)
	var carolUUID string
	if err := d.conn.QueryRow(context.Background(), `SELECT upper(uuid::text) FROM rbac_user WHERE id = $1`, d.carol).Scan(&carolUUID); err != nil {
		t.Fatal(err)
	}
	pol := writeFile(t, "p.yaml", auditTestPolicy+`exceptions:
  - user: alice@example.com
    allow: ["api.charge_wallet", "auth.view_group"]
    reason: "OPS-1234"
    expires: 2027-01-31
  - user: "`+permsItoa(d.bob)+`"
    allow: ["node.*"]
    reason: "OPS-99"
    expires: 2026-06-30
  - user: `+carolUUID+`
    allow: ["api.view_*"]
    reason: "OPS-7"
    expires: 2099-12-31
`)
	has := func(fs []findingJSON, email, perm string) bool {
		for _, f := range fs {
			if f.Email == email && f.Permission == perm {
				return true
			}
		}
		return false
	}
	// On the last day the exception is live: alice's two grants are excused
	// (the deny hit too); bob's has expired and no longer excuses.
	r := runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--as-of", "2027-01-31", "-o", "json")
	fs := permsDecodeJSON[[]findingJSON](t, r.Stdout)
	if r.Code != ExitFindings || has(fs, "alice@example.com", "api.charge_wallet") || has(fs, "alice@example.com", "auth.view_group") ||
		!has(fs, "bob@example.com", "node.add_address") || has(fs, "carol@example.com", "api.view_wallet") {
		t.Fatalf("as of 2027-01-31: %+v", fs)
	}
	if !strings.Contains(r.Stderr, "note: "+pol+":16: exception for "+permsItoa(d.bob)+" expired on 2026-06-30") {
		t.Fatalf("no note about the expired exception: %q", r.Stderr)
	}
	// The day after, alice's exception has expired too.
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--as-of", "2027-02-01", "-o", "json")
	fs = permsDecodeJSON[[]findingJSON](t, r.Stdout)
	if !has(fs, "alice@example.com", "api.charge_wallet") || !has(fs, "alice@example.com", "auth.view_group") {
		t.Fatalf("as of 2027-02-01: %+v", fs)
	}
	assertOneLineError(t, runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--as-of", "tomorrow"), ExitUsage)
}

// sqlGrant and sqlRevoke change grants behind the tool's back, as the web
// side would.
func sqlGrant(t *testing.T, d permsDB, uid int64, perm string) {
	t.Helper()
	mustExec(t, d.conn, `INSERT INTO rbac_user_user_permissions (user_id, permission_id)
SELECT $1, p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
WHERE ct.app_label || '.' || p.codename = $2`, uid, perm)
}

func sqlRevoke(t *testing.T, d permsDB, uid int64, perm string) {
	t.Helper()
	mustExec(t, d.conn, `DELETE FROM rbac_user_user_permissions up USING auth_permission p, django_content_type ct
WHERE p.id = up.permission_id AND ct.id = p.content_type_id AND up.user_id = $1 AND ct.app_label || '.' || p.codename = $2`, uid, perm)
}

func changesOf(fs []findingJSON) []string {
	var out []string
	for _, f := range fs {
		if f.Change != "unchanged" {
			out = append(out, f.Change+" "+f.Email+" "+f.Permission+" "+f.Rule)
		}
	}
	return out
}

// Both kinds of baseline: a perms export snapshot (grants) and an earlier
// audit's -o csv (findings). Findings are unchanged or new against either;
// resolved differs where the snapshot cannot know: a grant still held that
// a group change made allowed.
func TestPermsExportAndBaseline(t *testing.T) {
	d := newPermsDB(t)
	erin := fixture.AddUser(t, d.conn, fixture.User{Email: "erin@example.com", Type: "enterprise", Perms: []string{"auth.add_group"}})
	r := mustRun(t, d.dsn, "perms", "export")
	recs := permsReadCSV(t, r.Stdout)
	if strings.Join(recs[0], ",") != "user_id,email,permission" || len(recs) != 1+3+4+1+1 {
		t.Fatalf("export: %v", recs)
	}
	if recs[1][1] != "alice@example.com" || recs[1][2] != "api.charge_wallet" {
		t.Fatalf("export order: %v", recs[1])
	}
	snapshot := writeFile(t, "snapshot.csv", r.Stdout)
	pol := writeFile(t, "p.yaml", auditTestPolicy)
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "-o", "csv")
	report := writeFile(t, "report.csv", r.Stdout)

	// Nothing changed: every finding is unchanged; only --fail-on any fails.
	for _, base := range []string{snapshot, report} {
		r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", base, "-o", "json")
		fs := permsDecodeJSON[[]findingJSON](t, r.Stdout)
		assertOneLineError(t, r, ExitFindings)
		if len(fs) != 5 || len(changesOf(fs)) != 0 || r.Stderr != "b2badmin: 5 findings (5 unchanged, 0 new, 0 resolved) over 5 users\n" {
			t.Fatalf("unchanged since %s: %v %q", base, changesOf(fs), r.Stderr)
		}
		r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", base, "--fail-on", "new", "-o", "json")
		if r.Code != 0 || r.Stderr != "b2badmin: 5 findings (5 unchanged, 0 new, 0 resolved) over 5 users\n" {
			t.Fatalf("--fail-on new, nothing new: exit %d %q", r.Code, r.Stderr)
		}
	}
	// Two forbidden grants made, an allowed one made and one revoked, a
	// denied one revoked, a user's only (forbidden) grant revoked, and a
	// group added that allows what carol holds.
	sqlGrant(t, d, d.dan, "auth.view_group")
	sqlGrant(t, d, d.dan, "api.view_wallet")
	sqlGrant(t, d, d.bob, "api.view_wallet")
	sqlRevoke(t, d, d.bob, "kyc.view_kycuser")
	sqlRevoke(t, d, d.alice, "auth.view_group")
	sqlRevoke(t, d, erin, "auth.add_group")
	mustExec(t, d.conn, `INSERT INTO rbac_user_groups (user_id, group_id) SELECT $1, id FROM auth_group WHERE name = 'Merchant owner'`, d.carol)

	added := []string{
		"new dan@example.com api.view_wallet not allowed for groups [Merchant staff] / type merchant",
		`new dan@example.com auth.view_group deny "auth.*"`,
	}
	for _, c := range []struct {
		base     string
		resolved []string
		summary  string
	}{
		{snapshot, []string{`resolved alice@example.com auth.view_group deny "auth.*"`, `resolved erin@example.com auth.add_group deny "auth.*"`},
			"4 findings (2 unchanged, 2 new, 2 resolved) over 5 users"},
		{report, []string{`resolved alice@example.com auth.view_group deny "auth.*"`,
			"resolved carol@example.com api.view_wallet not allowed for groups [] / type merchant", `resolved erin@example.com auth.add_group deny "auth.*"`},
			"4 findings (2 unchanged, 2 new, 3 resolved) over 5 users"},
	} {
		want := append(append([]string{}, added...), c.resolved...)
		for _, failOn := range []string{"any", "new"} {
			r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", c.base, "--fail-on", failOn, "-o", "json")
			assertOneLineError(t, r, ExitFindings)
			got := changesOf(permsDecodeJSON[[]findingJSON](t, r.Stdout))
			if strings.Join(got, "\n") != strings.Join(want, "\n") || r.Stderr != "b2badmin: "+c.summary+"\n" {
				t.Fatalf("baseline %s, --fail-on %s: %q\ngot:\n%s\nwant:\n%s", c.base, failOn, r.Stderr, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", c.base, "--fail-on", "none", "-o", "json")
		if r.Code != 0 || r.Stderr != "b2badmin: "+c.summary+"\n" {
			t.Fatalf("--fail-on none: exit %d %q", r.Code, r.Stderr)
		}
	}
	// A report written with a baseline is itself a baseline: its resolved
	// rows are skipped (they were no findings), whatever order they are in.
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", report, "-o", "csv")
	again := writeFile(t, "again.csv", r.Stdout)
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", again, "--fail-on", "new", "-o", "json")
	if r.Code != 0 || len(changesOf(permsDecodeJSON[[]findingJSON](t, r.Stdout))) != 0 {
		t.Fatalf("baseline with resolved rows: exit %d %s %s", r.Code, r.Stdout, r.Stderr)
	}

	// A baseline out of order or malformed is refused, naming the line; one
	// that cannot be read is an I/O failure.
	bad := writeFile(t, "bad.csv", "user_id,email,permission\n5,a@b.c,api.view_wallet\n2,c@d.e,api.view_wallet\n")
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", bad)
	assertOneLineError(t, r, ExitRefused)
	if !strings.Contains(r.Stderr, "bad.csv:3:") {
		t.Fatalf("stderr %q", r.Stderr)
	}
	bad = writeFile(t, "bad2.csv", "id,mail\n1,x\n")
	assertOneLineError(t, runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", bad), ExitRefused)
	assertOneLineError(t, runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", bad+".missing"), ExitFailure)
}
