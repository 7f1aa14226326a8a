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
// lean builds them without the selector flags, as leanFirst first does.
func findBoth(words []string, lean bool) (got, want string, fast bool) {
	describe := func(find func(inv *Invocation) (string, bool)) (string, bool) {
		f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, func(string) string { return "" })
		inv := f.NewInvocation(f.IO, nil, &BatchLine{})
		inv.withoutSelectors = lean
		return find(inv)
	}
	got, fast = describe(func(inv *Invocation) (string, bool) {
		root := lineRoot(inv, words)
		cmd, rest, err := findLine(root, words)
		// Find merges the root's persistent flags into its own; the fast
		// path leaves them apart.
		return fmt.Sprintf("%s %q %v", cmd.CommandPath(), rest, err), len(words) > 0 && root.Flags().Lookup("dsn") == nil
	})
	want, _ = describe(func(inv *Invocation) (string, bool) {
		cmd, rest, err := lineRoot(inv, words).Find(words)
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
		"users --actor=ops update 5 --first-name x", "users --x=1 list", "--actor=a users --read-only=true deactivate 5",
		"users -o=json list", "users update --actor=ops", "log --output=json runs", "",
	}
	cases := leanCases(t)
	for _, l := range extra {
		w, err := shellwords.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, w)
	}
	tried := 0
	for _, words := range cases {
		for _, prefix := range [][]string{nil, {"--actor=ops", "--read-only=false"}} {
			for _, lean := range []bool{true, false} {
				line := append(append([]string{}, prefix...), words...)
				got, want, fast := findBoth(line, lean)
				if got != want {
					t.Errorf("%q (lean %v): findLine %s, Find %s", line, lean, got, want)
				}
				tried++
				if fast {
					fastOnes++
				}
			}
		}
	}
	// Most lines take the fast path: if few did, little was compared.
	if fastOnes <= tried/2 {
		t.Fatalf("only %d of %d lines took the fast path", fastOnes, tried)
	}
}

// FuzzFindLine: for any words, findLine's answer is Cobra's.
func FuzzFindLine(f *testing.F) {
	for _, s := range []string{"users update 5 --first-name x", "--actor=a users list", "users --x=1 list", "log runs -o json", "perms", "2fa disable 1 -- x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Split(line, " ") // "a  b": an empty word too
		if got, want, _ := findBoth(words, false); got != want {
			t.Errorf("%q: findLine %s, Find %s", words, got, want)
		}
	})
}
