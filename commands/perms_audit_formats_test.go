package commands

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/client/policy"
	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/reportparse"
)

// awkwardEmail holds what each report format must escape: XML's <&"',
// TAP's # and \, workflow commands' % : and ,.
const awkwardEmail = `o'brien#1%3A,<b>&"x"\y@example.com`

// normal turns any decoded value into what encoding/json makes of its
// JSON: rows decoded by different parsers (JSON numbers, YAML ints) compare.
func normal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// auditRun runs perms audit in a format; findings exit 5.
func auditRun(t *testing.T, dsn string, want int, args ...string) string {
	t.Helper()
	r := runCLI(t, dsn, append([]string{"perms", "audit"}, args...)...)
	assertOneLineError(t, r, want)
	return r.Stdout
}

// Every CI format, parsed back by a real parser, carries exactly the
// findings of -o json, field for field; JUnit and TAP add one passing test
// per user holding extra permissions none of which is a finding.
func TestPermsAuditFormatsCarryTheJSONFindings(t *testing.T) {
	d := newPermsDB(t)
	fixture.AddUser(t, d.conn, fixture.User{Email: awkwardEmail, Type: "merchant", Company: "Acme", Groups: []string{"API"},
		Perms: []string{"auth.add_group", "api.add_deposit", "node.add_address"}})
	fixture.AddUser(t, d.conn, fixture.User{Email: "clean@example.com", Type: "enterprise", Perms: []string{"api.view_wallet"}})
	pol := writeFile(t, "policy.yaml", auditTestPolicy)

	var rows []map[string]any
	if err := json.Unmarshal([]byte(auditRun(t, d.dsn, ExitFindings, "--policy", pol, "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 6 {
		t.Fatalf("the fixture should give more findings: %v", rows)
	}
	// The passing users, independently: holders of a grant minus users with a finding.
	finders := map[string]bool{}
	for _, r := range rows {
		finders[fmt.Sprint(r["user_id"])] = true
	}
	var passes []string
	hs, err := d.conn.Query(t.Context(), `SELECT DISTINCT u.id, u.email FROM rbac_user u JOIN rbac_user_user_permissions up ON up.user_id = u.id ORDER BY u.id`)
	if err != nil {
		t.Fatal(err)
	}
	for hs.Next() {
		var id int64
		var email string
		hs.Scan(&id, &email)
		if !finders[strconv.FormatInt(id, 10)] {
			passes = append(passes, fmt.Sprintf("%s (user %d)", email, id))
		}
	}
	if len(passes) != 1 || passes[0] != fmt.Sprintf("clean@example.com (user %d)", 6) {
		t.Fatalf("passing users: %v", passes)
	}
	name := func(r map[string]any) string {
		return fmt.Sprintf("%s (user %v): %s", r["email"], r["user_id"], r["permission"])
	}
	line := func(r map[string]any) int { return int(r["policy_line"].(float64)) }

	// JUnit (encoding/xml).
	j, err := reportparse.ParseJUnit(strings.NewReader(auditRun(t, d.dsn, ExitFindings, "--policy", pol, "-o", "junit")))
	if err != nil {
		t.Fatal(err)
	}
	if j.Tests != len(rows)+len(passes) || j.Failures != len(rows) || j.Skipped != 0 {
		t.Fatalf("junit counts %d/%d/%d, want %d tests, %d failures", j.Tests, j.Failures, j.Skipped, len(rows)+len(passes), len(rows))
	}
	var failing []JUnitCaseView
	var passing []string
	for _, c := range j.Suites[0].Cases {
		if c.Failure != nil {
			failing = append(failing, JUnitCaseView{c.Name, c.Failure.Message, c.Failure.Type, c.File, c.Line})
		} else {
			passing = append(passing, c.Name)
		}
	}
	for i, r := range rows {
		want := JUnitCaseView{name(r), r["rule"].(string), policy.RuleID(r["rule"].(string)), pol, line(r)}
		if failing[i] != want {
			t.Errorf("junit case %d: %+v, want %+v", i, failing[i], want)
		}
	}
	if !reflect.DeepEqual(passing, passes) {
		t.Errorf("junit passing cases %q, want %q", passing, passes)
	}

	// SARIF (encoding/json, with the 2.1.0 schema's required fields).
	s, err := reportparse.ParseSARIF(strings.NewReader(auditRun(t, d.dsn, ExitFindings, "--policy", pol, "-o", "sarif")))
	if err != nil {
		t.Fatal(err)
	}
	run := s.Runs[0]
	var ruleIDs []string
	for _, r := range run.Tool.Driver.Rules {
		ruleIDs = append(ruleIDs, r.ID)
	}
	if strings.Join(ruleIDs, " ") != "deny:auth.* not-allowed" || run.Tool.Driver.Rules[0].Properties["line"] != json.Number("2") {
		t.Errorf("sarif rules %v", run.Tool.Driver.Rules)
	}
	if len(run.Results) != len(rows) {
		t.Fatalf("sarif: %d results, want %d", len(run.Results), len(rows))
	}
	for i, r := range rows {
		res := run.Results[i]
		loc := res.Locations[0].PhysicalLocation
		// The properties are the row but for what the result says
		// elsewhere (rule: ruleId and message; policy_line: region) or
		// what the permission determines (label).
		props := map[string]any{}
		for k, v := range r {
			if k != "label" && k != "rule" && k != "policy_line" {
				props[k] = v
			}
		}
		if !reflect.DeepEqual(normal(t, res.Properties), normal(t, props)) || res.RuleID != policy.RuleID(r["rule"].(string)) || res.Level != "error" ||
			loc == nil || !strings.HasPrefix(loc.ArtifactLocation.URI, "file:///") || !strings.HasSuffix(loc.ArtifactLocation.URI, "/policy.yaml") ||
			loc.Region.StartLine != line(r) || res.Message.Text != fmt.Sprintf("%s (user %v) holds %s: %s", r["email"], r["user_id"], r["permission"], r["rule"]) {
			t.Errorf("sarif result %d: %+v\nrow %v", i, res, r)
		}
	}

	// GitHub workflow commands.
	as, err := reportparse.ParseGitHub(strings.NewReader(auditRun(t, d.dsn, ExitFindings, "--policy", pol, "-o", "github")))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != len(rows) {
		t.Fatalf("github: %d annotations, want %d", len(as), len(rows))
	}
	for i, r := range rows {
		a := as[i]
		if a.Level != "error" || a.Properties["file"] != pol || a.Properties["line"] != strconv.Itoa(line(r)) ||
			a.Properties["title"] != "b2badmin "+policy.RuleID(r["rule"].(string)) ||
			!strings.HasPrefix(a.Message, fmt.Sprintf("%s (user %v) holds %s", r["email"], r["user_id"], r["permission"])) ||
			!strings.HasSuffix(a.Message, ": "+r["rule"].(string)) {
			t.Errorf("github annotation %d: %+v\nrow %v", i, a, r)
		}
	}

	// TAP 13 (a TAP reader; YAML blocks through a YAML parser).
	tp, err := reportparse.ParseTAP(strings.NewReader(auditRun(t, d.dsn, ExitFindings, "--policy", pol, "-o", "tap")))
	if err != nil {
		t.Fatal(err)
	}
	var notOK []reportparse.TAPTest
	passing = nil
	for _, tt := range tp.Tests {
		if tt.OK {
			passing = append(passing, tt.Description)
		} else {
			notOK = append(notOK, tt)
		}
	}
	if len(notOK) != len(rows) || !reflect.DeepEqual(passing, passes) {
		t.Fatalf("tap: %d not ok (want %d), passing %q", len(notOK), len(rows), passing)
	}
	for i, r := range rows {
		tt := notOK[i]
		if !tt.Failed() || tt.Description != name(r) || !reflect.DeepEqual(normal(t, tt.YAML["data"]), normal(t, r)) {
			t.Errorf("tap test %d: %+v\nrow %v", i, tt, r)
		}
	}
	if c := tp.Comments; len(c) != 2 || c[1] != fmt.Sprintf("%d findings over 6 users", len(rows)) {
		t.Errorf("tap comments %q", c)
	}
}

// JUnitCaseView is the part of a failing test case compared with a row.
type JUnitCaseView struct {
	Name, Message, Type, File string
	Line                      int
}

// With --fail-on new, the formats mark which findings fail the run: only
// the new ones are errors (JUnit failures, TAP not ok without TODO).
func TestPermsAuditFormatsFailOnNew(t *testing.T) {
	d := newPermsDB(t)
	base := writeFile(t, "base.csv", mustRun(t, d.dsn, "perms", "export").Stdout)
	pol := writeFile(t, "policy.yaml", auditTestPolicy)
	sqlGrant(t, d, d.dan, "auth.add_group")
	args := []string{"--policy", pol, "--baseline", base, "--fail-on", "new"}
	isNew := func(email, perm string) bool { return email == "dan@example.com" && perm == "auth.add_group" }

	s, err := reportparse.ParseSARIF(strings.NewReader(auditRun(t, d.dsn, ExitFindings, append(args, "-o", "sarif")...)))
	if err != nil {
		t.Fatal(err)
	}
	var levels []string
	for _, r := range s.Runs[0].Results {
		email, perm := r.Properties["email"].(string), r.Properties["permission"].(string)
		want := map[bool]string{true: "error new", false: "warning unchanged"}[isNew(email, perm)]
		if r.Level+" "+r.BaselineState != want {
			t.Errorf("sarif %s %s: %s %s, want %s", email, perm, r.Level, r.BaselineState, want)
		}
		levels = append(levels, r.Level)
	}
	sort.Strings(levels)
	if len(levels) != 5 || levels[0] != "error" || levels[1] != "warning" {
		t.Fatalf("sarif levels %v", levels)
	}

	j, err := reportparse.ParseJUnit(strings.NewReader(auditRun(t, d.dsn, ExitFindings, append(args, "-o", "junit")...)))
	if err != nil {
		t.Fatal(err)
	}
	if j.Failures != 1 || j.Skipped != 4 {
		t.Fatalf("junit: %d failures, %d skipped, want 1 and 4", j.Failures, j.Skipped)
	}
	for _, c := range j.Suites[0].Cases {
		if c.Failure != nil && !strings.HasPrefix(c.Name, "dan@example.com") {
			t.Errorf("junit failure %+v", c)
		}
	}

	tp, err := reportparse.ParseTAP(strings.NewReader(auditRun(t, d.dsn, ExitFindings, append(args, "-o", "tap")...)))
	if err != nil {
		t.Fatal(err)
	}
	failed, todo := 0, 0
	for _, tt := range tp.Tests {
		if tt.Failed() {
			failed++
		} else if !tt.OK {
			todo++
		}
	}
	if failed != 1 || todo != 4 {
		t.Fatalf("tap: %d failed, %d todo", failed, todo)
	}

	as, err := reportparse.ParseGitHub(strings.NewReader(auditRun(t, d.dsn, ExitFindings, append(args, "-o", "github")...)))
	if err != nil {
		t.Fatal(err)
	}
	errs := 0
	for _, a := range as {
		if a.Level == "error" {
			errs++
			if !strings.HasSuffix(a.Message, "(new since the baseline)") {
				t.Errorf("github error %+v", a)
			}
		}
	}
	if len(as) != 5 || errs != 1 {
		t.Fatalf("github: %d annotations, %d errors", len(as), errs)
	}

	// --fail-on none: everything reported, nothing fails the run.
	out := auditRun(t, d.dsn, 0, "--policy", pol, "--fail-on", "none", "-o", "github")
	if strings.Count(out, "::warning ") != 5 || strings.Contains(out, "::error") {
		t.Fatalf("--fail-on none:\n%s", out)
	}
}

// A policy with five different mistakes reports all five, each on its own
// stderr line as FILE:LINE with the line of the node concerned, exit 4,
// before any connection is tried.
func TestPermsAuditPolicyProblemsAllAtOnce(t *testing.T) {
	pol := writeFile(t, "five.yaml", `# five mistakes
deny:
  - "auth.*"
  - "nosuchapp.*"
groups:
  "Merchant ownr":
    allow: ["api.view_*"]
  API:
types:
  merchant:
    allow: ["api.view_walet"]
exceptions:
  - user: alice@example.com
    allow: ["api.charge_wallet"]
    reason: OPS-1
    expires: 2027-02-30
`)
	// A DSN nobody listens on: the policy is judged offline.
	r := runCLI(t, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", "perms", "audit", "--policy", pol, "-o", "sarif")
	if r.Code != ExitRefused || r.Stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
	want := []struct {
		line int
		text string
	}{
		{4, `deny: permission pattern "nosuchapp.*" matches no permission`},
		{6, `groups: unknown group "Merchant ownr"`},
		{8, `groups."API": empty`},
		{11, `did you mean api.view_wallet`},
		{16, `exception: expires: invalid date "2027-02-30"`},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d stderr lines, want %d:\n%s", len(lines), len(want), r.Stderr)
	}
	for i, w := range want {
		prefix := fmt.Sprintf("b2badmin: %s:%d: ", pol, w.line)
		if !strings.HasPrefix(lines[i], prefix) || !strings.Contains(lines[i], w.text) {
			t.Errorf("line %d: %q, want %s…%s", i+1, lines[i], prefix, w.text)
		}
	}
}

// -o ids prints each user with a finding once (for xargs, or - on stdin),
// and no user whose finding is only resolved.
func TestPermsAuditIDsOncePerUser(t *testing.T) {
	d := newPermsDB(t)
	base := writeFile(t, "base.csv", mustRun(t, d.dsn, "perms", "export").Stdout)
	pol := writeFile(t, "policy.yaml", auditTestPolicy)
	out := auditRun(t, d.dsn, ExitFindings, "--policy", pol, "-o", "ids")
	if want := fmt.Sprintf("%d\n%d\n%d\n", d.alice, d.bob, d.carol); out != want {
		t.Fatalf("-o ids:\n%s\nwant:\n%s", out, want)
	}
	sqlRevoke(t, d, d.carol, "api.view_wallet") // carol's finding is now resolved
	out = auditRun(t, d.dsn, ExitFindings, "--policy", pol, "--baseline", base, "-o", "ids")
	if want := fmt.Sprintf("%d\n%d\n", d.alice, d.bob); out != want {
		t.Fatalf("-o ids with a baseline:\n%s\nwant:\n%s", out, want)
	}
}
