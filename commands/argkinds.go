package commands

import (
	"strings"

	"github.com/spf13/cobra"
)

// annotArgs declares what a command's positional arguments name, so that
// batch can check, before anything runs, that every named user, group and
// permission exists, and completion can offer the right words.
//
// The value is a space-separated list of kinds, one per position; the last
// kind repeats for the remaining arguments. Kinds: user, group, perm, other.
// Examples: "user" (users activate USER…), "user group" (set-group USER GROUP…),
// "user perm" (perms grant USER PERM…). A "-" argument (stdin) is not checked.
const annotArgs = "b2badmin/args"

// Argument kinds.
const (
	ArgUser  = "user"
	ArgGroup = "group"
	ArgPerm  = "perm"
	ArgOther = "other"
)

// argsAnnotation builds a command's Annotations for its argument kinds.
func argsAnnotation(kinds ...string) map[string]string {
	return map[string]string{annotArgs: strings.Join(kinds, " ")}
}

// argKindAt says what the i-th positional argument of cmd names ("" when
// the command does not declare its arguments). Given a selector, a bulk
// command's users are the selection: its leading user argument is gone.
func argKindAt(cmd *cobra.Command, i int) string {
	kinds := strings.Fields(cmd.Annotations[annotArgs])
	if len(kinds) > 1 && kinds[0] == ArgUser && selectorGiven(cmd) {
		kinds = kinds[1:]
	}
	if len(kinds) == 0 {
		return ""
	}
	if i >= len(kinds) {
		return kinds[len(kinds)-1]
	}
	return kinds[i]
}

// selectsAnnotation is argsAnnotation for a bulk command whose users a
// selector (the users list filters) can choose instead.
func selectsAnnotation(kinds ...string) map[string]string {
	a := argsAnnotation(kinds...)
	a[annotSelects] = "true"
	return a
}
