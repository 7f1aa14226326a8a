package commands

import (
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A batch line builds only its noun and verb (newLineRootCmd). The command
// it finds must be the one the whole tree has: same path, same flags with
// the same defaults, same argument rules. And a word that is not a verb
// gets the whole noun, so its error names the same suggestions.
func TestLineTreeMatchesWholeTree(t *testing.T) {
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, func(string) string { return "" })
	whole := newRootCmd(f.NewInvocation(f.IO, nil, nil), nil)
	checked := 0
	for _, n := range nouns() {
		if n.forVerb == nil {
			continue
		}
		parent, _, err := whole.Find([]string{n.names[0]})
		if err != nil {
			t.Fatal(err)
		}
		for _, verb := range parent.Commands() {
			args := []string{n.names[0], verb.Name()}
			line := newLineRootCmd(f.NewInvocation(f.IO, args, nil), args)
			got, _, err := line.Find(args)
			if err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			if got.CommandPath() != verb.CommandPath() || got.Use != verb.Use {
				t.Errorf("%v: line tree found %q (%q), whole tree %q", args, got.CommandPath(), got.Use, verb.CommandPath())
			}
			if a, b := flagSummary(got), flagSummary(verb); a != b {
				t.Errorf("%v: flags differ:\nline:  %s\nwhole: %s", args, a, b)
			}
			if len(got.Parent().Commands()) != 1 {
				t.Errorf("%v: the line tree built %d verbs, want only its own", args, len(got.Parent().Commands()))
			}
			checked++
		}
		typo := []string{n.names[0], "no-such-verb"}
		line := newLineRootCmd(f.NewInvocation(f.IO, typo, nil), typo)
		lp, _, _ := line.Find(typo[:1])
		if len(lp.Commands()) != len(parent.Commands()) {
			t.Errorf("%v: a word that is no verb built %d verbs, want all %d", typo, len(lp.Commands()), len(parent.Commands()))
		}
	}
	if checked < 20 {
		t.Fatalf("only %d verbs checked", checked)
	}
}

func flagSummary(c *cobra.Command) string {
	var out []string
	c.InheritedFlags().VisitAll(func(fl *pflag.Flag) { out = append(out, "^"+fl.Name+"="+fl.DefValue) })
	c.LocalFlags().VisitAll(func(fl *pflag.Flag) { out = append(out, fl.Name+"="+fl.DefValue+":"+fl.Value.Type()) })
	sort.Strings(out)
	return strings.Join(out, " ")
}
