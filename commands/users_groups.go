package commands

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
)

// usersGroupOptions are set-group, add-group, remove-group and set-role.
//
// Syntax: USER GROUP... — the first argument is the user (an ID, email or
// UUID, or "-" to read many users from stdin, one per line); every further
// argument is a group name (quote names with spaces). One shape for one
// user and for ten thousand, and batch/completion know which word is which.
type usersGroupOptions struct {
	*Invocation
	Mode      client.GroupMode
	Mutate    mutateFlags
	Select    selector
	Groups    []string // canonical names (PreRunE)
	Args      []string
	OutputSet bool
}

func newCmdUsersGroup(inv *Invocation, mode client.GroupMode, runF func(context.Context, *usersGroupOptions) error) *cobra.Command {
	o := &usersGroupOptions{Invocation: inv, Mode: mode}
	short := map[client.GroupMode]string{
		client.GroupsSet:    "Replace users' groups with exactly the groups given",
		client.GroupsAdd:    "Add users to groups",
		client.GroupsRemove: "Remove users from groups",
		client.GroupsRole:   "Replace users' role group (owner/staff), keeping their status groups and API",
	}[mode]
	use, example := string(mode)+" USER|- GROUP... | FILTERS GROUP...", "  b2badmin users add-group alice@example.com 'Merchant owner' API\n  b2badmin users remove-group - 'KYC not verified' --yes < verified.txt"
	if mode == client.GroupsRole {
		use, example = "set-role USER|- ROLE | FILTERS ROLE", "  b2badmin users set-role alice@example.com 'Legal merchant owner'\n  b2badmin users set-role - 'Merchant staff' --yes < staff.txt"
	}
	var names []string
	for _, g := range catalog.Groups() {
		names = append(names, g.Name)
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

USER is an ID, an email or a UUID, or "-" to read many users from stdin
(one per line). Instead of USER, the users list filters can select the
users: every argument is then a group (users add-group --type merchant
--no-group 'KYC not verified'). Group names are case-insensitive; quote names with spaces.
Rules (refused with exit 4, naming the rule; nothing changes for anyone):
  - a user holds at most one role group (Enterprise/Legal merchant/Merchant
    owner or staff); status groups and API combine freely;
  - Enterprise owner/staff need type enterprise, (Legal) merchant owner/staff
    need type merchant;
  - API needs a user linked to a company.
set-group replaces every group, status groups included; set-role replaces
only the role group. Only what the command adds is judged. The users' rows
are locked while their groups change, so concurrent admins cannot break a
rule together. --max-affected and the confirmation count the users that
would change.
Groups: ` + strings.Join(names, ", "),
		Example:     example,
		Args:        minArgs(2),
		Annotations: selectsAnnotation(ArgUser, ArgGroup),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Mutate.validate(); err != nil {
				return err
			}
			_, groups := splitUserArgs(cmd, args)
			if mode == client.GroupsRole && len(groups) != 1 {
				return usageError("set-role takes one user (or -, or filters) and one role group")
			}
			// An unknown group is exit 4 before stdin or SQL.
			canonical, err := client.CanonicalGroups(groups)
			o.Groups = canonical
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args, _ = splitUserArgs(cmd, args)
			o.OutputSet = cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runUsersGroup)
		},
	}
	addMutateFlags(cmd, &o.Mutate)
	addSelectorFlags(inv, cmd, &o.Select)
	return cmd
}

func runUsersGroup(ctx context.Context, o *usersGroupOptions) error {
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
	res, err := c.ChangeGroups(ctx, o.Audit(o.Mutate.Reason), t, o.Mode, o.Groups, o.Mutate.options(o.Invocation, "users "+string(o.Mode)))
	if err != nil {
		return err
	}
	done := "changed the groups of"
	if o.Mode == client.GroupsRole {
		done = "changed the role of"
	}
	return reportChange(o.Invocation, o.OutputSet, res, changeReport{done: done, unchanged: "already as asked"})
}
