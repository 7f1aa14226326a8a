package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

var exportColumns = output.Columns{
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "permission", Header: "Permission", Default: true},
}

// permsExportOptions are `perms export`.
type permsExportOptions struct {
	*Invocation
	OutputSet bool // -o given: else CSV, the baseline format
}

func newCmdPermsExport(inv *Invocation, runF func(context.Context, *permsExportOptions) error) *cobra.Command {
	o := &permsExportOptions{Invocation: inv}
	return withColumns(&cobra.Command{
		Use:   "export",
		Short: "Write every user's extra permissions as CSV (a baseline for perms audit)",
		Long: `Write every user's extra permissions, one row per grant (user_id, email,
permission), in ascending user_id order and identifier order within a user,
streaming. CSV unless -o says otherwise. The file is what
"perms audit --baseline" reads.`,
		Example: `  b2badmin perms export > perms-$(date +%F).csv`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.OutputSet = cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runPermsExport)
		},
	}, exportColumns)
}

func runPermsExport(ctx context.Context, o *permsExportOptions) error {
	fm := output.CSV
	if o.OutputSet {
		var err error
		if fm, err = o.OutputFormat(); err != nil {
			return err
		}
	}
	proj, err := exportColumns.Select(o.Global.Columns, fm)
	if err != nil {
		return usageError(err.Error())
	}
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	w := output.NewRowWriter(fm, o.IO.Out, proj, o.OutputOptions())
	row := make([]any, 3)
	err = c.EachUserGrants(ctx, func(u *client.UserGrants) error {
		for _, p := range u.Perms {
			row[0], row[1], row[2] = u.UserID, u.Email, p.ID
			if err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}
