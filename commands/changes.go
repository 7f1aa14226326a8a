package commands

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// changeColumns is the shape of a change list (--dry-run, or -o on a real
// run): one row per user per changed field. JSON:
//
//	[{"user_id": 7, "email": "a@example.com", "field": "is_active", "before": true, "after": false}]
//
// before/after keep their JSON types (booleans, strings, lists of groups).
var changeColumns = output.Columns{
	{Key: "user_id", Header: "ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "field", Header: "Field", Default: true},
	{Key: "before", Header: "Before", Default: true},
	{Key: "after", Header: "After", Default: true},
}

// reportChanges prints the change list and a summary line. A dry run
// always prints the list (that is its point); a real run prints it only
// when -o was given, so a 100,000-user deactivation stays quiet by default.
func reportChanges(f *Factory, cmd *cobra.Command, dryRun bool, verb string, changes []client.Change, unchanged []client.UserRef, unchangedWhy, extra string) error {
	if dryRun || cmd.Flags().Changed("output") {
		fm, p, err := f.selectColumns(changeColumns)
		if err != nil {
			return err
		}
		w := output.NewRowWriter(fm, f.IO.Out, p, f.OutputOptions())
		for _, ch := range changes {
			for _, k := range sortedKeys(ch.After) {
				if err := w.Write([]any{ch.UserID, ch.Email, k, ch.Before[k], ch.After[k]}); err != nil {
					return err
				}
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	if len(unchanged) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: %s %s: %s\n", plural(len(unchanged), "user"), unchangedWhy, userList(unchanged))
	}
	msg := fmt.Sprintf("%s %s", verb, plural(len(changes), "user"))
	if dryRun {
		msg = fmt.Sprintf("dry run: would have %s %s%s; nothing was written", verb, plural(len(changes), "user"), extra)
	} else {
		msg += extra
	}
	fmt.Fprintln(f.IO.ErrOut, "b2badmin: "+msg)
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// userList names at most five users, so the line stays one line.
func userList(us []client.UserRef) string {
	var parts []string
	for i, u := range us {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(us)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%d (%s)", u.ID, u.Email))
	}
	return strings.Join(parts, ", ")
}

// distinctRefs counts the users a command names, before any SQL, for the
// blast-radius checks (--max-affected, confirmation): the same spelling
// twice is one user.
func distinctRefs(refs []string) int {
	seen := make(map[string]struct{}, len(refs))
	for _, r := range refs {
		seen[strings.ToLower(strings.TrimSpace(r))] = struct{}{}
	}
	return len(seen)
}
