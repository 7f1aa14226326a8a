package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newBatchCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "batch", Short: "(not built yet)", Hidden: true}
}
