package commands

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client/schema"
	"github.com/b2badmin/b2badmin/client/seed"
	"github.com/b2badmin/b2badmin/output"
)

func newDBCmd(inv *Invocation) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Schema and demo data"}
	cmd.AddCommand(newDBMigrateCmd(inv), newDBStatusCmd(inv), newDBSeedCmd(inv))
	return cmd
}

var migrationColumns = output.Columns{
	{Key: "version", Header: "Version", Default: true},
	{Key: "name", Header: "Name", Default: true},
	{Key: "applied_at", Header: "Applied at", Default: true},
}

func newDBMigrateCmd(inv *Invocation) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending schema migrations (each in its own transaction)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseReadOnly(inv); err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, inv)
			defer cancel()
			c, err := inv.Client(ctx)
			if err != nil {
				return err
			}
			applied, err := schema.Migrate(ctx, c.DB())
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(inv.IO.ErrOut, "b2badmin: schema is up to date")
			}
			for _, m := range applied {
				fmt.Fprintf(inv.IO.ErrOut, "b2badmin: applied %04d_%s\n", m.Version, m.Name)
			}
			return nil
		},
	}
}

func newDBStatusCmd(inv *Invocation) *cobra.Command {
	return withColumns(&cobra.Command{
		Use:   "status",
		Short: "List migrations and when they were applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd, inv)
			defer cancel()
			c, err := inv.Client(ctx)
			if err != nil {
				return err
			}
			st, err := schema.Statuses(ctx, c.DB())
			if err != nil {
				return err
			}
			rows := make([][]any, len(st))
			for i, m := range st {
				var at any
				if m.AppliedAt != nil {
					at = *m.AppliedAt
				}
				rows[i] = []any{m.Version, m.Name, at}
			}
			return renderRows(inv, migrationColumns, rows)
		},
	}, migrationColumns)
}

type dbSeedOptions struct {
	users   int
	seed    int64
	ifEmpty bool
}

func newDBSeedCmd(inv *Invocation) *cobra.Command {
	o := &dbSeedOptions{}
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill an empty database with realistic, deterministic demo data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.users < 1 || o.users > 50_000_000 {
				return usageErrorf("--users must be between 1 and 50000000, got %d", o.users)
			}
			if err := refuseReadOnly(inv); err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, inv)
			defer cancel()
			c, err := inv.Client(ctx)
			if err != nil {
				return err
			}
			if o.ifEmpty {
				has, err := seed.HasUsers(ctx, c.DB())
				if err != nil {
					return err
				}
				if has {
					fmt.Fprintln(inv.IO.ErrOut, "b2badmin: database already has users; not seeding (--if-empty)")
					return nil
				}
			}
			start := time.Now()
			bar := newProgress(inv, "seeding", int64(o.users))
			so := seed.Options{Users: o.users, Seed: o.seed, Progress: bar.Set}
			if inv.Global.Debug {
				so.Trace = inv.IO.ErrOut // the duration of each step
			}
			stats, err := seed.Run(ctx, c.DB(), so)
			bar.Done()
			if err != nil {
				return err
			}
			fmt.Fprintf(inv.IO.ErrOut, "b2badmin: seeded %d users, %d companies, %d wallets, %d auth log rows, %d sent tokens, %d transfers in %s\n",
				stats.Users, stats.Companies, stats.Wallets, stats.AuthLogs, stats.Tokens, stats.Transfers, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().IntVar(&o.users, "users", 1000, "number of users to create")
	cmd.Flags().Int64Var(&o.seed, "seed", 1, "random seed: the same seed on the same UTC day gives the same data (times are relative to the start of today)")
	cmd.Flags().BoolVar(&o.ifEmpty, "if-empty", false, "do nothing when the database already has users")
	return cmd
}

// renderRows prints a finished list in the chosen format.
func renderRows(inv *Invocation, cols output.Columns, rows [][]any) error {
	fm, p, err := inv.selectColumns(cols)
	if err != nil {
		return err
	}
	return output.WriteAll(fm, inv.IO.Out, p, inv.OutputOptions(), rows)
}
