package commands

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestShellRunsLinesAndSurvivesErrors(t *testing.T) {
	dsn, conn := batchDB(t)
	in := strings.Join([]string{
		"t set-name 1 a",
		"",
		"t nosuch",
		"t set-name 2 FAIL",
		"t set-name 'oops",
		"t echo 'x y' \\",
		"  z",
		"history",
		"batch f.txt",
		"exit",
		"t set-name 3 never",
	}, "\n")
	r := cliRun{DSN: dsn, Stdin: in}.run(t, "shell")
	// A piped script's bare exit keeps the first failure's code (the
	// unknown command: a usage error), as sh's exit keeps the last status.
	if r.Code != ExitUsage {
		t.Fatalf("exit %d, want %d: %s", r.Code, ExitUsage, r.Stderr)
	}
	if got := firstNames(t, conn); !reflect.DeepEqual(got, []string{"a", "orig", "orig"}) {
		t.Fatalf("names %v (nothing after exit may run)", got)
	}
	wantErr := []string{
		`b2badmin: unknown command "nosuch" for "b2badmin t"`,
		"b2badmin: refused: FAIL is not a name (exit 4)",
		"b2badmin: unbalanced single quote (')",
		"b2badmin: batch cannot run inside the shell: run b2badmin batch FILE",
		"b2badmin: a command failed (see above)",
	}
	if got := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n"); !reflect.DeepEqual(got, wantErr) {
		t.Fatalf("stderr (no prompt without a terminal):\n%s", r.Stderr)
	}
	var history []string
	for _, m := range regexp.MustCompile(`(?m)^ +(\d+)  (.*)$`).FindAllStringSubmatch(r.Stdout, -1) {
		history = append(history, m[2])
	}
	want := []string{"t set-name 1 a", "t nosuch", "t set-name 2 FAIL", "t set-name 'oops", "t echo 'x y'   z", "history"}
	if !reflect.DeepEqual(history, want) {
		t.Fatalf("history %q, want %q\nstdout:\n%s", history, want, r.Stdout)
	}
	if !strings.Contains(r.Stdout, `{"args":["x y","z"]`) {
		t.Fatalf("continued line: stdout %q", r.Stdout)
	}
}

func TestShellPromptHelpAndExitCode(t *testing.T) {
	dsn, _ := batchDB(t)
	r := cliRun{DSN: dsn, Stdin: "help\nexit 3\n", TTY: true}.run(t, "shell")
	if r.Code != 3 {
		t.Fatalf("exit %d, want 3: %s", r.Code, r.Stderr)
	}
	if r.Stderr != "b2badmin> b2badmin> " {
		t.Fatalf("prompts %q", r.Stderr)
	}
	if !strings.Contains(r.Stdout, "history          list this session's commands") || !regexp.MustCompile(`(?m)^  db +Schema and demo data$`).MatchString(r.Stdout) {
		t.Fatalf("help output %q", r.Stdout)
	}
	if eof := (cliRun{DSN: dsn, Stdin: "t echo a"}).run(t, "shell"); eof.Code != 0 || !strings.Contains(eof.Stdout, `"args":["a"]`) {
		t.Fatalf("EOF without newline: %d %q %q", eof.Code, eof.Stdout, eof.Stderr)
	}
	// At the prompt a bare exit leaves with 0 whatever failed before;
	// piped, a script whose lines all ran leaves with 0 too.
	for _, c := range []cliRun{{DSN: dsn, Stdin: "t nosuch\nexit\n", TTY: true}, {DSN: dsn, Stdin: "t echo a\nquit\n"}} {
		if r := c.run(t, "shell"); r.Code != 0 {
			t.Fatalf("%q (tty %v): exit %d %q", c.Stdin, c.TTY, r.Code, r.Stderr)
		}
	}
}

// On main a line the shell could not split printed why and the piped
// script still exited 0, as if every line had run. Each is a usage error
// now: one line for it, the session goes on, and the end of input exits
// 2 with the shell's summary line.
func TestShellUnparsableLineFailsScript(t *testing.T) {
	for _, c := range []struct{ name, in, msg string }{
		{"unbalanced quote", "users show 'x\n", "b2badmin: unbalanced single quote (')"},
		{"shell operator", "users show 1 ; x\n", `b2badmin: unquoted ";" at column 14: one command per line, no shell operators (quote it if it is data)`},
		{"invalid UTF-8", "users show \xff\n", "b2badmin: the line is not valid UTF-8"},
		{"line over 1 MiB", strings.Repeat("a", maxBatchLine+1) + "\n", "b2badmin: line longer than 1048576 bytes"},
		{"exit with a bad code", "exit 300\n", "b2badmin: exit takes a code from 0 to 255"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cliRun{DSN: noDB, Stdin: c.in + "# the session goes on\n\n"}.run(t, "shell")
			if r.Code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", r.Code, ExitUsage, r.Stderr)
			}
			want := []string{c.msg, "b2badmin: a command failed (see above)"}
			if got := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n"); !reflect.DeepEqual(got, want) {
				t.Fatalf("stderr %q, want %q", got, want)
			}
			if r.Stdout != "" {
				t.Fatalf("stdout %q", r.Stdout)
			}
		})
	}
}

// The shell's help TOPIC is `b2badmin help TOPIC`: on main `help usrs`
// printed the root's help and a bad flag after a topic printed nothing,
// both as if they had worked.
func TestShellHelpTopic(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{"help usrs", `b2badmin: unknown command "usrs" for "b2badmin" (did you mean "users"?)`},
		{"? users lst", `b2badmin: unknown command "lst" for "b2badmin users" (did you mean "list"?)`},
		{"help users --bogus", `b2badmin: help takes command words, not flags: unknown flag --bogus for "help"`},
		{"help users list --sort", `b2badmin: help takes command words, not flags: unknown flag --sort for "help"`},
	} {
		r := cliRun{DSN: noDB, Stdin: c.in + "\n"}.run(t, "shell")
		want := []string{c.msg, "b2badmin: a command failed (see above)"}
		if got := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n"); r.Code != ExitUsage || r.Stdout != "" || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q, want exit 2 and %q", c.in, r.Code, r.Stdout, got, want)
		}
	}
	f := cliRun{DSN: noDB}.run(t, "users", "list", "--help")
	for _, in := range []string{"help users list", "help users list --help", "help -h users list", "help -- users list"} {
		h := cliRun{DSN: noDB, Stdin: in + "\n"}.run(t, "shell")
		if h.Code != 0 || h.Stderr != "" || h.Stdout != f.Stdout {
			t.Errorf("%s: exit %d, stderr %q, stdout differs from users list --help: %v", in, h.Code, h.Stderr, h.Stdout != f.Stdout)
		}
	}
	plain := cliRun{DSN: noDB, Stdin: "help\n"}.run(t, "shell")
	if h := (cliRun{DSN: noDB, Stdin: "help --help\n"}).run(t, "shell"); h.Code != 0 || h.Stdout != plain.Stdout {
		t.Errorf("help --help: exit %d, stdout differs from help: %v", h.Code, h.Stdout != plain.Stdout)
	}
}
