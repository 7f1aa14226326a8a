package commands

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
)

type usersGroupOptions struct{ m mutateFlags }

// newUsersGroupCmd builds set-group, add-group or remove-group.
//
// Syntax: USER GROUP... — the first argument is the user (an ID, email or
// UUID, or "-" to read many users from stdin, one per line); every further
// argument is a group name (quote names with spaces). One shape for one
// user and for ten thousand, and batch/completion know which word is which.
func newUsersGroupCmd(f *Factory, mode client.GroupMode) *cobra.Command {
	o := &usersGroupOptions{}
	short := map[client.GroupMode]string{
		client.GroupsSet:    "Replace users' groups with exactly the groups given",
		client.GroupsAdd:    "Add users to groups",
		client.GroupsRemove: "Remove users from groups",
	}[mode]
	var names []string
	for _, g := range catalog.Groups() {
		names = append(names, g.Name)
	}
	cmd := &cobra.Command{
		Use:   string(mode) + " USER|- GROUP...",
		Short: short,
		Long: short + `.

USER is an ID, an email or a UUID, or "-" to read many users from stdin
(one per line). Group names are case-insensitive; quote names with spaces.
Rules (refused with exit 4, naming the rule; nothing changes for anyone):
  - a user holds at most one role group (Enterprise/Legal merchant/Merchant
    owner or staff); status groups and API combine freely;
  - Enterprise owner/staff need type enterprise, (Legal) merchant owner/staff
    need type merchant;
  - API needs a user linked to a company.
Only what the command adds is judged. The users' rows are locked while
their groups change, so concurrent admins cannot break a rule together.
--max-affected and the confirmation count the users named, before any SQL.
Groups: ` + strings.Join(names, ", "),
		Example:     "  b2badmin users add-group alice@example.com 'Merchant owner' API\n  b2badmin users remove-group - 'KYC not verified' --yes < verified.txt",
		Args:        cobra.MinimumNArgs(2),
		Annotations: argsAnnotation(ArgUser, ArgGroup),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseReadOnly(f); err != nil {
				return err
			}
			// Groups first: an unknown group is exit 4 before stdin or SQL.
			groups, err := client.CanonicalGroups(args[1:])
			if err != nil {
				return err
			}
			refs, err := readUserArgs(f, args[:1])
			if err != nil {
				return err
			}
			if err := confirmChange(f, &o.m, distinctRefs(refs), string(mode)); err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			res, err := c.ChangeGroups(ctx, f.Audit(o.m.Reason), refs, mode, groups, o.m.DryRun)
			if err != nil {
				return err
			}
			return reportChanges(f, cmd, o.m.DryRun, "changed the groups of", res.Changed, res.Unchanged, "already as asked", "")
		},
	}
	addMutateFlags(cmd, &o.m)
	return cmd
}
