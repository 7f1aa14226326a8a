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
func newPermsCmd(inv *Invocation) *cobra.Command { return newPermsCmdFor(inv, "") }

func newPermsCmdFor(inv *Invocation, verb string) *cobra.Command {
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
	return addVerbs(cmd, inv, []noun{
		{[]string{"list"}, func(inv *Invocation) *cobra.Command { return newCmdPermsList(inv, nil) }, nil},
		{[]string{"show"}, func(inv *Invocation) *cobra.Command { return newCmdPermsShow(inv, nil) }, nil},
		{[]string{"grant"}, func(inv *Invocation) *cobra.Command { return newCmdPermsGrant(inv, true, nil) }, nil},
		{[]string{"revoke"}, func(inv *Invocation) *cobra.Command { return newCmdPermsGrant(inv, false, nil) }, nil},
		{[]string{"audit"}, func(inv *Invocation) *cobra.Command { return newCmdPermsAudit(inv, nil) }, nil},
		{[]string{"export"}, func(inv *Invocation) *cobra.Command { return newCmdPermsExport(inv, nil) }, nil},
	}, verb)
}
