package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/client/access"
	"github.com/b2badmin/b2badmin/internal/fixture"
)

// TestAccessExportPlanApply: an export plans to nothing; an edit plans to
// exactly its changes; apply makes them as one undoable run; a second plan
// is empty; perms show agrees.
func TestAccessExportPlanApply(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	file := writeTemp(t, "access.yaml", "")
	r := mustRun(t, e.dsn, "access", "export", "--type", "merchant", "-f", file)
	if !strings.Contains(r.Stderr, "exported the access of 3 users") {
		t.Fatalf("export: %s", r.Stderr)
	}
	data, _ := os.ReadFile(file)
	f, err := access.Parse(file, data)
	if err != nil || f.Scope == nil || f.Scope.Type != "merchant" || len(f.Users) != 3 {
		t.Fatalf("export does not parse back as a scoped file of 3 users: %v %+v\n%s", err, f, data)
	}
	if r := runCLI(t, e.dsn, "access", "plan", "-f", file, "-o", "json"); r.Code != 0 || len(parseChanges(t, r.Stdout)) != 0 {
		t.Fatalf("plan of a fresh export: exit %d %s %s", r.Code, r.Stdout, r.Stderr)
	}

	// The edit: ann gains API? she has it; give bob API... bob has no
	// company: refused; so: bob gains a permission, ann loses kyc.view_kycuser,
	// cid (not exported: inactive merchant without groups) appears with a role.
	text := string(data)
	text = strings.Replace(text, `permissions: [api.view_wallet, kyc.view_kycuser]`, `permissions: [api.view_wallet]`, 1)
	text = regexp.MustCompile(`("bob@example.com":\n    groups: \[Merchant staff\]\n    permissions: )\[\]`).ReplaceAllString(text, "${1}[api.view_deposit]")
	edited := writeTemp(t, "edited.yaml", text)
	if strings.Count(text, "api.view_deposit") != 1 || strings.Contains(text, "kyc.view_kycuser") {
		t.Fatalf("the edit did not apply to the export:\n%s", text)
	}
	plan := runCLI(t, e.dsn, "access", "plan", "-f", edited, "-o", "json")
	if plan.Code != ExitFindings {
		t.Fatalf("plan of an edit: exit %d %s", plan.Code, plan.Stderr)
	}
	rows := parseChanges(t, plan.Stdout)
	// The plan is a change list like any other: --jq filters it.
	jq := runCLI(t, e.dsn, "access", "plan", "-f", edited, "--jq", "[.[].email]")
	var emails []string
	if jq.Code != ExitFindings || json.Unmarshal([]byte(jq.Stdout), &emails) != nil || len(emails) != len(rows) || emails[0] != rows[0].Email {
		t.Fatalf("plan --jq: exit %d %q %q", jq.Code, jq.Stdout, jq.Stderr)
	}
	// An export is an access file: -o json asks for what it cannot print.
	assertOneLineError(t, runCLI(t, e.dsn, "access", "export", "-o", "json"), ExitUsage)
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %s %v->%v", r.Email, r.Field, r.Before, r.After))
	}
	want := []string{"ann@example.com permissions [api.view_wallet kyc.view_kycuser]->[api.view_wallet]",
		"bob@example.com permissions []->[api.view_deposit]"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	apply := mustRun(t, e.dsn, "access", "apply", "-f", edited, "--yes", "-o", "json")
	if apply.Stdout != plan.Stdout {
		t.Fatalf("apply's change list differs from the plan's:\n%s\n%s", apply.Stdout, plan.Stdout)
	}
	run := runID(t, apply)
	if r := runCLI(t, e.dsn, "access", "plan", "-f", edited, "-o", "json"); r.Code != 0 || len(parseChanges(t, r.Stdout)) != 0 {
		t.Fatalf("plan after apply: exit %d %s", r.Code, r.Stdout)
	}
	if got := strings.Fields(mustRun(t, e.dsn, "perms", "show", "bob@example.com", "-o", "ids").Stdout); len(got) == 0 {
		t.Fatal("perms show lists nothing for bob")
	}
	show := mustRun(t, e.dsn, "perms", "show", "ann@example.com", "-o", "csv").Stdout
	if strings.Contains(show, "kyc.view_kycuser") || !strings.Contains(show, "api.view_wallet") {
		t.Fatalf("perms show of ann after apply:\n%s", show)
	}
	// A new user in the file (dee, an enterprise owner, out of the
	// export's scope): given the file's access; undo puts all back.
	before := stateSum(t, e.db)
	withDee := writeTemp(t, "dee.yaml", text+"  \"dee@example.com\":\n    groups: []\n    permissions: [api.view_wallet]\n")
	r = mustRun(t, e.dsn, "access", "apply", "-f", withDee, "--yes", "-o", "json")
	if rows := parseChanges(t, r.Stdout); len(rows) != 2 || rows[0].Email != "dee@example.com" || rows[0].Field != "groups" || rows[1].Field != "permissions" {
		t.Fatalf("adding a user: %+v", rows)
	}
	mustRun(t, e.dsn, "undo", runID(t, r), "--yes")
	if stateSum(t, e.db) != before {
		t.Fatal("undo of access apply does not restore the state")
	}
	_ = run
}

// A file whose apply would break a group rule applies nothing; --prune
// removes only the access of users in scope that the file does not name;
// status groups are never touched.
func TestAccessRulesAndPrune(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	start := fixture.DumpAll(t, e.db)
	bad := writeTemp(t, "bad.yaml", `users:
  "ann@example.com":
    groups: [Merchant owner]
  "bob@example.com":
    groups: [Enterprise owner]
`)
	r := runCLI(t, e.dsn, "access", "apply", "-f", bad, "--yes")
	assertOneLineError(t, r, ExitRefused)
	if !strings.Contains(r.Stderr, "role-group-type") {
		t.Fatalf("rule refusal: %s", r.Stderr)
	}
	assertUnchanged(t, e.db, start)

	// Scope: merchants. The file names only ann: bob loses his role
	// group; cid (no access) and dee (enterprise, out of scope) are
	// untouched; ann keeps Phone not verified (a status group).
	scoped := writeTemp(t, "scoped.yaml", `scope:
  type: merchant
users:
  "ANN@example.com":
    groups: [Merchant owner, API]
    permissions: [api.view_wallet]
`)
	if r := runCLI(t, e.dsn, "access", "plan", "-f", scoped); r.Code != ExitFindings {
		t.Fatalf("plan without prune: exit %d", r.Code)
	}
	plain := parseChanges(t, mustRunCode(t, e.dsn, ExitFindings, "access", "plan", "-f", scoped, "-o", "json").Stdout)
	if len(plain) != 1 || plain[0].Email != "ann@example.com" || plain[0].Field != "permissions" {
		t.Fatalf("plan without --prune touches others: %+v", plain)
	}
	pr := parseChanges(t, mustRunCode(t, e.dsn, ExitFindings, "access", "plan", "-f", scoped, "--prune", "-o", "json").Stdout)
	var fields []string
	for _, c := range pr {
		fields = append(fields, fmt.Sprintf("%s:%s:%v", c.Email, c.Field, c.After))
	}
	if strings.Join(fields, " ") != "ann@example.com:permissions:[api.view_wallet] bob@example.com:groups:[]" {
		t.Fatalf("--prune plan: %s", strings.Join(fields, " "))
	}
	mustRun(t, e.dsn, "access", "apply", "-f", scoped, "--prune", "--yes")
	if g := queryText(t, e.db, `SELECT string_agg(g.name, ',' ORDER BY g.name) FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = $1`, e.ann); g != "API,Merchant owner,Phone not verified" {
		t.Fatalf("ann's groups after apply: %s", g)
	}
	if n := queryInt(t, e.db, `SELECT count(*) FROM rbac_user_groups WHERE user_id = $1`, e.dee); n != 1 {
		t.Fatalf("dee (out of scope) lost groups: %d left", n)
	}
	assertOneLineError(t, runCLI(t, e.dsn, "access", "apply", "-f", bad, "--prune", "--yes"), ExitRefused)
}

// Every problem of an access file, each at its line, before anything runs.
func TestAccessFileErrorsAllAtOnce(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	before := fixture.DumpAll(t, e.db)
	file := writeTemp(t, "errors.yaml", `scope:
  team: ops
users:
  "ann@example.com":
    groups: [Merchant owner, Phone not verified]
    permissions: [api.view_walet, "api.*"]
  "ghost@example.com":
    groups: [Admins]
  notanemail:
    groups: []
  "bob@example.com":
    roles: [x]
`)
	r := runCLI(t, e.dsn, "access", "apply", "-f", file, "--yes")
	if r.Code != ExitRefused {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	want := []string{":2: scope: unknown key \"team\"", ":5: ann@example.com: \"Phone not verified\" is a status group", ":6: ann@example.com: unknown permission \"api.view_walet\"",
		":6: ann@example.com: \"api.*\" is a pattern",
		// The users the database does not know, with the rest (on main only once the rest was fixed).
		":7: user ghost@example.com does not exist",
		":8: ghost@example.com: unknown group \"Admins\"", ":9: users: \"notanemail\" is not an email", ":12: user bob@example.com: unknown key \"roles\""}
	if len(lines) != len(want) {
		t.Fatalf("%d problems reported, want %d:\n%s", len(lines), len(want), r.Stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], "b2badmin: "+file+w[:strings.Index(w[1:], ":")+2]) || !strings.Contains(lines[i], w[strings.Index(w[1:], ":")+3:]) {
			t.Errorf("problem %d: %q, want %q", i, lines[i], w)
		}
	}
	// The users are checked against the database, each at its line.
	unknown := writeTemp(t, "unknown.yaml", "users:\n  \"ann@example.com\": {}\n  \"ghost@example.com\":\n    groups: [API]\n")
	r = runCLI(t, e.dsn, "access", "plan", "-f", unknown)
	assertOneLineError(t, r, ExitRefused)
	if !strings.Contains(r.Stderr, unknown+":3: user ghost@example.com does not exist") {
		t.Fatalf("unknown user: %s", r.Stderr)
	}
	assertOneLineError(t, runCLI(t, e.dsn, "access", "plan", "-f", "/nonexistent/access.yaml"), ExitFailure)
	assertUnchanged(t, e.db, before)
}

// mustRunCode runs a command that must exit with code.
func mustRunCode(t *testing.T, dsn string, code int, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, dsn, args...)
	if r.Code != code {
		t.Fatalf("b2badmin %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), r.Code, code, r.Stderr)
	}
	return r
}

// --company NAME matches names containing it, and a scope's company is
// exact: the export declares no scope and says why (on main: silently),
// and the company's ID declares one.
func TestAccessExportCompanyNameNotesNoScope(t *testing.T) {
	t.Parallel()
	e := newEngineDB(t)
	var cid int64
	if err := e.db.QueryRow(context.Background(), `SELECT company_id FROM rbac_user WHERE id = $1`, e.ann).Scan(&cid); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		company string
		scoped  bool
		note    bool
	}{{"Acm", false, true}, {fmt.Sprint(cid), true, false}} {
		file := writeTemp(t, "company.yaml", "")
		r := mustRun(t, e.dsn, "access", "export", "--company", c.company, "-f", file)
		data, _ := os.ReadFile(file)
		f, err := access.Parse(file, data)
		if err != nil || len(f.Users) != 2 || (f.Scope != nil) != c.scoped {
			t.Fatalf("--company %s: %v, %+v\n%s", c.company, err, f, data)
		}
		noted := strings.Contains(r.Stderr, `the file declares no scope: --company "Acm" matches every company whose name contains it`)
		if noted != c.note {
			t.Errorf("--company %s: stderr %q", c.company, r.Stderr)
		}
	}
	// With a filter no scope can hold, an ID would not help: no note.
	r := mustRun(t, e.dsn, "access", "export", "--company", "Acm", "--active", "-f", writeTemp(t, "active.yaml", ""))
	if strings.Contains(r.Stderr, "declares no scope") {
		t.Errorf("--company Acm --active: %q", r.Stderr)
	}
}
