package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/internal/fixture"
	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// batchDB is a fresh database with three users (ids 1-3) and a connection.
func batchDB(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	conn := fixture.Conn(t, dsn)
	for _, e := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
		fixture.AddUser(t, conn, fixture.User{Email: e, FirstName: "orig", Type: "merchant"})
	}
	return dsn, conn
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func firstNames(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, _ := conn.Query(context.Background(), "SELECT first_name FROM rbac_user ORDER BY id")
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// batchResult is one -o jsonl result object.
type batchResult struct {
	Line     int               `json:"line"`
	Command  string            `json:"command"`
	Status   string            `json:"status"`
	ExitCode int               `json:"exit_code"`
	Error    *string           `json:"error"`
	Output   *string           `json:"output"`
	Changes  []json.RawMessage `json:"changes"`
}

func parseResults(t *testing.T, stdout string) []batchResult {
	t.Helper()
	var out []batchResult
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r batchResult
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("result line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

var summaryRE = regexp.MustCompile(`(?m)^b2badmin: (?:run [0-9a-f-]{36}: )?(\d+) ok, (\d+) failed`)

func summary(t *testing.T, stderr string) (ok, failed string) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary in stderr %q", stderr)
	}
	return m[1], m[2]
}

func TestBatchPrecheckListsEveryProblemAndRunsNothing(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	file := writeTemp(t, "b.txt", strings.Join([]string{
		"t set-name 1 changed",               // 1 fine, must not run
		"t nosuch 1",                         // 2
		"t set-name 1 x --bogus",             // 3
		"t set-name 404 x",                   // 4
		"t set-name ghost@example.com x",     // 5
		"t add-group 2 'No such group'",      // 6
		"t grant 2 api.nope 'api.view_*'",    // 7
		"t set-name 1 x; t set-name 2 y",     // 8
		"t set-name 'unbalanced",             // 9
		"db status",                          // 10
		"batch other.txt",                    // 11
		"t set-name 1",                       // 12
		"t set-name not-a-ref x",             // 13
		"--dsn=postgres://x t set-name 1 x",  // 14
		"t set-name - x",                     // 15
		"t set-name 2 x --help",              // 16
		"users",                              // 17
		"t add-group 2 'merchant OWNER' API", // 18 fine
		"t grant 3 'api | wallet | Can charge wallet' 'api.view_*'", // 19 fine
	}, "\n"))
	r := runCLI(t, dsn, "batch", file)
	if r.Code != ExitUsage {
		t.Fatalf("exit %d, want 2; stderr:\n%s", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
	wantLines := []string{"2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17"}
	if len(lines) != len(wantLines)+1 {
		t.Fatalf("want %d problem lines and a last line, got:\n%s", len(wantLines), r.Stderr)
	}
	for i, l := range wantLines {
		if !strings.HasPrefix(lines[i], file+":"+l+": ") {
			t.Errorf("stderr line %d = %q, want %s:%s: …", i, lines[i], file, l)
		}
	}
	if last := lines[len(lines)-1]; last != "b2badmin: "+file+": 16 problems; nothing was run" {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(lines[2], "user 404 not found") || !strings.Contains(lines[4], `unknown group "No such group"`) || !strings.Contains(lines[5], `"api.nope"`) {
		t.Errorf("messages do not name what is missing:\n%s", r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("stdout %q, want nothing", r.Stdout)
	}
	if after := fixture.DumpAll(t, conn); after != before {
		t.Fatal("the database changed")
	}
}

// Missing users alone exit 3; an unknown group or permission exits 4, as
// it does on the command line, and outranks a missing user.
func TestBatchPrecheckOnlyMissingThingsExits3(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	if r := (cliRun{DSN: dsn, Stdin: "t set-name 1 x\nt set-name 99 x\n"}).run(t, "batch", "-"); r.Code != ExitNotFound {
		t.Fatalf("missing user only: exit %d, want 3: %s", r.Code, r.Stderr)
	}
	r := cliRun{DSN: dsn, Stdin: "t set-name 1 x\nt set-name 99 x\nt add-group 1 Nope\n"}.run(t, "batch", "-")
	if r.Code != ExitRefused {
		t.Fatalf("exit %d, want 4: %s", r.Code, r.Stderr)
	}
	if !strings.HasPrefix(r.Stderr, "<stdin>:2: user 99 not found\n<stdin>:3: unknown group \"Nope\"") {
		t.Fatalf("stderr %q", r.Stderr)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("the database changed")
	}
}

const threeLines = "t set-name 1 first\nt set-name 2 FAIL\nt set-name 3 third\n"

func TestBatchDefaultStopsAtFirstFailure(t *testing.T) {
	dsn, conn := batchDB(t)
	file := writeTemp(t, "b.txt", "# rename\n"+threeLines)
	r := runCLI(t, dsn, "--actor", "ops", "batch", file)
	if r.Code != ExitRefused {
		t.Fatalf("exit %d, want the failing line's 4; stderr %q", r.Code, r.Stderr)
	}
	if got := firstNames(t, conn); !reflect.DeepEqual(got, []string{"first", "orig", "orig"}) {
		t.Fatalf("names %v: line 2 committed, later lines must not run", got)
	}
	if !strings.Contains(r.Stderr, file+":3: refused: FAIL is not a name\n") {
		t.Errorf("stderr %q", r.Stderr)
	}
	if ok, failed := summary(t, r.Stderr); ok != "1" || failed != "1" {
		t.Errorf("summary %s ok %s failed", ok, failed)
	}
	if r.Stdout != "renamed ann@example.com\n" {
		t.Errorf("table mode passes line output through; stdout %q", r.Stdout)
	}
	var actor, file2, cmd string
	var line int
	var batchID *string
	err := conn.QueryRow(context.Background(), `SELECT actor, batch_file, batch_line, run_id::text, command FROM api_operationlog`).Scan(&actor, &file2, &line, &batchID, &cmd)
	if err != nil {
		t.Fatal(err)
	}
	if actor != "ops" || file2 != file || line != 2 || batchID == nil || cmd != "b2badmin t set-name 1 first" {
		t.Fatalf("log row: actor %q file %q line %d batch %v command %q", actor, file2, line, batchID, cmd)
	}
}

func TestBatchContinueOnErrorRunsAll(t *testing.T) {
	dsn, conn := batchDB(t)
	r := cliRun{DSN: dsn, Stdin: threeLines}.run(t, "-o", "jsonl", "batch", "--continue-on-error")
	if r.Code != ExitFailure {
		t.Fatalf("exit %d, want 1: %s", r.Code, r.Stderr)
	}
	if got := firstNames(t, conn); !reflect.DeepEqual(got, []string{"first", "orig", "third"}) {
		t.Fatalf("names %v", got)
	}
	res := parseResults(t, r.Stdout)
	if len(res) != 3 || res[0].Status != "ok" || res[1].Status != "failed" || res[1].ExitCode != 4 || res[2].Status != "ok" {
		t.Fatalf("results %+v", res)
	}
	if res[1].Line != 2 || res[1].Command != "t set-name 2 FAIL" || res[1].Error == nil || *res[1].Error != "refused: FAIL is not a name" {
		t.Fatalf("failed result %+v", res[1])
	}
	if res[0].Output == nil || *res[0].Output != "renamed ann@example.com\n" || res[0].Error != nil {
		t.Fatalf("jsonl captures the line's own output: %+v", res[0])
	}
	if ok, failed := summary(t, r.Stderr); ok != "2" || failed != "1" {
		t.Errorf("summary %s/%s", ok, failed)
	}
}

func TestBatchAtomicFailureAppliesNothing(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	r := cliRun{DSN: dsn, Stdin: threeLines}.run(t, "batch", "--atomic", "-")
	if r.Code != ExitRefused {
		t.Fatalf("exit %d, want 4: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "rolled back, nothing was applied") {
		t.Errorf("stderr %q", r.Stderr)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("an --atomic batch with a failing line changed the database")
	}
	ok := cliRun{DSN: dsn, Stdin: "t set-name 1 a\nt set-name 3 c\n"}.run(t, "batch", "--atomic")
	if ok.Code != 0 || !reflect.DeepEqual(firstNames(t, conn), []string{"a", "orig", "c"}) {
		t.Fatalf("atomic success: exit %d %q, names %v", ok.Code, ok.Stderr, firstNames(t, conn))
	}
}

func TestBatchDryRunShowsChangesAndRollsBack(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	in := "t set-name 1 first\nt set-name 2 FAIL\nt set-name 3 third\n"
	r := cliRun{DSN: dsn, Stdin: in}.run(t, "-o", "jsonl", "batch", "--dry-run", "--continue-on-error")
	if r.Code != ExitFailure {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("--dry-run changed the database")
	}
	res := parseResults(t, r.Stdout)
	if len(res) != 3 || len(res[0].Changes) != 1 || len(res[1].Changes) != 0 || len(res[2].Changes) != 1 {
		t.Fatalf("results %+v", res)
	}
	var ch struct {
		Line   int               `json:"line"`
		Action string            `json:"action"`
		Email  string            `json:"email"`
		Before map[string]string `json:"before"`
		After  map[string]string `json:"after"`
	}
	if err := json.Unmarshal(res[2].Changes[0], &ch); err != nil {
		t.Fatal(err)
	}
	if ch.Line != 3 || ch.Email != "cy@example.com" || ch.Before["first_name"] != "orig" || ch.After["first_name"] != "third" {
		t.Fatalf("change %+v", ch)
	}
	// A change's strings are written as every other JSON string: & and <
	// as they are (encoding/json alone escapes them for HTML).
	amp := cliRun{DSN: dsn, Stdin: "t set-name 1 'A&B <x>'\n"}.run(t, "-o", "jsonl", "batch", "--dry-run")
	if amp.Code != 0 || !strings.Contains(amp.Stdout, `"first_name":"A&B <x>"`) {
		t.Fatalf("change strings: exit %d %q %q", amp.Code, amp.Stdout, amp.Stderr)
	}
	// Table output: a table of the changes after the run.
	tr := cliRun{DSN: dsn, Stdin: "t set-name 1 first\n"}.run(t, "batch", "--dry-run")
	if tr.Code != 0 || !strings.Contains(tr.Stdout, "users.update") || !strings.Contains(tr.Stdout, `{"first_name": "first"}`) {
		t.Fatalf("table dry run: %d %q %q", tr.Code, tr.Stdout, tr.Stderr)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("--dry-run changed the database")
	}
}

func TestBatchInheritsGlobalFlags(t *testing.T) {
	dsn, conn := batchDB(t)
	before := fixture.DumpAll(t, conn)
	r := cliRun{DSN: dsn, Stdin: "t set-name 1 x\n"}.run(t, "--read-only", "batch")
	if r.Code != ExitRefused || !strings.Contains(r.Stderr, "read-only") {
		t.Fatalf("--read-only must hold for every line: exit %d %q", r.Code, r.Stderr)
	}
	// The refusal and the summary, nothing else: no write was sent, so no
	// run is named and none is recorded as ended.
	for _, flags := range [][]string{nil, {"--continue-on-error"}, {"--atomic"}} {
		r := cliRun{DSN: dsn, Stdin: "t set-name 1 x\n"}.run(t, append([]string{"--read-only", "batch"}, flags...)...)
		lines := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "<stdin>:1: refused: read-only") || !strings.HasPrefix(lines[1], "b2badmin: 0 ok, 1 failed") {
			t.Fatalf("--read-only batch %v: stderr %q", flags, r.Stderr)
		}
	}
	// Reads only, all or nothing: they commit, and nothing is recorded.
	r = cliRun{DSN: dsn, Stdin: "t echo x\n"}.run(t, "--read-only", "batch", "--atomic")
	if r.Code != 0 || r.Stderr != "b2badmin: 1 ok, 0 failed; committed\n" {
		t.Fatalf("--read-only batch --atomic of a read: exit %d %q", r.Code, r.Stderr)
	}
	// A line cannot undo the batch's --read-only.
	r = cliRun{DSN: dsn, Stdin: "t set-name 1 x --read-only=false\n"}.run(t, "--read-only", "batch")
	if r.Code != ExitUsage || !strings.HasPrefix(r.Stderr, "<stdin>:1: --read-only is set for the whole run") {
		t.Fatalf("exit %d %q", r.Code, r.Stderr)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("changed")
	}
}

func TestBatchUsageErrors(t *testing.T) {
	dsn, _ := batchDB(t)
	for _, args := range [][]string{
		{"batch", "--atomic", "--continue-on-error", "-"},
		{"batch", "--atomic", "--dry-run", "-"},
		{"batch", "--csv", "x.csv"},
		{"batch", "a", "b"},
	} {
		r := runCLI(t, dsn, args...)
		assertOneLineError(t, r, ExitUsage)
	}
}

// A batch file or a shell script saved by Notepad (a byte-order mark, CRLF
// line ends) runs as typed; on main its first line failed as the unknown
// command "\ufefft" (exit 2) and nothing ran.
func TestBatchAndShellIgnoreByteOrderMark(t *testing.T) {
	dsn, conn := batchDB(t)
	file := writeTemp(t, "bom.txt", "\ufefft set-name 1 a\r\nt set-name 2 b\r\n")
	r := runCLI(t, dsn, "batch", file)
	if r.Code != 0 {
		t.Fatalf("batch: exit %d: %s", r.Code, r.Stderr)
	}
	sh := cliRun{DSN: dsn, Stdin: "\ufefft set-name 3 c\r\n"}.run(t, "shell")
	if sh.Code != 0 || sh.Stderr != "" {
		t.Fatalf("shell: exit %d, stderr %q", sh.Code, sh.Stderr)
	}
	if got := firstNames(t, conn); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("names %v, want [a b c]", got)
	}
}
