package commands

import (
	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// usersVerbs lists the users verbs by name, so that a batch line builds
// only the verb it runs (the users noun is the largest branch of the tree).
func usersVerbs() []noun {
	return []noun{
		{[]string{"list"}, func(inv *Invocation) *cobra.Command { return newCmdUsersList(inv, nil) }, nil},
		{[]string{"show"}, func(inv *Invocation) *cobra.Command { return newCmdUsersShow(inv, nil) }, nil},
		{[]string{"update"}, func(inv *Invocation) *cobra.Command { return newCmdUsersUpdate(inv, nil) }, nil},
		{[]string{"set-password"}, func(inv *Invocation) *cobra.Command { return newCmdUsersSetPassword(inv, nil) }, nil},
		{[]string{"activate"}, func(inv *Invocation) *cobra.Command { return newCmdUsersActivate(inv, true, nil) }, nil},
		{[]string{"deactivate"}, func(inv *Invocation) *cobra.Command { return newCmdUsersActivate(inv, false, nil) }, nil},
		{[]string{"set-group"}, func(inv *Invocation) *cobra.Command { return newCmdUsersGroup(inv, client.GroupsSet, nil) }, nil},
		{[]string{"add-group"}, func(inv *Invocation) *cobra.Command { return newCmdUsersGroup(inv, client.GroupsAdd, nil) }, nil},
		{[]string{"remove-group"}, func(inv *Invocation) *cobra.Command { return newCmdUsersGroup(inv, client.GroupsRemove, nil) }, nil},
		{[]string{"set-role"}, func(inv *Invocation) *cobra.Command { return newCmdUsersGroup(inv, client.GroupsRole, nil) }, nil},
		{[]string{"sessions"}, func(inv *Invocation) *cobra.Command { return newCmdUsersSessions(inv, nil) }, nil},
		{[]string{"tokens"}, func(inv *Invocation) *cobra.Command { return newCmdUsersTokens(inv, nil) }, nil},
	}
}

func newUsersCmd(inv *Invocation) *cobra.Command { return newUsersCmdFor(inv, "") }

// newUsersCmdFor builds the users noun with only verb when verb is one of
// its verbs, and with all of them otherwise.
func newUsersCmdFor(inv *Invocation, verb string) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Aliases: []string{"user"}, Short: "List, show and change users"}
	return addVerbs(cmd, inv, usersVerbs(), verb)
}

// addVerbs adds to cmd the verb named verb, or all verbs when verb names
// none of them (a typo then gets the same suggestions as on the command line).
func addVerbs(cmd *cobra.Command, inv *Invocation, verbs []noun, verb string) *cobra.Command {
	if v, ok := findNoun(verbs, verb); ok {
		verbs = []noun{v}
	}
	for _, v := range verbs {
		cmd.AddCommand(v.build(inv))
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
