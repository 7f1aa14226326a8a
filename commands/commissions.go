package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// newCommissionsCmd is the Commissions tab: turnover, personal plans and
// the transfers behind the turnover.
func newCommissionsCmd(inv *Invocation) *cobra.Command { return newCommissionsCmdFor(inv, "") }

func newCommissionsCmdFor(inv *Invocation, verb string) *cobra.Command {
	cmd := &cobra.Command{Use: "commissions", Aliases: []string{"commission"}, Short: "Company turnover, personal commission plans and their transfers"}
	return addVerbs(cmd, inv, []noun{
		{[]string{"show"}, func(inv *Invocation) *cobra.Command { return newCmdCommissionsShow(inv, nil) }, nil},
		{[]string{"set"}, func(inv *Invocation) *cobra.Command { return newCmdCommissionsSet(inv, nil) }, nil},
		{[]string{"transfers"}, func(inv *Invocation) *cobra.Command { return newCmdCommissionsTransfers(inv, nil) }, nil},
	}, verb)
}

var planColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "operation", Header: "Operation", Default: true},
	{Key: "currency", Header: "Currency", Default: true},
	{Key: "percent", Header: "Percent", Default: true},
	{Key: "fixed_fee", Header: "Fixed fee", Default: true},
	{Key: "min_fee", Header: "Min fee", Default: true},
	{Key: "max_fee", Header: "Max fee", Default: true},
	{Key: "created_at", Header: "Created at"},
	{Key: "updated_at", Header: "Updated at", Default: true},
}

func planRow(p client.CommissionPlan) []any {
	return []any{p.ID, p.Operation, p.Currency, p.Percent, p.FixedFee, strOrNil(p.MinFee), strOrNil(p.MaxFee), p.CreatedAt, p.UpdatedAt}
}

func strOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// commissionsShowOptions are `commissions show`.
type commissionsShowOptions struct {
	*Invocation
	User string
	AsOf string
	At   time.Time // --as-of, else now (PreRunE)
}

func newCmdCommissionsShow(inv *Invocation, runF func(context.Context, *commissionsShowOptions) error) *cobra.Command {
	o := &commissionsShowOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "show USER",
		Short: "Company turnover (this month to date, last month; UTC) and the user's personal plans",
		Long: "Turnover is SUM(amount_usd) over the transfers of the user's company in half-open UTC calendar months. " +
			"-o json|jsonl prints one object (turnovers as exact decimal strings); table prints a turnover summary " +
			"and then the plans; csv, tsv and ids print the plans as rows and the summary on stderr.",
		Example:     "  b2badmin commissions show amelia.morris4@harbortower.com\n  b2badmin commissions show 4 --as-of 30d -o json",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		PreRunE: func(*cobra.Command, []string) error {
			o.At = time.Now()
			if o.AsOf != "" {
				t, err := parseTime("--as-of", o.AsOf, lowerBound, o.At)
				if err != nil {
					return err
				}
				o.At = t
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.User = args[0]
			return runCmd(cmd, inv, o, runF, runCommissionsShow)
		},
	}
	cmd.Flags().StringVar(&o.AsOf, "as-of", "", "compute \"this month\" as the UTC month containing this time (default now): "+timeHelp)
	return withJSONShape(withColumns(cmd, planColumns), client.CommissionSummary{})
}

func runCommissionsShow(ctx context.Context, o *commissionsShowOptions) error {
	fm, err := o.OutputFormat()
	if err != nil {
		return err
	}
	c, u, err := readUser(ctx, o.Invocation, o.User)
	if err != nil {
		return err
	}
	s, err := c.CommissionSummary(ctx, u, o.At)
	if err != nil {
		return err
	}
	return writeCommissionSummary(o.Invocation, fm, s)
}

// writeCommissionSummary: JSON formats get the whole object; table, CSV,
// TSV and ids get the plans as rows, and table also a turnover header.
func writeCommissionSummary(inv *Invocation, fm output.Format, s client.CommissionSummary) error {
	switch fm {
	case output.JSON:
		return output.WriteJSON(inv.IO.Out, s)
	case output.JSONL:
		return writeJSONLine(inv, s)
	}
	turnover := func(t *client.Turnover) string {
		if t == nil {
			return "no company"
		}
		return fmt.Sprintf("%s USD over %d transfers (%s)", t.AmountUSD, t.Transfers, t.Month)
	}
	summary := fmt.Sprintf("User: %d %s\nCompany: %s\nCompany current turnover: %s\nCompany last month turnover: %s\n",
		s.UserID, s.Email, strOr(s.Company, "none"), turnover(s.CurrentTurnover), turnover(s.LastTurnover))
	if fm == output.Table {
		fmt.Fprint(inv.IO.Out, summary+"\nPersonal commission plans:\n")
	} else {
		// Keep machine formats pure rows; the summary goes to stderr.
		fmt.Fprint(inv.IO.ErrOut, prefixLines(summary, "b2badmin: "))
	}
	rows := make([][]any, len(s.Plans))
	for i, p := range s.Plans {
		rows[i] = planRow(p)
	}
	return renderRows(inv, planColumns, rows)
}

func strOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

func prefixLines(s, prefix string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	return prefix + strings.Join(lines, prefix) + "\n"
}

var transferColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "created_at", Header: "Time", Default: true},
	{Key: "amount_usd", Header: "Amount USD", Default: true},
	{Key: "currency", Header: "Currency", Default: true},
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "company_id", Header: "Company ID"},
}

// commissionsTransfersOptions are `commissions transfers`.
type commissionsTransfersOptions struct {
	*Invocation
	User  string
	Month string
	M     client.MonthRange // --month, else this month (PreRunE)
}

func newCmdCommissionsTransfers(inv *Invocation, runF func(context.Context, *commissionsTransfersOptions) error) *cobra.Command {
	o := &commissionsTransfersOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:         "transfers USER",
		Short:       "The company transfers behind the turnover for one UTC calendar month (default this month)",
		Example:     "  b2badmin commissions transfers amelia.morris4@harbortower.com\n  b2badmin commissions transfers 4 --month 2026-11 -o csv",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		PreRunE: func(*cobra.Command, []string) error {
			o.M = client.MonthOf(time.Now())
			if o.Month != "" {
				t, err := time.Parse("2006-01", o.Month)
				if err != nil || t.Year() < 1970 {
					return usageErrorf("invalid --month %q: want YYYY-MM", o.Month)
				}
				o.M = client.MonthOf(t)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.User = args[0]
			return runCmd(cmd, inv, o, runF, runCommissionsTransfers)
		},
	}
	cmd.Flags().StringVar(&o.Month, "month", "", "UTC calendar month YYYY-MM (default this month)")
	return withColumns(cmd, transferColumns)
}

func runCommissionsTransfers(ctx context.Context, o *commissionsTransfersOptions) error {
	return streamActivity(ctx, o.Invocation, o.User, transferColumns, func(c *client.Client, u client.UserRef, w output.RowWriter) error {
		hasCompany, err := c.CompanyTransfers(ctx, u.ID, o.M, func(t client.Transfer) error {
			var uid any
			if t.UserID != nil {
				uid = *t.UserID
			}
			return w.Write([]any{t.ID, t.CreatedAt, t.AmountUSD, t.Currency, uid, t.CompanyID})
		})
		if err == nil && !hasCompany {
			o.notef("%s has no company, so no company transfers", u.Email)
		}
		return err
	})
}
