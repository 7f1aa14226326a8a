package commands

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
	"github.com/b2badmin/b2badmin/internal/reportparse"
)

type groupFindingJSON struct {
	UserID     int64    `json:"user_id"`
	Email      string   `json:"email"`
	Type       string   `json:"type"`
	CompanyID  *int64   `json:"company_id"`
	Groups     []string `json:"groups"`
	Rule       string   `json:"rule"`
	RuleGroups []string `json:"rule_groups"`
	Problem    string   `json:"problem"`
	Change     string   `json:"change"`
}

func decodeGroupFindings(t *testing.T, out string) []groupFindingJSON {
	t.Helper()
	var fs []groupFindingJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fs); err != nil {
		t.Fatalf("groups audit -o json: %v\n%s", err, out)
	}
	return fs
}

func plant(t *testing.T, conn *pgx.Conn, uid int64, groups ...string) {
	t.Helper()
	for _, g := range groups {
		mustExec(t, conn, `INSERT INTO rbac_user_groups (user_id, group_id) SELECT $1, id FROM auth_group WHERE name = $2`, uid, g)
	}
}

// groupsAuditDB has users keeping the group rules and users whose rows,
// changed with SQL behind the tool's back, break them; want lists exactly
// the (email, rule) pairs broken.
func groupsAuditDB(t *testing.T) (string, *pgx.Conn, []string) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	// Keeping the rules: status groups and API combine freely with one role.
	fixture.AddUser(t, conn, fixture.User{Email: "ok1@example.com", Type: "merchant", Company: "Acme", Groups: []string{"Merchant owner", "KYC not verified", "API"}})
	fixture.AddUser(t, conn, fixture.User{Email: "ok2@example.com", Type: "enterprise", Groups: []string{"Enterprise staff", "Email not verified", "Phone not verified"}})
	fixture.AddUser(t, conn, fixture.User{Email: "ok3@example.com", Type: "merchant"})

	two := fixture.AddUser(t, conn, fixture.User{Email: "two-roles@example.com", Type: "merchant", Groups: []string{"Merchant owner"}})
	plant(t, conn, two, "Merchant staff")
	ent := fixture.AddUser(t, conn, fixture.User{Email: "merchant-in-enterprise@example.com", Type: "merchant", Company: "Acme"})
	plant(t, conn, ent, "Enterprise owner")
	legal := fixture.AddUser(t, conn, fixture.User{Email: "enterprise-in-legal@example.com", Type: "enterprise"})
	plant(t, conn, legal, "Legal merchant staff", "KYC not verified")
	api := fixture.AddUser(t, conn, fixture.User{Email: "api-alone@example.com", Type: "merchant", Company: "Gone Ltd", Groups: []string{"API"}})
	mustExec(t, conn, `UPDATE rbac_user SET company_id = NULL WHERE id = $1`, api)
	both := fixture.AddUser(t, conn, fixture.User{Email: "both@example.com", Type: "enterprise", Groups: []string{"Enterprise owner"}})
	plant(t, conn, both, "Legal merchant owner")
	flipped := fixture.AddUser(t, conn, fixture.User{Email: "flipped@example.com", Type: "enterprise", Groups: []string{"Enterprise staff"}})
	mustExec(t, conn, `UPDATE rbac_user SET type = 'merchant' WHERE id = $1`, flipped)

	want := []string{
		"two-roles@example.com one-role-group",
		"merchant-in-enterprise@example.com role-group-type",
		"enterprise-in-legal@example.com role-group-type",
		"api-alone@example.com api-needs-company",
		"both@example.com one-role-group",
		"both@example.com role-group-type",
		"flipped@example.com role-group-type",
	}
	return dsn, conn, want
}

func pairsOfGroups(fs []groupFindingJSON) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Email+" "+f.Rule)
	}
	return out
}

func TestGroupsAuditFindsExactlyThePlantedViolations(t *testing.T) {
	dsn, _, want := groupsAuditDB(t)
	r := runCLI(t, dsn, "groups", "audit", "-o", "json")
	assertOneLineError(t, r, ExitFindings)
	if r.Stderr != "b2badmin: 7 findings over 9 users\n" {
		t.Errorf("stderr %q", r.Stderr)
	}
	fs := decodeGroupFindings(t, r.Stdout)
	if got := pairsOfGroups(fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range fs {
		if f.Email == "both@example.com" && f.Rule == "one-role-group" {
			if strings.Join(f.Groups, ",") != "Enterprise owner,Legal merchant owner" || strings.Join(f.RuleGroups, ",") != "Enterprise owner,Legal merchant owner" ||
				f.Problem != "holds 2 role groups (Enterprise owner, Legal merchant owner); at most one is allowed" || f.Type != "enterprise" {
				t.Errorf("finding %+v", f)
			}
		}
		if f.Email == "api-alone@example.com" && (f.CompanyID != nil || f.Problem != "is in API but linked to no company") {
			t.Errorf("finding %+v", f)
		}
	}
	// users show judges a user as the audit does.
	for _, f := range fs {
		s := decodeShow(t, mustRun(t, dsn, "users", "show", f.Email, "--section", "info", "-o", "json").Stdout)
		found := false
		for _, v := range s.Info.GroupRuleViolations {
			found = found || (v.Rule == f.Rule && v.Message == f.Problem && strings.Join(v.Groups, ",") == strings.Join(f.RuleGroups, ","))
		}
		if !found {
			t.Errorf("users show %s does not flag %s: %+v", f.Email, f.Rule, s.Info.GroupRuleViolations)
		}
	}

	// The CI formats carry the same findings; a rule nobody breaks is one
	// passing test (JUnit, TAP) — here every rule is broken.
	j, err := reportparse.ParseJUnit(strings.NewReader(runCLI(t, dsn, "groups", "audit", "-o", "junit").Stdout))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range j.Suites[0].Cases {
		if c.Failure == nil || c.Failure.Type == "" || c.File != "" {
			t.Errorf("junit case %+v", c)
			continue
		}
		names = append(names, c.Name)
	}
	for i, f := range fs {
		if i >= len(names) || names[i] != fmt.Sprintf("%s (user %d): %s", f.Email, f.UserID, f.Rule) {
			t.Errorf("junit case %d %q, want finding %s %s", i, names, f.Email, f.Rule)
		}
	}
	s, err := reportparse.ParseSARIF(strings.NewReader(runCLI(t, dsn, "groups", "audit", "-o", "sarif").Stdout))
	if err != nil {
		t.Fatal(err)
	}
	if res := s.Runs[0].Results; len(res) != len(fs) {
		t.Fatalf("sarif: %d results", len(res))
	}
	for i, res := range s.Runs[0].Results {
		l := res.Locations[0]
		if res.RuleID != fs[i].Rule || l.PhysicalLocation != nil || l.LogicalLocations[0].FullyQualifiedName != fmt.Sprintf("user/%d", fs[i].UserID) ||
			res.Properties["email"] != fs[i].Email || res.Message.Text != fmt.Sprintf("%s (user %d) %s", fs[i].Email, fs[i].UserID, fs[i].Problem) {
			t.Errorf("sarif result %d: %+v", i, res)
		}
	}
	as, err := reportparse.ParseGitHub(strings.NewReader(runCLI(t, dsn, "groups", "audit", "-o", "github").Stdout))
	if err != nil || len(as) != len(fs) {
		t.Fatalf("github: %v %d", err, len(as))
	}
	for i, a := range as {
		if a.Level != "error" || a.Properties["file"] != "" || a.Message != fmt.Sprintf("%s (user %d) %s", fs[i].Email, fs[i].UserID, fs[i].Problem) {
			t.Errorf("github %d: %+v", i, a)
		}
	}
	tp, err := reportparse.ParseTAP(strings.NewReader(runCLI(t, dsn, "groups", "audit", "-o", "tap").Stdout))
	if err != nil || len(tp.Tests) != len(fs) {
		t.Fatalf("tap: %v %+v", err, tp)
	}
	r = runCLI(t, dsn, "groups", "audit", "-o", "ids")
	if ids := strings.Fields(r.Stdout); len(ids) != 6 {
		t.Errorf("-o ids, each user once: %q", r.Stdout)
	}
}

func TestGroupsAuditBaselineAndFailOn(t *testing.T) {
	dsn, conn, _ := groupsAuditDB(t)
	base := writeFile(t, "groups.csv", runCLI(t, dsn, "groups", "audit", "-o", "csv").Stdout)
	r := runCLI(t, dsn, "groups", "audit", "--baseline", base, "--fail-on", "new")
	if r.Code != 0 || r.Stderr != "b2badmin: 7 findings (7 unchanged, 0 new, 0 resolved) over 9 users\n" {
		t.Fatalf("nothing new: exit %d %q", r.Code, r.Stderr)
	}
	// One more broken, one mended.
	var ok3, two int64
	conn.QueryRow(t.Context(), `SELECT id FROM rbac_user WHERE email = 'ok3@example.com'`).Scan(&ok3)
	conn.QueryRow(t.Context(), `SELECT id FROM rbac_user WHERE email = 'two-roles@example.com'`).Scan(&two)
	plant(t, conn, ok3, "API")
	mustExec(t, conn, `DELETE FROM rbac_user_groups WHERE user_id = $1 AND group_id = (SELECT id FROM auth_group WHERE name = 'Merchant staff')`, two)

	r = runCLI(t, dsn, "groups", "audit", "--baseline", base, "--fail-on", "new", "-o", "json")
	assertOneLineError(t, r, ExitFindings)
	var changed []string
	for _, f := range decodeGroupFindings(t, r.Stdout) {
		if f.Change != "unchanged" {
			changed = append(changed, f.Change+" "+f.Email+" "+f.Rule)
		}
	}
	sort.Strings(changed)
	if strings.Join(changed, "; ") != "new ok3@example.com api-needs-company; resolved two-roles@example.com one-role-group" ||
		r.Stderr != "b2badmin: 7 findings (6 unchanged, 1 new, 1 resolved) over 9 users\n" {
		t.Fatalf("changes %q, stderr %q", changed, r.Stderr)
	}
	if r := runCLI(t, dsn, "groups", "audit", "--fail-on", "none"); r.Code != 0 {
		t.Fatalf("--fail-on none: exit %d", r.Code)
	}
	assertOneLineError(t, runCLI(t, dsn, "groups", "audit", "--fail-on", "new"), ExitUsage)
	bad := writeFile(t, "bad.csv", "user_id,email,permission\n1,a@b.c,api.view_wallet\n")
	assertOneLineError(t, runCLI(t, dsn, "groups", "audit", "--baseline", bad), ExitRefused)
}

// A database whose users keep every rule: exit 0, and each rule is one
// passing test.
func TestGroupsAuditClean(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	fixture.AddUser(t, conn, fixture.User{Email: "ok@example.com", Type: "merchant", Company: "Acme", Groups: []string{"Merchant owner", "API"}})
	r := runCLI(t, dsn, "groups", "audit", "-o", "junit")
	if r.Code != 0 || r.Stderr != "b2badmin: 0 findings over 1 user\n" {
		t.Fatalf("exit %d %q", r.Code, r.Stderr)
	}
	j, err := reportparse.ParseJUnit(strings.NewReader(r.Stdout))
	if err != nil || j.Tests != 3 || j.Failures != 0 {
		t.Fatalf("junit %v %+v", err, j)
	}
}
