package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the command lands.
func newLogCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "log", Short: "(not built yet)", Hidden: true}
}
