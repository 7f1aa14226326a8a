package commands

// The help examples are documentation that runs. TestHelpExamplesRun
// executes every line of every command's Example, as a user would paste it
// into bash after `make demo` in a checkout of the repository, on a
// database seeded exactly as `make demo` seeds it, and checks each line's
// exit code (examples_run_test.go). The conventions an example follows
// (the tests here and there hold every example to them):
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
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
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
