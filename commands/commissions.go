package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newCommissionsCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "commissions", Short: "(not built yet)", Hidden: true}
}
