package commands

import (
	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// usersVerbs lists the users verbs by name, so that a batch line builds
// only the verb it runs (the users noun is the largest branch of the tree).
func usersVerbs() []noun {
	return []noun{
		{[]string{"list"}, newUsersListCmd},
		{[]string{"show"}, newUsersShowCmd},
		{[]string{"update"}, newUsersUpdateCmd},
		{[]string{"set-password"}, newUsersSetPasswordCmd},
		{[]string{"activate"}, func(f *Factory) *cobra.Command { return newUsersActiveCmd(f, true) }},
		{[]string{"deactivate"}, func(f *Factory) *cobra.Command { return newUsersActiveCmd(f, false) }},
		{[]string{"set-group"}, func(f *Factory) *cobra.Command { return newUsersGroupCmd(f, client.GroupsSet) }},
		{[]string{"add-group"}, func(f *Factory) *cobra.Command { return newUsersGroupCmd(f, client.GroupsAdd) }},
		{[]string{"remove-group"}, func(f *Factory) *cobra.Command { return newUsersGroupCmd(f, client.GroupsRemove) }},
		{[]string{"sessions"}, newUsersSessionsCmd},
		{[]string{"tokens"}, newUsersTokensCmd},
	}
}

func newUsersCmd(f *Factory) *cobra.Command { return newUsersCmdFor(f, "") }

// newUsersCmdFor builds the users noun with only verb when verb is one of
// its verbs, and with all of them otherwise.
func newUsersCmdFor(f *Factory, verb string) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Aliases: []string{"user"}, Short: "List, show and change users"}
	verbs := usersVerbs()
	if v, ok := findNoun(verbs, verb); ok {
		verbs = []noun{v}
	}
	for _, v := range verbs {
		cmd.AddCommand(v.build(f))
	}
	return cmd
}

// findNoun finds the entry named (or aliased) word.
func findNoun(ns []noun, word string) (noun, bool) {
	for _, n := range ns {
		for _, name := range n.names {
			if name == word {
				return n, true
			}
		}
	}
	return noun{}, false
}
