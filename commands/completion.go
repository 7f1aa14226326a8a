package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newCompletionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "completion", Short: "(not built yet)", Hidden: true}
}
