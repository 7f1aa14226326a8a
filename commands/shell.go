package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newShellCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "shell", Short: "(not built yet)", Hidden: true}
}
