package commands

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/b2badmin/b2badmin/internal/fixture"
)

// The real commands of the speed target (users update, users add-group,
// perms grant) through batch: every mode sees their real effects.
func TestBatchRealCommands(t *testing.T) {
	dsn, conn := batchDB(t)
	lines := "users update 1 --first-name Ann\n" +
		"users add-group bob@example.com 'merchant owner' 'KYC not verified'\n" +
		"perms grant 3 api.view_wallet 'api | wallet | Can charge wallet'\n"

	// --atomic with a line that breaks a group rule: nothing applied.
	before := fixture.DumpAll(t, conn)
	bad := lines + "users update 1 --email BOB@example.com\n" // taken: exit 4
	r := cliRun{DSN: dsn, Stdin: bad}.run(t, "batch", "--atomic")
	if r.Code != ExitRefused || !strings.Contains(r.Stderr, "<stdin>:4: ") {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("a failed --atomic batch of real commands changed the database")
	}

	// --dry-run: the real commands' log rows are shown, nothing kept.
	r = cliRun{DSN: dsn, Stdin: lines}.run(t, "-o", "jsonl", "batch", "--dry-run")
	if r.Code != 0 {
		t.Fatalf("dry run: exit %d: %s", r.Code, r.Stderr)
	}
	for i, res := range parseResults(t, r.Stdout) {
		if res.Status != "ok" || len(res.Changes) != 1 {
			t.Fatalf("dry-run line %d: %+v", i+1, res)
		}
	}
	if fixture.DumpAll(t, conn) != before {
		t.Fatal("--dry-run changed the database")
	}

	// Default mode applies every line, each logged with its batch line.
	r = cliRun{DSN: dsn, Stdin: lines}.run(t, "batch")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if got := firstNames(t, conn); got[0] != "Ann" {
		t.Fatalf("names %v", got)
	}
	var groups, perms, logLines string
	ctx := context.Background()
	for q, dst := range map[string]*string{
		`SELECT coalesce(string_agg(g.name, ',' ORDER BY g.name), '') FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = 2`:                             &groups,
		`SELECT coalesce(string_agg(p.codename, ',' ORDER BY p.codename), '') FROM rbac_user_user_permissions up JOIN auth_permission p ON p.id = up.permission_id WHERE up.user_id = 3`: &perms,
		`SELECT coalesce(string_agg(batch_line::text, ',' ORDER BY batch_line), '') FROM api_operationlog WHERE batch_file = '<stdin>'`:                                                  &logLines,
	} {
		if err := conn.QueryRow(ctx, q).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	if groups != "KYC not verified,Merchant owner" || perms != "charge_wallet,view_wallet" || logLines != "1,2,3" {
		t.Fatalf("groups %q perms %q log lines %q", groups, perms, logLines)
	}
}

// `users set-group 1 Mer<TAB>` offers the Merchant groups: through
// __complete on the real tree, and through bash with the committed script
// and a freshly built b2badmin on PATH.
func TestCompletionSetGroupRealBinary(t *testing.T) {
	var out bytes.Buffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}}, func(string) string { return "" })
	if code := Execute(context.Background(), f, []string{"__complete", "users", "set-group", "1", "Mer"}); code != 0 {
		t.Fatalf("__complete exit %d", code)
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); !reflect.DeepEqual(got, []string{"Merchant owner", "Merchant staff", ":4"}) {
		t.Fatalf("__complete offered %q", got)
	}

	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed for this test")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "b2badmin"), "../cmd/b2badmin")
	build.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/local/go/bin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script, _ := filepath.Abs(filepath.Join("..", "completions", "b2badmin.bash"))
	drive := `
_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
source "$1"
COMP_LINE="b2badmin users set-group 1 Mer"; COMP_POINT=${#COMP_LINE}
COMP_WORDS=(b2badmin users set-group 1 Mer); COMP_CWORD=4
__start_b2badmin b2badmin Mer 1 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, "-c", drive, "drive", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+t.TempDir(), "B2BADMIN_DSN=")
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, got)
	}
	if lines := strings.Split(strings.TrimRight(string(got), "\n"), "\n"); !reflect.DeepEqual(lines, []string{"Merchant owner", "Merchant staff"}) {
		t.Fatalf("bash offered %q", lines)
	}
}
