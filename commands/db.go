package commands

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client/schema"
	"github.com/b2badmin/b2badmin/client/seed"
	"github.com/b2badmin/b2badmin/output"
)

func newDBCmd(inv *Invocation) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Schema and demo data"}
	cmd.AddCommand(newCmdDBMigrate(inv, nil), newCmdDBStatus(inv, nil), newCmdDBSeed(inv, nil))
	return cmd
}

var migrationColumns = output.Columns{
	{Key: "version", Header: "Version", Default: true},
	{Key: "name", Header: "Name", Default: true},
	{Key: "applied_at", Header: "Applied at", Default: true},
}

// dbMigrateOptions are `db migrate`.
type dbMigrateOptions struct {
	*Invocation
}

func newCmdDBMigrate(inv *Invocation, runF func(context.Context, *dbMigrateOptions) error) *cobra.Command {
	o := &dbMigrateOptions{Invocation: inv}
	return &cobra.Command{
		Use:     "migrate",
		Short:   "Apply pending schema migrations (each in its own transaction)",
		Example: "  b2badmin db migrate",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runDBMigrate)
		},
	}
}

func runDBMigrate(ctx context.Context, o *dbMigrateOptions) error {
	if err := refuseReadOnly(o.Invocation); err != nil {
		return err
	}
	c, err := o.Client(ctx)
	if err != nil {
		return err
	}
	applied, err := schema.Migrate(ctx, c.DB())
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		o.notef("schema is up to date")
	}
	for _, m := range applied {
		o.notef("applied %04d_%s", m.Version, m.Name)
	}
	return nil
}

// dbStatusOptions are `db status`.
type dbStatusOptions struct {
	*Invocation
}

func newCmdDBStatus(inv *Invocation, runF func(context.Context, *dbStatusOptions) error) *cobra.Command {
	o := &dbStatusOptions{Invocation: inv}
	return withColumns(&cobra.Command{
		Use:     "status",
		Short:   "List migrations and when they were applied",
		Example: "  b2badmin db status\n  b2badmin db status -o json --jq '.[] | select(.applied_at == null) | .name'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runDBStatus)
		},
	}, migrationColumns)
}

func runDBStatus(ctx context.Context, o *dbStatusOptions) error {
	c, err := o.Client(ctx)
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
	return renderRows(o.Invocation, migrationColumns, rows)
}

// dbSeedOptions are `db seed`.
type dbSeedOptions struct {
	*Invocation
	Users   int
	Seed    int64
	IfEmpty bool
}

func newCmdDBSeed(inv *Invocation, runF func(context.Context, *dbSeedOptions) error) *cobra.Command {
	o := &dbSeedOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:     "seed",
		Short:   "Fill an empty database with realistic, deterministic demo data",
		Example: "  b2badmin db seed --users 20000 --seed 1 --if-empty",
		Args:    cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if o.Users < 1 || o.Users > 50_000_000 {
				return usageErrorf("--users must be between 1 and 50000000, got %d", o.Users)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, runF, runDBSeed)
		},
	}
	cmd.Flags().IntVar(&o.Users, "users", 1000, "number of users to create")
	cmd.Flags().Int64Var(&o.Seed, "seed", 1, "random seed: the same seed on the same UTC day gives the same data (times are relative to the start of today)")
	cmd.Flags().BoolVar(&o.IfEmpty, "if-empty", false, "do nothing when the database already has users")
	return cmd
}

func runDBSeed(ctx context.Context, o *dbSeedOptions) error {
	if err := refuseReadOnly(o.Invocation); err != nil {
		return err
	}
	c, err := o.Client(ctx)
	if err != nil {
		return err
	}
	if o.IfEmpty {
		has, err := seed.HasUsers(ctx, c.DB())
		if err != nil {
			return err
		}
		if has {
			o.notef("database already has users; not seeding (--if-empty)")
			return nil
		}
	}
	start := time.Now()
	bar := newProgress(o.Invocation, "seeding", int64(o.Users))
	so := seed.Options{Users: o.Users, Seed: o.Seed, Progress: bar.Set}
	if o.Global.Debug {
		so.Trace = o.IO.ErrOut // the duration of each step
	}
	stats, err := seed.Run(ctx, c.DB(), so)
	bar.Done()
	if err != nil {
		return err
	}
	o.notef("seeded %d users, %d companies, %d wallets, %d auth log rows, %d sent tokens, %d transfers in %s",
		stats.Users, stats.Companies, stats.Wallets, stats.AuthLogs, stats.Tokens, stats.Transfers, time.Since(start).Round(time.Millisecond))
	return nil
}

// renderRows prints a finished list in the chosen format.
func renderRows(inv *Invocation, cols output.Columns, rows [][]any) error {
	fm, p, err := inv.selectColumns(cols)
	if err != nil {
		return err
	}
	return output.WriteAll(fm, inv.IO.Out, p, inv.OutputOptions(), rows)
}
