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
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if got := firstNames(t, conn); !reflect.DeepEqual(got, []string{"a", "orig", "orig"}) {
		t.Fatalf("names %v (nothing after exit may run)", got)
	}
	wantErr := []string{
		`b2badmin: unknown command "nosuch" for "b2badmin t"`,
		"b2badmin: refused: FAIL is not a name (exit 4)",
		"b2badmin: unbalanced single quote (')",
		"b2badmin: batch cannot run inside the shell: run b2badmin batch FILE",
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
}
