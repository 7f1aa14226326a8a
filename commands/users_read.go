package commands

import "github.com/spf13/cobra"

// TODO(issue): placeholder until the verbs land.
func usersReadCmds(f *Factory) []*cobra.Command { return nil }
