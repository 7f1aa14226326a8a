package commands

import "github.com/spf13/cobra"

// newUsersCmd gathers the users verbs; each group of verbs lives in its own
// file (users_read.go, users_write.go, users_activity.go).
func newUsersCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Aliases: []string{"user"}, Short: "List, show and change users"}
	cmd.AddCommand(usersReadCmds(f)...)
	cmd.AddCommand(usersWriteCmds(f)...)
	cmd.AddCommand(usersActivityCmds(f)...)
	return cmd
}
