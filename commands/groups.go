package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newGroupsCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "groups", Short: "(not built yet)", Hidden: true}
}
