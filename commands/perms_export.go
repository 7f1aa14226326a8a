package commands

import (
	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

var exportColumns = output.Columns{
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "permission", Header: "Permission", Default: true},
}

func newPermsExportCmd(inv *Invocation) *cobra.Command {
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
			fm := output.CSV
			if fl := cmd.Flag("output"); fl != nil && fl.Changed {
				var err error
				if fm, err = inv.OutputFormat(); err != nil {
					return err
				}
			}
			proj, err := exportColumns.Select(inv.Global.Columns, fm)
			if err != nil {
				return usageError(err.Error())
			}
			ctx, cancel := commandContext(cmd, inv)
			defer cancel()
			c, err := inv.ReadClient(ctx)
			if err != nil {
				return err
			}
			w := output.NewRowWriter(fm, inv.IO.Out, proj, inv.OutputOptions())
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
		},
	}, exportColumns)
}
