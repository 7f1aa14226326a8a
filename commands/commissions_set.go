package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

type commissionsSetOptions struct {
	m                        mutateFlags
	operation, currency      string
	percent, fixed, min, max string
}

func newCommissionsSetCmd(f *Factory) *cobra.Command {
	o := &commissionsSetOptions{}
	cmd := &cobra.Command{
		Use:   "set USER --operation KIND --currency CUR [--percent P] [--fixed F] [--min M] [--max X]",
		Short: "Create or change the user's personal commission plan for one operation and currency",
		Long: "Operations: " + strings.Join(client.CommissionOperations, ", ") + ". A new plan needs --percent and --fixed; " +
			"changing a plan keeps the values not given. --min/--max none removes a bound. " +
			"Validated (exit 4): percent 0-100 (4 decimals), fees ≥ 0 (8 decimals), min ≤ max, currency like USDT. Logged as commissions.set.",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := client.PlanInput{Operation: o.operation, Currency: o.currency, DryRun: o.m.DryRun}
			fl := cmd.Flags()
			if fl.Changed("percent") {
				in.Percent = &o.percent
			}
			if fl.Changed("fixed") {
				in.FixedFee = &o.fixed
			}
			if fl.Changed("min") {
				if strings.EqualFold(o.min, "none") {
					in.ClearMin = true
				} else {
					in.MinFee = &o.min
				}
			}
			if fl.Changed("max") {
				if strings.EqualFold(o.max, "none") {
					in.ClearMax = true
				} else {
					in.MaxFee = &o.max
				}
			}
			// Validate before connecting: bad values never reach the database.
			if err := client.ValidatePlanInput(&in); err != nil {
				return err
			}
			if err := refuseReadOnly(f); err != nil {
				return err
			}
			fm, err := f.OutputFormat()
			if err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			u, err := client.ResolveUser(ctx, c.DB(), args[0])
			if err != nil {
				return err
			}
			res, err := c.SetCommissionPlan(ctx, f.Audit(o.m.Reason), u, in)
			if err != nil {
				return err
			}
			return writePlanChange(f, fm, res, o.m.DryRun)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.operation, "operation", "", "operation kind: "+strings.Join(client.CommissionOperations, "|"))
	fl.StringVar(&o.currency, "currency", "", "currency code, e.g. USDT or BTC")
	fl.StringVar(&o.percent, "percent", "", "percentage fee, 0 to 100")
	fl.StringVar(&o.fixed, "fixed", "", "fixed fee, ≥ 0")
	fl.StringVar(&o.min, "min", "", "minimum fee (none = no minimum)")
	fl.StringVar(&o.max, "max", "", "maximum fee (none = no maximum)")
	_ = cmd.MarkFlagRequired("operation")
	_ = cmd.MarkFlagRequired("currency")
	_ = cmd.RegisterFlagCompletionFunc("operation", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return client.CommissionOperations, cobra.ShellCompDirectiveNoFileComp
	})
	addMutateFlags(cmd, &o.m)
	return withColumns(cmd, planColumns)
}

// planChangeResult is the -o json shape of `commissions set`.
type planChangeResult struct {
	client.PlanChange
	DryRun bool `json:"dry_run"`
}

func writePlanChange(f *Factory, fm output.Format, res client.PlanChange, dryRun bool) error {
	var err error
	switch fm {
	case output.JSON:
		err = output.WriteJSON(f.IO.Out, planChangeResult{res, dryRun})
	case output.JSONL:
		err = writeJSONLine(f, planChangeResult{res, dryRun})
	default:
		err = renderRows(f, planColumns, [][]any{planRow(res.After)})
	}
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s %s plan of %s", res.After.Operation, res.After.Currency, res.Email)
	switch {
	case dryRun && res.Created:
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: dry run: would create the %s; nothing changed\n", what)
	case dryRun:
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: dry run: would change %s of the %s; nothing changed\n", changedText(res.Changed), what)
	case res.Created:
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: created the %s\n", what)
	default:
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: changed %s of the %s\n", changedText(res.Changed), what)
	}
	return nil
}

func changedText(c []string) string {
	if len(c) == 0 {
		return "nothing"
	}
	return strings.Join(c, ", ")
}
