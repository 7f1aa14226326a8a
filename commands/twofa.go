package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newTwoFACmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "2fa", Short: "(not built yet)", Hidden: true}
}
