package commands

import (
	"strings"

	"github.com/spf13/cobra"
)

// findLine is root.Find for the words a batch or shell line runs. Cobra's
// Find merges every persistent flag into each command on the path to
// tell a flag's value from a command's name, and a batch builds at least
// two trees per line (the pre-check's and the run's): on 10,000 lines that
// merging was about a sixth of the client's CPU. When every word up to
// the line's command is a command name or a --name=value word (the
// batch's own global flags, wherever they stand), no flag needs to be
// known: a --name=value word never takes the next word as its value, so
// the path is read straight off the words. Anything else, and a first
// word that names no command, goes to Cobra's Find, so that it decides
// and words the error. The result is Cobra's: commands/line_find_test.go
// checks it against Find on every example of the help and on lines made
// to differ.
func findLine(root *cobra.Command, words []string) (*cobra.Command, []string, error) {
	if cobra.EnablePrefixMatching || cobra.EnableCaseInsensitive {
		return root.Find(words)
	}
	c := root
	rest := make([]string, 0, len(words)) // the words less the path's command names
	for i, w := range words {
		if strings.HasPrefix(w, "--") && len(w) > 2 && strings.Contains(w, "=") {
			rest = append(rest, w) // a flag with its value: Find skips it, and keeps it
			continue
		}
		if w == "" || strings.HasPrefix(w, "-") {
			return root.Find(words)
		}
		next := subcommandNamed(c, w)
		if next == nil {
			rest = append(rest, words[i:]...)
			break
		}
		c = next
	}
	if c == root {
		return root.Find(words) // no command named: Cobra's error, or the root
	}
	return c, rest, nil
}
