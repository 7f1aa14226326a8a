package commands

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

	"github.com/b2badmin/b2badmin/internal/pgtest"
)

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
