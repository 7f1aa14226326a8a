package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/output"
)

func newGroupsCmd(inv *Invocation) *cobra.Command {
	cmd := &cobra.Command{Use: "groups", Aliases: []string{"group"}, Short: "The ten user groups: list them, audit the rules on them"}
	cmd.AddCommand(newCmdGroupsList(inv, nil), newCmdGroupsAudit(inv, nil))
	return cmd
}

var groupColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "name", Header: "Name", Default: true},
	{Key: "members", Header: "Members", Default: true},
	{Key: "active_members", Header: "Active", Default: true},
	{Key: "role", Header: "Role group", Default: true},
	{Key: "required_type", Header: "Requires type", Default: true},
	{Key: "needs_company", Header: "Needs company", Default: true},
}

// groupsListOptions are `groups list`.
type groupsListOptions struct {
	*Invocation
}

func newCmdGroupsList(inv *Invocation, runF func(context.Context, *groupsListOptions) error) *cobra.Command {
	o := &groupsListOptions{Invocation: inv}
	return withColumns(&cobra.Command{
		Use:   "list",
		Short: "List the groups with their member counts and rules",
		Long: `List the groups with member counts (all members and active ones) and the
rules b2badmin enforces: a role group is exclusive (a user holds at most
one), some need a user type, API needs a linked company.`,
		Example: "  b2badmin groups list\n  b2badmin groups list -o json --jq '.[] | select(.role) | .name'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runGroupsList)
		},
	}, groupColumns)
}

func runGroupsList(ctx context.Context, o *groupsListOptions) error {
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	gs, err := c.GroupCounts(ctx)
	if err != nil {
		return err
	}
	rows := make([][]any, len(gs))
	for i, g := range gs {
		rule, _ := catalog.LookupGroup(g.Name)
		rows[i] = []any{int64(g.ID), g.Name, g.Members, g.Active, rule.Role, rule.RequiredType, rule.NeedsCompany}
	}
	return renderRows(o.Invocation, groupColumns, rows)
}
