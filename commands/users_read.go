package commands

import "github.com/spf13/cobra"

// usersReadCmds are the read-only users verbs: list (users_list.go) and
// show (users_show.go). They run on f.ReadClient, so a replica can serve them.
func usersReadCmds(f *Factory) []*cobra.Command {
	return []*cobra.Command{newUsersListCmd(f), newUsersShowCmd(f)}
}
