package commands

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/output"
)

var permCatalogColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "app", Header: "App", Default: true},
	{Key: "model", Header: "Model", Default: true},
	{Key: "label", Header: "Label", Default: true},
	{Key: "codename", Header: "Codename"},
}

type permsListOptions struct {
	app, model, search string
}

func newPermsListCmd(inv *Invocation) *cobra.Command {
	o := &permsListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "The catalog of the 401 extra permissions (no database needed)",
		Example: `  b2badmin perms list --app kyc
  b2badmin perms list --search wallet -o ids`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows [][]any
			for _, p := range filterCatalog(o) {
				rows = append(rows, []any{p.ID(), p.AppLabel, p.Model, p.Label, p.Codename})
			}
			return renderRows(inv, permCatalogColumns, rows)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.app, "app", "", "only this app label (e.g. api, kyc)")
	fl.StringVar(&o.model, "model", "", "only this model (e.g. wallet)")
	fl.StringVar(&o.search, "search", "", "case-insensitive substring of the identifier or the label")
	_ = cmd.RegisterFlagCompletionFunc("app", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return catalogApps(), cobra.ShellCompDirectiveNoFileComp
	})
	return withColumns(cmd, permCatalogColumns)
}

// filterCatalog applies list's filters; app and model compare without case.
func filterCatalog(o *permsListOptions) []catalog.Permission {
	search := strings.ToLower(o.search)
	var out []catalog.Permission
	for _, p := range catalog.Permissions() {
		if o.app != "" && !strings.EqualFold(p.AppLabel, o.app) {
			continue
		}
		if o.model != "" && !strings.EqualFold(p.Model, o.model) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(p.ID()), search) && !strings.Contains(strings.ToLower(p.Label), search) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func catalogApps() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range catalog.Permissions() {
		if !seen[p.AppLabel] {
			seen[p.AppLabel] = true
			out = append(out, p.AppLabel)
		}
	}
	sort.Strings(out)
	return out
}

var userPermColumns = output.Columns{
	{Key: "permission", Header: "Permission", Default: true},
	{Key: "label", Header: "Label", Default: true},
	{Key: "user_id", Header: "User ID"},
	{Key: "email", Header: "Email"},
}

func newPermsShowCmd(inv *Invocation) *cobra.Command {
	return withColumns(&cobra.Command{
		Use:         "show USER",
		Short:       "A user's extra permissions (USER: ID, email or UUID)",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := commandContext(cmd, inv)
			defer cancel()
			c, err := inv.ReadClient(ctx)
			if err != nil {
				return err
			}
			u, err := c.ResolveUsers(ctx, args)
			if err != nil {
				return err
			}
			perms, err := c.UserPerms(ctx, u[0])
			if err != nil {
				return err
			}
			rows := make([][]any, len(perms))
			for i, p := range perms {
				rows[i] = []any{p.ID, p.Label, u[0].ID, u[0].Email}
			}
			return renderRows(inv, userPermColumns, rows)
		},
	}, userPermColumns)
}
