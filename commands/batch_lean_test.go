package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// leanCases are the lines a lean tree (without selector flags) is checked
// against the whole tree on: every example of every command's help, and
// lines that use selectors, misspell flags, ask for help or give bad values.
func leanCases(t *testing.T) [][]string {
	lines := []string{
		"users update 5 --first-name Ann",
		"users update 5 --email new@example.com",
		"users update --id 5 --first-name Ann",
		"users update 5 --active --first-name Ann",
		"users update 5 --frist-name Ann",
		"users update 5 --first-name",
		"users update 5 --help",
		"users update -h",
		"users deactivate --active --inactive",
		"users deactivate --inactive --type merchant --reason x",
		"users deactivate 5 --group 'KYC not verified'",
		"users activate 5 --no-2fa --2fa",
		"users add-group 5 'KYC not verified'",
		"users add-group 5 'No such group'",
		"users set-group 5 'KYC not verified' --id 3",
		"users list --active --limit 5",
		"users list --registered-from yesterday",
		"users list --registered-from notadate",
		"perms grant 5 api.view_wallet",
		"perms grant 5 api.view_wallet --dry-run",
		"perms grant --group API api.view_wallet",
		"perms grant 5 no.such_perm",
		"users frobnicate 5",
		"users",
		"users update 5 --first-name 'a\x00b'",
		"t set-name 1 x",
	}
	var out [][]string
	for _, l := range lines {
		w, err := shellwords.Parse(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, w)
	}
	for _, ex := range helpExamples(t) {
		for _, l := range ex.Lines {
			text := l.Text[strings.Index(l.Text, "b2badmin ")+len("b2badmin "):]
			if c := shellComment(text); c != "" {
				text = strings.TrimSuffix(text, c)
			}
			w, err := shellwords.Parse(text)
			if err != nil || len(w) == 0 {
				continue // shell syntax beyond one command: not a batch line
			}
			out = append(out, w)
		}
	}
	return out
}

// A lean tree decides every line exactly as the whole tree: the same
// problems (or none), users, flags and arguments, for the pre-check and
// for a line prepared to run.
func TestLeanTreesDecideAsWholeTrees(t *testing.T) {
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, func(string) string { return "" })
	inv := f.NewInvocation(f.IO, nil, &BatchLine{})
	r := newLineRunner(inv, NewRootCmd(inv))
	cases := leanCases(t)
	leanUsed := 0
	for _, words := range cases {
		name := strings.Join(words, " ")
		lean := batchCommand{Line: 1, Args: words}
		whole := batchCommand{Line: 1, Args: words}
		lu, lp := checkCommand(&lean, notInBatch, nil)
		wu, wp := checkCommandOn(&whole, notInBatch, nil, false)
		if fmt.Sprint(lu, lp, lean.users, lean.movesEmail) != fmt.Sprint(wu, wp, whole.users, whole.movesEmail) {
			t.Errorf("%s: pre-check lean-first %v %v %v %v, whole tree %v %v %v %v", name, lu, lp, lean.users, lean.movesEmail, wu, wp, whole.users, whole.movesEmail)
		}
		lio := lineIO{in: strings.NewReader(""), out: io.Discard}
		sels := map[*cobra.Command]*selector{}
		selectorBuilt = func(c *cobra.Command, s *selector) { sels[c] = s }
		got := r.prepare(words, &BatchLine{}, lio)
		want := r.prepareOn(words, words, &BatchLine{}, lio, false)
		selectorBuilt = nil
		if g, w := describePrepared(got), describePrepared(want); g != w {
			t.Errorf("%s: prepared lean-first\n  %s\nwhole tree\n  %s", name, g, w)
		}
		// What the command's RunE reads of its selector: given, and the filter.
		if g, w := describeSelector(sels[got.cmd]), describeSelector(sels[want.cmd]); g != w {
			t.Errorf("%s: selector lean-first %s, whole tree %s", name, g, w)
		}
		if got.inv.withoutSelectors {
			leanUsed++
		}
	}
	// Most lines use no selector: if none went lean, nothing was compared.
	if leanUsed < len(cases)/3 {
		t.Fatalf("only %d of %d lines ran on a lean tree", leanUsed, len(cases))
	}
}

func describePrepared(p *preparedLine) string {
	if p.cmd == nil {
		return "left to Execute"
	}
	var set []string
	p.cmd.Flags().Visit(func(fl *pflag.Flag) { set = append(set, fl.Name+"="+fl.Value.String()) })
	slices.Sort(set)
	return fmt.Sprintf("%s args=%q flags=%v err=%v", p.cmd.CommandPath(), p.args, set, p.err)
}

// describeSelector is what RunE reads of the selector of the line's
// command: whether filters were given, and the filter.
func describeSelector(s *selector) string {
	if s == nil {
		return "none"
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	fl, err := s.filter(now)
	js, _ := json.Marshal(fl) // pointers by value
	return fmt.Sprintf("given=%v filter=%s err=%v", s.given(), js, err)
}
