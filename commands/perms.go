package commands

import (
	"github.com/spf13/cobra"
)

// newPermsCmd is the "Extra permissions" field of the Info tab, and the
// nightly audit CI runs over it.
//
// PERM arguments are an identifier (api.charge_wallet), a seed label
// ("api | wallet | Can charge wallet") or a glob over identifiers
// (api.view_*, kyc.*: path.Match syntax over the whole identifier, case
// ignored); see client/permref.
func newPermsCmd(inv *Invocation) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "perms",
		Short: "Extra permissions: list the catalog, show, grant, revoke, audit against a policy",
		Long: `Extra permissions of users.

A PERM argument is one of:
  an identifier       api.charge_wallet          (app_label.codename, any case)
  a seed label        "api | wallet | Can charge wallet"
  a glob              'api.view_*'  'kyc.*'      (* any run of characters, ? one
                                                  character, [a-z] a class; quote it)
An unknown permission or a glob matching nothing is refused (exit 4) with the
closest identifiers suggested.`,
	}
	cmd.AddCommand(
		newCmdPermsList(inv, nil),
		newCmdPermsShow(inv, nil),
		newCmdPermsGrant(inv, true, nil),
		newCmdPermsGrant(inv, false, nil),
		newCmdPermsAudit(inv, nil),
		newCmdPermsExport(inv, nil),
	)
	return cmd
}
