package commands

import (
	"reflect"
	"strings"
	"testing"
)

// On main `help usrs` printed the root's help and `help users lst` the
// users help, both exit 0 (Cobra's help command cannot see the typo):
// a mistyped topic now fails exactly as the mistyped command does.
func TestHelpUnknownTopicExitsTwo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "usrs"}, `b2badmin: unknown command "usrs" for "b2badmin" (did you mean "users"?)`},
		{[]string{"help", "users", "lst"}, `b2badmin: unknown command "lst" for "b2badmin users" (did you mean "list"?)`},
		{[]string{"help", "frobnicate"}, `b2badmin: unknown command "frobnicate" for "b2badmin"`},
		{[]string{"help", "users", "list", "foo"}, `b2badmin: unknown help topic "users list foo": "b2badmin users list" has no subcommands`},
		{[]string{"help", "usrs", "-h"}, `b2badmin: unknown command "usrs" for "b2badmin" (did you mean "users"?)`},
	} {
		r := cliRun{DSN: noDB}.run(t, c.args...)
		assertOneLineError(t, r, ExitUsage)
		if got := strings.TrimSuffix(r.Stderr, "\n"); got != c.want {
			t.Errorf("b2badmin %s: stderr %q, want %q", strings.Join(c.args, " "), got, c.want)
		}
		if r.Stdout != "" {
			t.Errorf("b2badmin %s: printed %q", strings.Join(c.args, " "), r.Stdout)
		}
		// The mistyped command itself says the same line.
		if !strings.Contains(c.want, "unknown command") {
			continue
		}
		if plain := (cliRun{DSN: noDB}).run(t, c.args[1:]...); plain.Stderr != r.Stderr {
			t.Errorf("b2badmin %s says %q, its help %q", strings.Join(c.args[1:], " "), plain.Stderr, r.Stderr)
		}
	}
}

// `help TOPIC` is TOPIC's --help, byte for byte (the docs and the README
// show either), and `help` alone is the root's help.
func TestHelpTopicIsTheCommandsHelp(t *testing.T) {
	for _, c := range []struct{ help, flag []string }{
		{[]string{"help"}, []string{"--help"}},
		{[]string{"help"}, nil},
		{[]string{"help", "users"}, []string{"users", "--help"}},
		{[]string{"help", "user"}, []string{"users", "--help"}}, // an alias
		{[]string{"help", "users", "list"}, []string{"users", "list", "--help"}},
		{[]string{"help", "2fa", "enable"}, []string{"2fa", "enable", "--help"}},
		{[]string{"help", "help"}, []string{"help", "--help"}},
		// -h on help asks for its topic's help, as the shell reads it:
		// on main `help users -h` printed the help command's own help.
		{[]string{"help", "users", "-h"}, []string{"users", "--help"}},
		{[]string{"help", "-h", "users", "list"}, []string{"users", "list", "--help"}},
		{[]string{"help", "users", "list", "--help=true"}, []string{"users", "list", "--help"}},
		{[]string{"help", "-h"}, []string{"help", "--help"}},
	} {
		h := cliRun{DSN: noDB}.run(t, c.help...)
		f := cliRun{DSN: noDB}.run(t, c.flag...)
		if h.Code != 0 || h.Stderr != "" || !strings.Contains(h.Stdout, "Usage:") {
			t.Errorf("b2badmin %s: exit %d, stderr %q, stdout %q", strings.Join(c.help, " "), h.Code, h.Stderr, h.Stdout)
		}
		if h.Stdout != f.Stdout {
			t.Errorf("b2badmin %s differs from b2badmin %s:\n%s\n---\n%s", strings.Join(c.help, " "), strings.Join(c.flag, " "), h.Stdout, f.Stdout)
		}
	}
}

// Completion after `help` offers the next word of a topic, as Cobra's
// help command did, and nothing after a word that names no command.
func TestHelpCompletion(t *testing.T) {
	if got := complete(t, "", "help", "us"); !reflect.DeepEqual(got, []string{"users"}) {
		t.Errorf("help us: %q", got)
	}
	if got := complete(t, "", "help", "users", "l"); !reflect.DeepEqual(got, []string{"list"}) {
		t.Errorf("help users l: %q", got)
	}
	if got := complete(t, "", "help", "he"); !reflect.DeepEqual(got, []string{"help"}) {
		t.Errorf("help he: %q", got)
	}
	for _, words := range [][]string{{"help", "usrs", ""}, {"help", "users", "list", ""}} {
		if got := complete(t, "", words...); len(got) != 0 {
			t.Errorf("%q: %q, want nothing", words, got)
		}
	}
}
