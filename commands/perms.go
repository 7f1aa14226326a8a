package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newPermsCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "perms", Short: "(not built yet)", Hidden: true}
}
