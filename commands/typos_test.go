package commands

import (
	"strings"
	"testing"
)

// noDB is a DSN nothing listens on: the typo tests need no database, and
// a command that reached it would fail with exit 1, not 2.
const noDB = "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"

// A mistyped subcommand printed its parent's help and exited 0 on main, so
// a cron job "succeeded" doing nothing; a flag after it was reported as
// the parent's unknown flag. Every typo is exit 2 with one clean line
// naming what was probably meant.
func TestTyposExitTwoWithDidYouMean(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"perms", "revok", "42", "auth.*"}, `unknown command "revok" for "b2badmin perms" (did you mean "revoke"?)`},
		{[]string{"users", "deactive", "5"}, `unknown command "deactive" for "b2badmin users" (did you mean "deactivate"?)`},
		{[]string{"users", "activat", "-"}, `(did you mean "activate"?)`},
		{[]string{"users", "deactive", "5", "--yes"}, `unknown command "deactive" for "b2badmin users" (did you mean "deactivate"?)`},
		{[]string{"usres"}, `unknown command "usres" for "b2badmin" (did you mean "users"?)`},
		{[]string{"groups", "lst"}, `(did you mean "list"?)`},
		{[]string{"users"}, `"b2badmin users" needs a subcommand: `},
		{[]string{"2fa"}, `"b2badmin 2fa" needs a subcommand: `},
		{[]string{"users", "deactivate", "5", "--kep-sessions"}, `unknown flag --kep-sessions for "b2badmin users deactivate" (did you mean --keep-sessions?)`},
		{[]string{"users", "list", "--emial", "x"}, `(did you mean --email?)`},
		{[]string{"users", "list", "--yes"}, `unknown flag --yes for "b2badmin users list"`},
		{[]string{"users", "list", "-Z"}, `unknown shorthand flag -Z`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "b2badmin"`},
		// Cobra answers -h before it checks the words: on main these
		// printed the root's or the parent's help and exited 0.
		{[]string{"usres", "--help"}, `unknown command "usres" for "b2badmin" (did you mean "users"?)`},
		{[]string{"users", "deactive", "-h"}, `unknown command "deactive" for "b2badmin users" (did you mean "deactivate"?)`},
		{[]string{"--dsn", noDB, "perms", "revok", "-h", "42"}, `(did you mean "revoke"?)`},
		{[]string{"users", "--help=nope"}, `invalid argument "nope" for "-h, --help" flag`},
		{[]string{"log", "rns", "-h"}, `unknown command "rns" for "b2badmin log"`}, // runnable, with subcommands
	}
	for _, c := range cases {
		r := cliRun{DSN: noDB}.run(t, c.args...)
		assertOneLineError(t, r, ExitUsage)
		if !strings.Contains(r.Stderr, c.want) || strings.ContainsAny(strings.TrimSuffix(r.Stderr, "\n"), "\t;") {
			t.Errorf("b2badmin %s: stderr %q, want one clean line with %q", strings.Join(c.args, " "), r.Stderr, c.want)
		}
		if r.Stdout != "" {
			t.Errorf("b2badmin %s: printed %q (help on a typo)", strings.Join(c.args, " "), r.Stdout)
		}
	}
	// Help itself still works, and the bare root still shows it.
	for _, args := range [][]string{{"users", "--help"}, {"users", "-h"}, {"-h"}, {"--help=true"}, {"2fa", "--help", "--output", "bogus"}, {"log", "-h"}, {"log", "runs", "--help"}, {"-h", "--version"}, {"--version", "--help"}, {"help", "perms"}, {}} {
		if r := (cliRun{DSN: noDB}).run(t, args...); r.Code != 0 || !strings.Contains(r.Stdout, "Usage:") {
			t.Errorf("b2badmin %s: exit %d, stdout %q", strings.Join(args, " "), r.Code, r.Stdout)
		}
	}
}

// A group name is a typo like any other: the closest group is named.
func TestUnknownGroupDidYouMean(t *testing.T) {
	for _, args := range [][]string{
		{"users", "add-group", "1", "Mrchant owner"},
		{"users", "list", "--group", "Mrchant owner"},
	} {
		r := cliRun{DSN: noDB}.run(t, args...)
		assertOneLineError(t, r, ExitRefused)
		if !strings.Contains(r.Stderr, `unknown group "Mrchant owner" (did you mean "Merchant owner"`) {
			t.Errorf("b2badmin %s: %q", strings.Join(args, " "), r.Stderr)
		}
	}
}

// The batch pre-check reports the same typos, each as FILE:LINE, and runs
// nothing (exit 2); a shell reading a script from stdin exits non-zero
// when a line failed.
func TestTyposInBatchAndShell(t *testing.T) {
	script := "users deactive 5\nusers list --yes\nperms revok 1 'auth.*'\nusers\nusers add-group 1 'Mrchant owner'\n"
	file := writeTemp(t, "typos.txt", script)
	r := cliRun{DSN: noDB}.run(t, "batch", file)
	if r.Code != ExitUsage {
		t.Fatalf("batch: exit %d, want 2: %s", r.Code, r.Stderr)
	}
	for i, want := range []string{
		`:1: unknown command "deactive" for "b2badmin users" (did you mean "deactivate"?)`,
		`:2: unknown flag --yes for "b2badmin users list"`,
		`:3: unknown command "revok" for "b2badmin perms" (did you mean "revoke"?)`,
		`:4: "b2badmin users" needs a subcommand`,
		`:5: unknown group "Mrchant owner" (did you mean "Merchant owner"?)`,
		`5 problems; nothing was run`,
	} {
		lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
		if len(lines) != 6 || !strings.Contains(lines[i], want) {
			t.Fatalf("batch stderr line %d: want %q in\n%s", i+1, want, r.Stderr)
		}
	}
	sh := cliRun{DSN: noDB, Stdin: "users deactive 5\ngroups lst\n"}.run(t, "shell")
	if sh.Code != ExitUsage || !strings.Contains(sh.Stderr, `(did you mean "deactivate"?)`) || !strings.Contains(sh.Stderr, `(did you mean "list"?)`) {
		t.Fatalf("shell from stdin with failing lines: exit %d, stderr %q", sh.Code, sh.Stderr)
	}
	if ok := (cliRun{DSN: noDB, Stdin: "# nothing\n\n"}).run(t, "shell"); ok.Code != 0 {
		t.Fatalf("shell with no failing line: exit %d, %q", ok.Code, ok.Stderr)
	}
}
