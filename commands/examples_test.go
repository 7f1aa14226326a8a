package commands

// The help examples are documentation that runs. TestHelpExamplesRun
// executes every line of every command's Example, as a user would paste it
// into bash after `make demo` in a checkout of the repository, on a
// database seeded exactly as `make demo` seeds it, and checks each line's
// exit code. The conventions an example follows (the tests below hold
// every example to them):
//
//   - Handles: the users, companies and groups `make demo` seeds (its
//     20,000 users with seed 1: user 42 is michal42@ukr.net, 12 is
//     harris.isabella12@yahoo.com, …); never alice@example.com, who does not
//     exist there.
//   - Files: an input file is one the repository ships under examples/
//     (paths relative to the repository root, where `make demo` leaves you),
//     or one an earlier line of the same example wrote. The test runs the
//     lines in a scratch directory holding a copy of examples/.
//   - Order: the lines of one command's Example run in order, in one scratch
//     directory, on one fresh copy of the seeded database; a line may use
//     what an earlier line of the same Example wrote or changed. Examples of
//     different commands never see each other's changes.
//   - Exit code: 0, unless the line ends in a comment "# exit N…" (e.g.
//     "# exit 5: findings"); then N.
//   - Run ids: never written out (no example can know one). A line finds the
//     run an earlier line made: "$(b2badmin log runs --limit 1 --jq '.[0].id')".
//   - No terminal and no prompt: stdin is /dev/null, so a change to many
//     users says --yes, and a secret comes from printf into
//     --password-stdin. The one secret, the new password of set-password's
//     example, is read from $NEW_PASSWORD, which the test sets.
//   - Shell: each line runs as `bash -o pipefail -c LINE` (bash for the
//     completion example's process substitution; pipefail so that a failing
//     b2badmin before a pipe is not hidden by the command after it — hence
//     no `| head` either, whose early exit would be a SIGPIPE).
//   - Coverage: the root and every runnable command have at least one
//     example, and one of a command's lines runs that command. Commands that
//     only group subcommands (users, perms, db, …) are exempt: their help
//     lists the subcommands, each with its own examples.

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/internal/pgtest"
)

// exampleLine is one line of a command's Example.
type exampleLine struct {
	Text string // without the two leading spaces
	Exit int    // the exit code it documents
}

// helpExample is one command's Example, line by line.
type helpExample struct {
	Path  string // command path without the program name; "" for the root
	Lines []exampleLine
}

// exitComment is the documented exit code at the start of a comment.
var exitComment = regexp.MustCompile(`^#\s*exit\s+(\d+)\b`)

// shellComment is the comment that ends a shell line: from a '#' that
// starts a word (at the start or after a blank), outside quotes.
func shellComment(line string) string {
	var quote rune
	prev := ' '
	for i, r := range line {
		switch {
		case quote == 0 && prev == '\\':
			r = 'x' // an escaped character is a plain one
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (prev == ' ' || prev == '\t'):
			return line[i:]
		}
		prev = r
	}
	return ""
}

// parseExample splits an Example into its lines and their exit codes.
func parseExample(s string) ([]exampleLine, error) {
	var lines []exampleLine
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if !strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "   ") {
			return nil, fmt.Errorf("line %q: an example line is indented by exactly two spaces", l)
		}
		l = strings.TrimPrefix(l, "  ")
		if !strings.Contains(l, "b2badmin ") {
			return nil, fmt.Errorf("line %q runs no b2badmin command", l)
		}
		e := exampleLine{Text: l}
		if m := exitComment.FindStringSubmatch(shellComment(l)); m != nil {
			e.Exit, _ = strconv.Atoi(m[1])
		}
		lines = append(lines, e)
	}
	return lines, nil
}

// exampleExempt says whether c may go without an example: a command that
// only groups subcommands (not the root, whose help is the front door).
func exampleExempt(c *cobra.Command) bool {
	return isParent(c) && c.HasParent()
}

// helpExamples walks the command tree and returns every command's
// examples, in tree order.
func helpExamples(t *testing.T) []helpExample {
	t.Helper()
	root := NewRootCmd(offlineInvocation())
	var out []helpExample
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && !c.IsAvailableCommand() {
			return
		}
		lines, err := parseExample(c.Example)
		if err != nil {
			t.Errorf("%q: %v", c.CommandPath(), err)
		}
		if len(lines) > 0 {
			out = append(out, helpExample{Path: commandPath(c), Lines: lines})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// The exit comment is read as the documented code, only at the end of a
// line and outside quotes.
func TestExampleExitComment(t *testing.T) {
	for line, want := range map[string]int{
		"b2badmin groups audit": 0,
		"b2badmin perms audit --policy p.yaml   # exit 5: findings":               5,
		"b2badmin access plan -f a.yaml #exit 5 when there are changes":           5,
		"b2badmin perms grant - api.view_wallet --yes < u.txt  # one ID per line": 0,
		"b2badmin users update 42 --reason '# exit 4'":                            0,
		"b2badmin log --reason x#exit 3":                                          0,
		"b2badmin perms audit -p p.yaml  # exit 5: the demo's users":              5,
		`b2badmin log --run "$(b2badmin log runs --jq '.[0].id')" # exit 3`:       3,
		`b2badmin users update 42 --reason "it's # exit 4"`:                       0,
		`b2badmin users update 42 --reason it\'s\ \#exit 4`:                       0,
	} {
		lines, err := parseExample("  " + line)
		if err != nil || len(lines) != 1 || lines[0].Exit != want {
			t.Errorf("%q: %+v %v, want exit %d", line, lines, err, want)
		}
	}
	for _, bad := range []string{"b2badmin version", "   b2badmin version", "  echo hello"} {
		if _, err := parseExample(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The root and every runnable command have an example, one of whose lines
// runs that very command (so that set-group does not show only add-group).
func TestEveryCommandHasAnExample(t *testing.T) {
	root := NewRootCmd(offlineInvocation())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && !c.IsAvailableCommand() {
			return
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if exampleExempt(c) {
			return
		}
		lines, _ := parseExample(c.Example)
		if len(lines) == 0 {
			t.Errorf("%q has no example", c.CommandPath())
			return
		}
		if c == root {
			return
		}
		for _, l := range lines {
			if strings.Contains(l.Text, c.CommandPath()+" ") || strings.HasSuffix(l.Text, c.CommandPath()) {
				return
			}
		}
		t.Errorf("no example line of %q runs it:\n%s", c.CommandPath(), c.Example)
	}
	walk(root)
}

// TestExamplesHelperProcess is not a test: TestHelpExamplesRun runs this
// test binary as the b2badmin on the examples' PATH (a wrapper script
// execs it with this -test.run), and here it is exactly cmd/b2badmin.
func TestExamplesHelperProcess(t *testing.T) {
	if os.Getenv("B2BADMIN_EXAMPLES_HELPER") != "1" {
		t.Skip("the b2badmin of TestHelpExamplesRun")
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

// demoRecipe reads the b2badmin command lines of the Makefile's demo
// target, with $(DEMO_USERS) filled in: the test seeds as `make demo` does.
func demoRecipe(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mk := string(b)
	users := regexp.MustCompile(`(?m)^DEMO_USERS\s*\?=\s*(\d+)\s*$`).FindStringSubmatch(mk)
	if users == nil {
		t.Fatal("Makefile: no DEMO_USERS ?= N")
	}
	_, recipe, ok := strings.Cut(mk, "\ndemo:")
	if !ok {
		t.Fatal("Makefile: no demo target")
	}
	recipe, _, _ = strings.Cut(recipe, "\n\n")
	var cmds [][]string
	for _, m := range regexp.MustCompile(`\$\(BIN\) --dsn "\$\$dsn" ([^&\\]+?)\s*(?:&&|$)`).FindAllStringSubmatch(recipe, -1) {
		words := strings.Fields(strings.ReplaceAll(m[1], "$(DEMO_USERS)", users[1]))
		cmds = append(cmds, words)
	}
	var seeds int
	for _, c := range cmds {
		if len(c) > 1 && c[0] == "db" && c[1] == "seed" {
			seeds++
		}
	}
	if seeds != 1 {
		t.Fatalf("Makefile: the demo recipe has %d db seed lines, want 1: %q", seeds, cmds)
	}
	return cmds
}

// examplePassword is $NEW_PASSWORD, the secret the set-password example
// reads (the user of an example puts theirs there).
const examplePassword = "correct horse battery staple"

// exampleEnv is the environment of an example line: the caller's, without
// anything that would point b2badmin elsewhere (config, profile, other
// databases), with the helper b2badmin first on PATH.
func exampleEnv(bin, dir, dsn string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "B2BADMIN_") || strings.HasPrefix(k, "PG") || k == "DATABASE_URL" ||
			k == "HOME" || k == "XDG_CONFIG_HOME" || k == "PATH" || k == "USER" || k == "NO_COLOR" || k == "PAGER" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "B2BADMIN_EXAMPLES_HELPER=1",
		"B2BADMIN_DSN="+dsn, "NEW_PASSWORD="+examplePassword, "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"), "USER=demo")
}

// exampleResult is what one example line did.
type exampleResult struct {
	Code           int // the line's exit code
	Stdout, Stderr string
	// Runs are the exit codes of the b2badmin processes the line ran, in
	// the order they ended: a failing $(b2badmin …) inside an argument
	// does not change the line's exit code, but shows here.
	Runs []int
}

// runExampleLine runs one line with bash in dir.
func runExampleLine(t *testing.T, env []string, dir, line string) exampleResult {
	t.Helper()
	exits := filepath.Join(t.TempDir(), "exits")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", line)
	cmd.Dir, cmd.Env = dir, append(env[:len(env):len(env)], "B2BADMIN_EXAMPLES_EXITS="+exits)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s: still running after 2 minutes", line)
	}
	r := exampleResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.Code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	b, _ := os.ReadFile(exits)
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		r.Runs = append(r.Runs, n)
	}
	return r
}

// check fails t unless the line exited with want and every b2badmin it
// ran exited 0 or want.
func (r exampleResult) check(t *testing.T, line string, want int) {
	t.Helper()
	bad := r.Code != want || len(r.Runs) == 0
	for _, c := range r.Runs {
		bad = bad || (c != 0 && c != want)
	}
	if bad {
		t.Fatalf("%s\nexit %d, the example documents %d; its b2badmin processes exited %v\nstdout: %s\nstderr: %s",
			line, r.Code, want, r.Runs, tailOf(r.Stdout, 1500), tailOf(r.Stderr, 1500))
	}
}

// shQuote quotes s as one word for sh.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// copyDir copies the regular files under src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Every help example runs on the seeded demo database with its documented
// exit code. The database is seeded once, by the Makefile's own demo
// commands; each command's examples then run on a copy of it.
func TestHelpExamplesRun(t *testing.T) {
	admin := pgtest.AdminDSN(t) // skips under -short
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed to run the help examples")
	}
	examples := helpExamples(t)
	seeded := pgtest.NewDatabase(t)
	seededName := mustDatabaseName(t, seeded)

	bin := t.TempDir()
	// b2badmin on the examples' PATH: this test binary as cmd/b2badmin,
	// noting each exit code in $B2BADMIN_EXAMPLES_EXITS.
	wrapper := "#!/bin/sh\n" + shQuote(os.Args[0]) + " -test.run='^TestExamplesHelperProcess$' -- \"$@\"\n" +
		"code=$?\necho $code >> \"$B2BADMIN_EXAMPLES_EXITS\"\nexit $code\n"
	if err := os.WriteFile(filepath.Join(bin, "b2badmin"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	repoExamples, _ := filepath.Abs(filepath.Join("..", "examples"))

	start := time.Now()
	for _, words := range demoRecipe(t) {
		dir := t.TempDir()
		line := "b2badmin " + strings.Join(words, " ")
		runExampleLine(t, exampleEnv(bin, dir, seeded), dir, line).check(t, line, 0)
	}
	t.Logf("seeded like make demo in %v", time.Since(start).Round(time.Millisecond))

	// The harness itself: a user the demo lacks is exit 3, not a pass, and
	// so is a failing b2badmin inside $(…), which bash alone would hide.
	dir := t.TempDir()
	if r := runExampleLine(t, exampleEnv(bin, dir, seeded), dir, "b2badmin users show alice@example.com"); r.Code != ExitNotFound || len(r.Runs) != 1 || r.Runs[0] != ExitNotFound {
		t.Fatalf("users show alice@example.com on the demo data: %+v, want exit %d", r, ExitNotFound)
	}
	// (The outer command then gets an empty --run, which it refuses too.)
	if r := runExampleLine(t, exampleEnv(bin, dir, seeded), dir, `b2badmin log --run "$(b2badmin users show alice@example.com --jq .id)"`); len(r.Runs) != 2 || r.Runs[0] != ExitNotFound || r.Runs[1] != ExitUsage {
		t.Fatalf("a b2badmin inside $(…): %+v, want exit codes [3 2]", r)
	}

	for i, ex := range examples {
		name := ex.Path
		if name == "" {
			name = "b2badmin"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := fmt.Sprintf("%s_ex%d", seededName, i)
			if err := adminExecDB(admin, "CREATE DATABASE "+db+" TEMPLATE "+seededName); err != nil {
				t.Fatalf("copy the seeded database: %v", err)
			}
			t.Cleanup(func() { _ = adminExecDB(admin, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
			dir := t.TempDir()
			copyDir(t, repoExamples, filepath.Join(dir, "examples"))
			env := exampleEnv(bin, dir, pgtest.WithDatabase(seeded, db))
			for _, l := range ex.Lines {
				began := time.Now()
				r := runExampleLine(t, env, dir, l.Text)
				r.check(t, l.Text, l.Exit)
				t.Logf("%v exit %d: %s", time.Since(began).Round(time.Millisecond), r.Code, l.Text)
			}
		})
	}
}

func mustDatabaseName(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// adminExecDB runs one statement on the server's maintenance database.
func adminExecDB(admin, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
