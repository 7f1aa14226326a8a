package commands

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/mattn/go-shellwords"
)

// findBoth finds words on two fresh trees, one with findLine and one with
// Cobra's Find, and describes each result.
func findBoth(words []string) (got, want string, fast bool) {
	describe := func(find func(inv *Invocation) (string, bool)) (string, bool) {
		f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, func(string) string { return "" })
		return find(f.NewInvocation(f.IO, nil, &BatchLine{}))
	}
	got, fast = describe(func(inv *Invocation) (string, bool) {
		root := newLineRootCmd(inv, words)
		cmd, rest, err := findLine(root, words)
		// Find merges the root's persistent flags into its own; the fast
		// path leaves them apart.
		return fmt.Sprintf("%s %q %v", cmd.CommandPath(), rest, err), root.Flags().Lookup("dsn") == nil
	})
	want, _ = describe(func(inv *Invocation) (string, bool) {
		cmd, rest, err := newLineRootCmd(inv, words).Find(words)
		return fmt.Sprintf("%s %q %v", cmd.CommandPath(), rest, err), false
	})
	return got, want, fast
}

// findLine finds what Cobra's Find finds, with the same remaining words
// and error, on every line a lean tree is checked on (every example of
// the help among them), alone and after a batch's global flags.
func TestFindLineMatchesCobra(t *testing.T) {
	fastOnes := 0
	extra := []string{
		"users", "users update", "user update 5", "users --output json list", "users list -- update",
		"--actor=ops users update 5 --first-name x", "--actor=ops", "--actor ops users list",
		"nosuch", "nosuch update", "users nosuch 5", "log", "log runs", "log rns", "2fa disable 5", "twofa disable 5",
		"perms grant 5 api.view_wallet --reason=x", "users '' update", "-- users list", "users list --=x",
	}
	cases := leanCases(t)
	for _, l := range extra {
		w, err := shellwords.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, w)
	}
	for _, words := range cases {
		for _, prefix := range [][]string{nil, {"--actor=ops", "--read-only=false"}} {
			line := append(append([]string{}, prefix...), words...)
			got, want, fast := findBoth(line)
			if got != want {
				t.Errorf("%q: findLine %s, Find %s", line, got, want)
			}
			if fast {
				fastOnes++
			}
		}
	}
	// Most lines take the fast path: if none did, nothing was compared.
	if fastOnes < len(cases)/2 {
		t.Fatalf("only %d of %d lines took the fast path", fastOnes, 2*len(cases))
	}
}

// FuzzFindLine: for any words, findLine's answer is Cobra's.
func FuzzFindLine(f *testing.F) {
	for _, s := range []string{"users update 5 --first-name x", "--actor=a users list", "users --x=1 list", "log runs -o json", "perms", "2fa disable 1 -- x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Fields(line)
		if got, want, _ := findBoth(words); got != want {
			t.Errorf("%q: findLine %s, Find %s", words, got, want)
		}
	})
}
