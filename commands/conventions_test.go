package commands

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jedib0t/go-pretty/v6/text"
	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// The conventions of issue 14: version, --jq, -o yaml, the pager, width
// fitting, --quiet, config view. Offline unless said otherwise.

func TestVersionNamesTheBuild(t *testing.T) {
	oldInfo, oldV, oldC, oldD, oldDirty := buildInfo, stampVersion, stampCommit, stampDate, stampDirty
	t.Cleanup(func() {
		buildInfo, stampVersion, stampCommit, stampDate, stampDirty = oldInfo, oldV, oldC, oldD, oldDirty
	})
	// What the Makefile's -ldflags -X set.
	stampVersion, stampCommit, stampDate, stampDirty = "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-01-02T03:04:05Z", ""
	buildInfo = readBuildInfo
	r := runCLI(t, "", "--version")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "b2badmin v1.2.3 (commit 0123456789ab, built 2026-01-02T03:04:05Z, go") {
		t.Fatalf("--version: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	r = runCLI(t, "", "version", "-o", "json")
	var b BuildInfo
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || r.Code != 0 {
		t.Fatalf("version -o json: %v %q", err, r.Stdout)
	}
	if b.Commit != stampCommit || b.Version != "v1.2.3" || b.BuildDate != stampDate || b.Modified || !strings.HasPrefix(b.GoVersion, "go") || b.Platform == "" {
		t.Fatalf("version -o json: %+v", b)
	}
	stampDirty = "true"
	if r := runCLI(t, "", "version", "--jq", ".modified"); r.Stdout != "true\n" {
		t.Fatalf("dirty build: %q", r.Stdout)
	}
	if r := runCLI(t, "", "version"); !strings.Contains(r.Stdout, "-dirty") {
		t.Fatalf("a dirty build says so: %q", r.Stdout)
	}
	// A broken config file does not stop a bug report.
	env := withConfig(t, "profiles: [this is not a map\n")
	if r := (cliRun{Env: env}).run(t, "version"); r.Code != 0 {
		t.Fatalf("version with a broken config: %d %s", r.Code, r.Stderr)
	}
}

func kycIDs() []string {
	var ids []string
	for _, p := range filterCatalog(&permsListOptions{App: "kyc"}) {
		ids = append(ids, p.ID())
	}
	return ids
}

func TestJQOnTheCommandLine(t *testing.T) {
	want := strings.Join(kycIDs(), "\n") + "\n"
	if len(want) < 20 {
		t.Fatal("the kyc app must have permissions to test with")
	}
	for _, args := range [][]string{
		{"perms", "list", "--app", "kyc", "--jq", ".[].id"},
		{"perms", "list", "--app", "kyc", "-o", "json", "--jq", ".[].id"},
		{"perms", "list", "--app", "kyc", "-o", "jsonl", "--jq", ".id"},
	} {
		if r := runCLI(t, "", args...); r.Code != 0 || r.Stdout != want {
			t.Errorf("%q: exit %d, %q (stderr %q)", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	if r := runCLI(t, "", "perms", "list", "--app", "kyc", "--jq", "length"); strings.TrimSpace(r.Stdout) != itoa(len(kycIDs())) {
		t.Errorf("length: %q", r.Stdout)
	}
	// The system jq, when installed, prints the same (it is not needed).
	if jq, err := exec.LookPath("jq"); err == nil {
		js := runCLI(t, "", "perms", "list", "--app", "kyc", "-o", "json").Stdout
		cmd := exec.Command(jq, "-r", ".[].id")
		cmd.Stdin = strings.NewReader(js)
		out, err := cmd.Output()
		if err != nil || string(out) != want {
			t.Errorf("jq -r .[].id gave %q %v", out, err)
		}
	} else {
		t.Log("no jq installed: compared with the catalog only")
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"perms", "list", "--jq", ".["}, ExitUsage},
		{[]string{"perms", "list", "--jq", ".foo"}, ExitUsage},
		{[]string{"perms", "list", "-o", "csv", "--jq", "."}, ExitUsage},
		{[]string{"perms", "list", "-o", "yaml", "--jq", "."}, ExitUsage},
		{[]string{"completion", "bash", "--jq", "."}, ExitUsage},
		{[]string{"db", "migrate", "--jq", "."}, ExitUsage}, // refused before connecting
		{[]string{"db", "migrate", "-o", "yaml"}, ExitUsage},
	} {
		assertOneLineError(t, runCLI(t, closedDSN, c.args...), c.code)
	}
}

func TestYAMLOutput(t *testing.T) {
	r := runCLI(t, "", "perms", "list", "--app", "kyc", "-o", "yaml")
	if r.Code != 0 {
		t.Fatalf("exit %d %s", r.Code, r.Stderr)
	}
	var fromYAML, fromJSON []map[string]any
	if err := yaml.Unmarshal([]byte(r.Stdout), &fromYAML); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if err := json.Unmarshal([]byte(runCLI(t, "", "perms", "list", "--app", "kyc", "-o", "json").Stdout), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if len(fromYAML) == 0 || !reflect.DeepEqual(fromYAML, fromJSON) {
		t.Fatalf("-o yaml differs from -o json:\n%s", r.Stdout)
	}
	if !strings.HasPrefix(r.Stdout, "- id: kyc.") {
		t.Fatalf("block YAML, keys in column order: %q", r.Stdout[:40])
	}
}

func TestPagerOnATerminal(t *testing.T) {
	pager := map[string]string{"B2BADMIN_PAGER": "sed 's/^/PAGED:/'"}
	paged := func(r cliResult) bool {
		lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
		for _, l := range lines {
			if !strings.HasPrefix(l, "PAGED:") {
				return false
			}
		}
		return len(lines) > 3
	}
	if r := (cliRun{TTY: true, Env: pager}).run(t, "perms", "list", "--app", "kyc"); r.Code != 0 || !paged(r) {
		t.Fatalf("a table on a terminal goes through the pager: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	for name, r := range map[string]cliResult{
		"--no-pager":       cliRun{TTY: true, Env: pager}.run(t, "perms", "list", "--app", "kyc", "--no-pager"),
		"-o json":          cliRun{TTY: true, Env: pager}.run(t, "perms", "list", "--app", "kyc", "-o", "json"),
		"piped":            cliRun{Env: pager}.run(t, "perms", "list", "--app", "kyc"),
		"B2BADMIN_PAGER=":  cliRun{TTY: true, Env: map[string]string{"B2BADMIN_PAGER": "", "PAGER": "sed 's/^/PAGED:/'"}}.run(t, "perms", "list", "--app", "kyc"),
		"missing pager":    cliRun{TTY: true, Env: map[string]string{"B2BADMIN_PAGER": "no-such-pager-b2b"}}.run(t, "perms", "list", "--app", "kyc"),
		"nothing to print": cliRun{TTY: true, Env: pager}.run(t, "perms", "list", "--search", "no-such-permission", "--no-headers"),
	} {
		if r.Code != 0 || strings.Contains(r.Stdout, "PAGED:") {
			t.Errorf("%s: not paged, want exit 0: %d %q %q", name, r.Code, r.Stdout, r.Stderr)
		}
		if name == "missing pager" && !strings.Contains(r.Stdout, "kyc.") {
			t.Errorf("a missing pager must not swallow the table: %q", r.Stdout)
		}
	}
	// Quitting the pager before the end is no error.
	r := cliRun{TTY: true, Env: map[string]string{"B2BADMIN_PAGER": "exec </dev/null; sleep 0.2"}}.run(t, "perms", "list")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("pager quit early: %d %q", r.Code, r.Stderr)
	}
}

func TestPagerCommandChoice(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "less -FRX"},
		{map[string]string{"PAGER": "more"}, "more"},
		{map[string]string{"PAGER": "more", "B2BADMIN_PAGER": "most"}, "most"},
		{map[string]string{"PAGER": "more", "B2BADMIN_PAGER": ""}, ""},
	} {
		f := NewFactory(&IOStreams{}, func(k string) string { return c.env[k] })
		f.LookupEnv = func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		if got := f.NewInvocation(f.IO, nil, nil).pagerCommand(); got != c.want {
			t.Errorf("%v: pager %q, want %q", c.env, got, c.want)
		}
	}
}

func TestTablesFitTheTerminal(t *testing.T) {
	env := map[string]string{"COLUMNS": "80", "NO_COLOR": "1"}
	r := cliRun{TTY: true, Env: env}.run(t, "perms", "list")
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if w := text.StringWidthWithoutEscSequences(l); w > 80 {
			t.Fatalf("line of %d columns on an 80-column terminal: %q", w, l)
		}
	}
	if !strings.Contains(r.Stdout, "…") || strings.Contains(r.Stdout, "\x1b[") {
		t.Fatalf("want cut labels and, with NO_COLOR, no escape codes:\n%s", r.Stdout[:400])
	}
	if r := (cliRun{TTY: true, Env: map[string]string{"COLUMNS": "80"}}).run(t, "perms", "list"); !strings.Contains(r.Stdout, "\x1b[1m") {
		t.Fatal("headers are bold on a terminal without NO_COLOR")
	}
	// Piped: nothing cut, whatever COLUMNS says.
	piped := cliRun{Env: env}.run(t, "perms", "list").Stdout
	if strings.Contains(piped, "…") || !strings.Contains(piped, "api | wallet | Can charge wallet") {
		t.Fatal("piped output must be whole")
	}
}

func TestConfigViewMasksSecrets(t *testing.T) {
	env := withConfig(t, `
default_profile: staging
profiles:
  staging:
    dsn: "postgres://admin:s3cr3t-pw@db-staging:5432/backoffice"
    read_dsn: "host=replica port=5433 user=ro password=r3pl1ca dbname=backoffice"
    actor: alice
  audit:
    dsn: "postgres://auditor:4ud1t@db-prod/backoffice"
    read_only: true
`)
	r := cliRun{Env: env}.run(t, "config", "view", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("%d %s", r.Code, r.Stderr)
	}
	var v ConfigView
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.Profile == nil || *v.Profile != "staging" || v.ProfileSource != "default_profile" || v.DSNSource != "profile staging" ||
		v.Target != "admin@db-staging:5432/backoffice" || v.DSN != "postgres://admin:xxxxx@db-staging:5432/backoffice" ||
		v.ReadDSN == nil || !strings.Contains(*v.ReadDSN, "password=xxxxx") || v.Actor != "alice" || v.ActorSource != "profile staging" ||
		v.ReadOnly || !v.ConfigExists || v.DefaultProfile == nil || *v.DefaultProfile != "staging" {
		t.Fatalf("config view %+v", v)
	}
	for _, args := range [][]string{
		{"config", "view"}, {"config", "view", "-o", "yaml"}, {"config", "view", "-o", "csv"}, {"--profile", "audit", "config", "view"},
		{"config", "profiles"}, {"config", "profiles", "-o", "json", "--columns", "name,dsn,read_dsn"},
		{"--dsn", "postgres://x:fl4g-pw@h/db", "config", "view"},
	} {
		r := cliRun{Env: env}.run(t, args...)
		if r.Code != 0 {
			t.Fatalf("%q: %d %s", args, r.Code, r.Stderr)
		}
		for _, secret := range []string{"s3cr3t", "r3pl1ca", "4ud1t", "fl4g"} {
			if strings.Contains(r.Stdout+r.Stderr, secret) {
				t.Fatalf("%q printed a password:\n%s", args, r.Stdout)
			}
		}
	}
	r = cliRun{Env: env}.run(t, "--profile", "audit", "--actor", "bob", "config", "view", "--jq", "[.profile_source, .actor, .actor_source, .read_only, .read_only_source]")
	if strings.TrimSpace(r.Stdout) != `["--profile","bob","--actor",true,"profile audit"]` {
		t.Fatalf("sources: %q %s", r.Stdout, r.Stderr)
	}
	var profiles []map[string]any
	if err := json.Unmarshal([]byte(cliRun{Env: env}.run(t, "config", "profiles", "-o", "json").Stdout), &profiles); err != nil {
		t.Fatal(err)
	}
	if len(profiles) != 2 || profiles[0]["name"] != "audit" || profiles[0]["read_only"] != true || profiles[0]["default"] != false ||
		profiles[1]["name"] != "staging" || profiles[1]["default"] != true || profiles[1]["target"] != "admin@db-staging:5432/backoffice" {
		t.Fatalf("config profiles %v", profiles)
	}
	// No file: no profiles, and the environment's DSN.
	r = cliRun{Env: map[string]string{"B2BADMIN_DSN": "postgres://u:envpw@envhost/db"}}.run(t, "config", "view", "--jq", "[.config_exists, .dsn_source, .dsn, .profile]")
	if strings.TrimSpace(r.Stdout) != `[false,"B2BADMIN_DSN","postgres://u:xxxxx@envhost/db",null]` {
		t.Fatalf("no config: %q %s", r.Stdout, r.Stderr)
	}
	if r := runCLI(t, "", "config", "profiles", "-o", "json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("no config, no profiles: %q", r.Stdout)
	}
}

// --quiet silences the notes of a command (here: nothing to change), not
// its errors.
func TestQuietSilencesNotes(t *testing.T) {
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "q@example.com"})
	if r := mustRun(t, dsn, "users", "activate", "q@example.com"); !strings.Contains(r.Stderr, "already active") {
		t.Fatalf("the note this test silences: %q", r.Stderr)
	}
	if r := mustRun(t, dsn, "--quiet", "users", "activate", "q@example.com"); r.Stderr != "" {
		t.Fatalf("--quiet printed %q", r.Stderr)
	}
	if r := mustRun(t, dsn, "-q", "users", "deactivate", "q@example.com", "--dry-run"); r.Stderr != "" || !strings.Contains(r.Stdout, "is_active") {
		t.Fatalf("-q --dry-run: the change list stays, the summary goes: %q %q", r.Stdout, r.Stderr)
	}
	assertOneLineError(t, runCLI(t, dsn, "-q", "users", "activate", "nobody@example.com"), ExitNotFound)
}

// The jq of the issue: users list -o json --jq '.[].email' equals the
// system jq's -r '.[].email' (compared only when jq is installed; the
// built-in path is checked against the database's emails regardless).
func TestUsersListJQ(t *testing.T) {
	dsn, db := writeDB(t)
	want := []string{"a@example.com", "b\"quote@example.com", "ünï@example.com"}
	for _, e := range want {
		fixture.AddUser(t, db, fixture.User{Email: e})
	}
	r := mustRun(t, dsn, "users", "list", "-o", "json", "--jq", ".[].email")
	if r.Stdout != strings.Join(want, "\n")+"\n" {
		t.Fatalf("--jq .[].email: %q", r.Stdout)
	}
	if jq, err := exec.LookPath("jq"); err == nil {
		cmd := exec.Command(jq, "-r", ".[].email")
		cmd.Stdin = strings.NewReader(mustRun(t, dsn, "users", "list", "-o", "json").Stdout)
		out, err := cmd.Output()
		if err != nil || string(out) != r.Stdout {
			t.Fatalf("jq -r gave %q (%v), --jq %q", out, err, r.Stdout)
		}
	} else {
		t.Log("no jq installed: compared with the database only")
	}
	// A real run of a change prints its change list for --jq.
	r = mustRun(t, dsn, "users", "deactivate", "a@example.com", "--jq", ".[] | [.email, .field, .after] | @tsv")
	if r.Stdout != "a@example.com\tis_active\tfalse\n" {
		t.Fatalf("change list through --jq: %q", r.Stdout)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// helperProcessEnv marks a run of this test binary as b2badmin itself.
const helperProcessEnv = "B2BADMIN_MAIN_HELPER"

// TestMainHelperProcess is not a test: the terminal tests run this test
// binary as b2badmin (Main, the real tree) on a pseudo-terminal.
func TestMainHelperProcess(t *testing.T) {
	if os.Getenv(helperProcessEnv) != "1" {
		t.Skip("helper process for the terminal tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(args))
}

func mainHelper(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestMainHelperProcess$", "--"}, args...)...)
	cmd.Env = append(append(os.Environ(), helperProcessEnv+"=1", "XDG_CONFIG_HOME="+t.TempDir(), "B2BADMIN_PROFILE="), env...)
	cmd.Dir = filepath.Dir(os.Args[0])
	return cmd
}

// The audits have an -o of their own (with the report formats): --jq and
// -o yaml reach their findings too.
func TestAuditJQAndYAML(t *testing.T) {
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "deny@example.com", Perms: []string{"auth.view_group"}})
	policy := filepath.Join("..", "examples", "policy.yaml")
	r := runCLI(t, dsn, "perms", "audit", "--policy", policy, "-o", "json", "--jq", `.[] | select(.permission == "auth.view_group") | .email`)
	if r.Code != ExitFindings || r.Stdout != "deny@example.com\n" {
		t.Fatalf("perms audit -o json --jq: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r2 := runCLI(t, dsn, "perms", "audit", "--policy", policy, "--jq", `.[] | select(.permission == "auth.view_group") | .email`); r2.Stdout != r.Stdout {
		t.Fatalf("perms audit --jq (implied -o json): %q %q", r2.Stdout, r2.Stderr)
	}
	r = runCLI(t, dsn, "perms", "audit", "--policy", policy, "-o", "yaml")
	var findings []map[string]any
	if err := yaml.Unmarshal([]byte(r.Stdout), &findings); err != nil || r.Code != ExitFindings || len(findings) == 0 || findings[0]["email"] != "deny@example.com" {
		t.Fatalf("perms audit -o yaml: %d %v %q", r.Code, err, r.Stdout)
	}
	assertOneLineError(t, runCLI(t, dsn, "perms", "audit", "--policy", policy, "-o", "sarif", "--jq", "."), ExitUsage)
}

// batch --jq filters the batch's results, not each line's output.
func TestBatchJQFiltersItsResults(t *testing.T) {
	dsn, db := writeDB(t)
	fixture.AddUser(t, db, fixture.User{Email: "b1@example.com"})
	r := cliRun{DSN: dsn, Stdin: "users update b1@example.com --first-name A\ngroups list\n"}.run(t, "batch", "-", "--jq", ".[] | [.line, .status] | @tsv")
	if r.Code != 0 || r.Stdout != "1\tok\n2\tok\n" {
		t.Fatalf("batch --jq: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
}
