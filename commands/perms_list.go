package commands

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/internal/suggest"
	"github.com/b2badmin/b2badmin/output"
)

var permCatalogColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "app", Header: "App", Default: true},
	{Key: "model", Header: "Model", Default: true},
	{Key: "label", Header: "Label", Default: true},
	{Key: "codename", Header: "Codename"},
}

// permsListOptions are `perms list`.
type permsListOptions struct {
	*Invocation
	App, Model, Search string
}

func newCmdPermsList(inv *Invocation, runF func(context.Context, *permsListOptions) error) *cobra.Command {
	o := &permsListOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "The catalog of the 401 extra permissions (no database needed)",
		Example: `  b2badmin perms list --app kyc
  b2badmin perms list --search wallet -o ids`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runPermsList)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.App, "app", "", "only this app label (e.g. api, kyc)")
	fl.StringVar(&o.Model, "model", "", "only this model (e.g. wallet)")
	fl.StringVar(&o.Search, "search", "", "case-insensitive substring of the identifier or the label")
	completeFlag(inv, cmd, "app", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return catalogApps(), cobra.ShellCompDirectiveNoFileComp
	})
	return withColumns(cmd, permCatalogColumns)
}

func runPermsList(_ context.Context, o *permsListOptions) error {
	if err := checkCatalogWords(o.App, o.Model); err != nil {
		return err
	}
	var rows [][]any
	for _, p := range filterCatalog(o) {
		rows = append(rows, []any{p.ID(), p.AppLabel, p.Model, p.Label, p.Codename})
	}
	return renderRows(o.Invocation, permCatalogColumns, rows)
}

// filterCatalog applies list's filters; app and model compare without case.
func filterCatalog(o *permsListOptions) []catalog.Permission {
	search := strings.ToLower(o.Search)
	var out []catalog.Permission
	for _, p := range catalog.Permissions() {
		if o.App != "" && !strings.EqualFold(p.AppLabel, o.App) {
			continue
		}
		if o.Model != "" && !strings.EqualFold(p.Model, o.Model) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(p.ID()), search) && !strings.Contains(strings.ToLower(p.Label), search) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// checkCatalogWords refuses an --app or --model the catalog does not have
// (the catalog is fixed: a typo would list nothing with exit 0). A model's
// name given as the app is said so: a stale content type's label begins
// with its model ("autopayout | Can add auto payout", app api).
func checkCatalogWords(app, model string) error {
	if app != "" && !slices.ContainsFunc(catalogApps(), func(a string) bool { return strings.EqualFold(a, app) }) {
		for _, p := range catalog.Permissions() {
			if strings.EqualFold(p.Model, app) {
				return usageErrorf("unknown app %q: %s is a model of app %s (--model %s)", app, p.Model, p.AppLabel, p.Model)
			}
		}
		return usageErrorf("unknown app %q%s", app, suggest.Phrase(strings.ToLower(app), catalogApps(), strconv.Quote))
	}
	if model != "" && !slices.ContainsFunc(catalogModels(), func(m string) bool { return strings.EqualFold(m, model) }) {
		return usageErrorf("unknown model %q%s", model, suggest.Phrase(strings.ToLower(model), catalogModels(), strconv.Quote))
	}
	return nil
}

func catalogModels() []string {
	var out []string
	for _, p := range catalog.Permissions() {
		out = append(out, p.Model)
	}
	slices.Sort(out)
	return slices.Compact(out)
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

// permsShowOptions are `perms show`.
type permsShowOptions struct {
	*Invocation
	User string
}

func newCmdPermsShow(inv *Invocation, runF func(context.Context, *permsShowOptions) error) *cobra.Command {
	o := &permsShowOptions{Invocation: inv}
	return withColumns(&cobra.Command{
		Use:         "show USER",
		Short:       "A user's extra permissions (USER: ID, email or UUID)",
		Example:     "  b2badmin perms show 42\n  b2badmin perms show 42 -o ids",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.User = args[0]
			return runCmd(cmd, inv, o, runF, runPermsShow)
		},
	}, userPermColumns)
}

func runPermsShow(ctx context.Context, o *permsShowOptions) error {
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	u, err := c.ResolveUsers(ctx, []string{o.User})
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
	return renderRows(o.Invocation, userPermColumns, rows)
}
