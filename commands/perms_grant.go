package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
)

// permsGrantOptions are `perms grant` and `perms revoke`.
type permsGrantOptions struct {
	*Invocation
	Grant     bool
	Mutate    mutateFlags
	Select    selector
	Perms     []catalog.Permission // resolved (PreRunE)
	Args      []string
	OutputSet bool
}

func newCmdPermsGrant(inv *Invocation, grant bool, runF func(context.Context, *permsGrantOptions) error) *cobra.Command {
	o := &permsGrantOptions{Invocation: inv, Grant: grant}
	verb, short, example := "grant", "Give users extra permissions (users already holding them are reported, not an error)",
		`  b2badmin perms grant michal42@ukr.net api.charge_wallet 'api.view_*'
  b2badmin perms grant 17 "api | wallet | Can charge wallet"
  b2badmin perms grant - api.view_wallet --yes < examples/users.txt     # one ID/email/UUID per line`
	if !grant {
		verb, short, example = "revoke", "Take extra permissions away (users not holding them are reported, not an error)",
			`  b2badmin perms revoke gang639@qq.com 'auth.*'
  b2badmin perms revoke --perm 'auth.*' 'auth.*' --yes --reason 'OPS-1234 nobody holds auth.*'
  b2badmin perms revoke - api.charge_wallet --dry-run < examples/users.txt`
	}
	cmd := &cobra.Command{
		Use:   verb + " USER|- PERM... | FILTERS PERM...",
		Short: short,
		Long: short + `.

USER is an ID, an email or a UUID, or - to read many users from stdin (one a
line; blank lines and # comments skipped). Instead of USER, the users list
filters can select the users: every argument is then a permission. Each
changed user gets one
operation-log row (its permissions before and after) in the same
transaction; users whose permissions do not change get none. See
"b2badmin perms --help" for the forms of PERM.`,
		Example:     example,
		Args:        minArgs(2),
		Annotations: selectsAnnotation(ArgUser, ArgPerm),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Mutate.validate(); err != nil {
				return err
			}
			_, words := splitUserArgs(cmd, args)
			perms, err := client.ResolvePerms(words)
			o.Perms = perms
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args, _ = splitUserArgs(cmd, args)
			o.OutputSet = cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runPermsGrant)
		},
	}
	addMutateFlags(cmd, &o.Mutate)
	addSelectorFlags(inv, cmd, &o.Select)
	return cmd
}

func runPermsGrant(ctx context.Context, o *permsGrantOptions) error {
	if err := refuseReadOnly(o.Invocation); err != nil {
		return err
	}
	t, err := userTargets(o.Invocation, o.Args, &o.Mutate, &o.Select)
	if err != nil {
		return err
	}
	c, err := o.Client(ctx)
	if err != nil {
		return err
	}
	change, verb, r := c.GrantPerms, "perms grant", changeReport{done: "changed the permissions of", unchanged: "already hold them", unchangedOne: "already holds them"}
	if !o.Grant {
		change, verb, r = c.RevokePerms, "perms revoke", changeReport{done: "changed the permissions of", unchanged: "hold none of them", unchangedOne: "holds none of them"}
	}
	res, err := change(ctx, o.Audit(o.Mutate.Reason), t, o.Perms, o.Mutate.options(o.Invocation, verb))
	if err != nil {
		return err
	}
	return reportChange(o.Invocation, o.OutputSet, res, r)
}
