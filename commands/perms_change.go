package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

var permChangeColumns = output.Columns{
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "permission", Header: "Permission", Default: true},
	{Key: "label", Header: "Label"},
	{Key: "result", Header: "Result", Default: true},
}

func newPermsGrantCmd(f *Factory) *cobra.Command {
	return newPermsChangeCmd(f, true)
}

func newPermsRevokeCmd(f *Factory) *cobra.Command {
	return newPermsChangeCmd(f, false)
}

// newPermsChangeCmd builds grant and revoke, which differ only in direction.
func newPermsChangeCmd(f *Factory, grant bool) *cobra.Command {
	m := &mutateFlags{}
	verb, short, example := "grant", "Give users extra permissions (already held ones are reported, not an error)",
		`  b2badmin perms grant alice@example.com api.charge_wallet 'api.view_*'
  b2badmin perms grant 42 "api | wallet | Can charge wallet"
  b2badmin perms grant - api.view_wallet --yes < users.txt     # one ID/email/UUID per line`
	if !grant {
		verb, short, example = "revoke", "Take extra permissions away (ones not held are reported, not an error)",
			`  b2badmin perms revoke alice@example.com 'auth.*'
  b2badmin perms revoke - api.charge_wallet --dry-run < users.txt`
	}
	cmd := &cobra.Command{
		Use:   verb + " USER PERM...",
		Short: short,
		Long: short + `.

USER is an ID, an email or a UUID, or - to read many users from stdin (one a
line; blank lines and # comments skipped). Each changed user gets one
operation-log row (permissions before and after) in the same transaction;
users whose permissions do not change get none. See "b2badmin perms --help"
for the forms of PERM.`,
		Example:     example,
		Args:        cobra.MinimumNArgs(2),
		Annotations: argsAnnotation(ArgUser, ArgPerm),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseReadOnly(f); err != nil {
				return err
			}
			perms, err := client.ResolvePerms(args[1:])
			if err != nil {
				return err
			}
			refs, err := readUserArgs(f, args[:1])
			if err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			// The users are found inside the change's transaction, with their
			// lock; confirmation counts the users named, as other commands do.
			if err := confirmChange(f, m, len(refs), "perms "+verb); err != nil {
				return err
			}
			change := c.GrantPerms
			if !grant {
				change = c.RevokePerms
			}
			out, err := change(ctx, refs, perms, m.DryRun, f.Audit(m.Reason))
			if err != nil {
				return err
			}
			rows := make([][]any, len(out.Results))
			for i, r := range out.Results {
				rows[i] = []any{r.UserID, r.Email, r.Permission, r.Label, r.Result}
			}
			if err := renderRows(f, permChangeColumns, rows); err != nil {
				return err
			}
			past := map[bool]string{true: "granted", false: "revoked"}[grant]
			unchanged := len(out.Results) - out.PairsChanged
			if m.DryRun {
				fmt.Fprintf(f.IO.ErrOut, "b2badmin: dry run: would have %s %d permission(s) across %d user(s), %d unchanged; nothing was written\n",
					past, out.PairsChanged, out.UsersChanged, unchanged)
				return nil
			}
			fmt.Fprintf(f.IO.ErrOut, "b2badmin: %s %d permission(s) across %d user(s), %d unchanged\n", past, out.PairsChanged, out.UsersChanged, unchanged)
			return nil
		},
	}
	addMutateFlags(cmd, m)
	return withColumns(cmd, permChangeColumns)
}
