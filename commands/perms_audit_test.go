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
	if !strings.Contains(r.Stderr, permsItoa(int64(len(want)))+" findings") {
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
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "[]" || !strings.HasPrefix(r.Stderr, "b2badmin: clean:") {
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
	r := runCLI(t, d.dsn, "perms", "audit", "--policy", filepath.Join(t.TempDir(), "missing.yaml"))
	assertOneLineError(t, r, ExitRefused)
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

func TestPermsExportAndBaseline(t *testing.T) {
	d := newPermsDB(t)
	r := mustRun(t, d.dsn, "perms", "export")
	recs := permsReadCSV(t, r.Stdout)
	if strings.Join(recs[0], ",") != "user_id,email,permission" || len(recs) != 1+3+4+1 {
		t.Fatalf("export: %v", recs)
	}
	if recs[1][1] != "alice@example.com" || recs[1][2] != "api.charge_wallet" {
		t.Fatalf("export order: %v", recs[1])
	}
	base := writeFile(t, "base.csv", r.Stdout)
	pol := writeFile(t, "p.yaml", auditTestPolicy)

	// Nothing changed since the baseline: clean, even though findings exist.
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", base, "-o", "json")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("unchanged since baseline: exit %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	// One forbidden grant added, one allowed one added, one removed, and a
	// user removed from the grants entirely.
	mustRun(t, d.dsn, "perms", "grant", "dan@example.com", "auth.view_group", "api.view_wallet")
	mustRun(t, d.dsn, "perms", "grant", "bob@example.com", "api.view_wallet")
	mustRun(t, d.dsn, "perms", "revoke", "bob@example.com", "kyc.view_kycuser")
	mustRun(t, d.dsn, "perms", "revoke", "carol@example.com", "api.view_wallet")
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", base, "-o", "json")
	fs := permsDecodeJSON[[]findingJSON](t, r.Stdout)
	var got []string
	for _, f := range fs {
		got = append(got, f.Change+" "+f.Email+" "+f.Permission)
	}
	want := []string{
		"removed bob@example.com kyc.view_kycuser",
		"removed carol@example.com api.view_wallet",
		"added dan@example.com api.view_wallet",
		"added dan@example.com auth.view_group",
	}
	if r.Code != ExitFindings || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("exit %d, got:\n%s\nwant:\n%s", r.Code, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(r.Stderr, "2 findings") {
		t.Fatalf("stderr %q", r.Stderr)
	}
	// A baseline out of order or malformed is refused, naming the line.
	bad := writeFile(t, "bad.csv", "user_id,email,permission\n5,a@b.c,api.view_wallet\n2,c@d.e,api.view_wallet\n")
	r = runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", bad)
	assertOneLineError(t, r, ExitRefused)
	if !strings.Contains(r.Stderr, "bad.csv:3:") {
		t.Fatalf("stderr %q", r.Stderr)
	}
	bad = writeFile(t, "bad2.csv", "id,mail\n1,x\n")
	assertOneLineError(t, runCLI(t, d.dsn, "perms", "audit", "--policy", pol, "--baseline", bad), ExitRefused)
}
