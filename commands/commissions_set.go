package commands

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// commissionsSetOptions are `commissions set`.
type commissionsSetOptions struct {
	*Invocation
	Mutate                   mutateFlags
	Select                   selector
	operation, currency      string
	percent, fixed, min, max string
	Plan                     client.PlanInput // validated (PreRunE)
	Args                     []string
	OutputSet                bool
}

func newCmdCommissionsSet(inv *Invocation, runF func(context.Context, *commissionsSetOptions) error) *cobra.Command {
	o := &commissionsSetOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "set USER… | - | FILTERS --operation KIND --currency CUR [--percent P] [--fixed F] [--min M] [--max X]",
		Short: "Create or change users' personal commission plan for one operation and currency",
		Long: "Operations: " + strings.Join(client.CommissionOperations, ", ") + ". A new plan needs --percent and --fixed; " +
			"changing a plan keeps the values not given. --min/--max none removes a bound. " +
			"Validated (exit 4): percent 0-100 (4 decimals), fees ≥ 0 (8 decimals), min ≤ max, currency like USDT. " +
			"- reads users from stdin and gives each the same plan. Logged as commissions.set, one row per user " +
			"with the plan before and after.",
		Example: "  b2badmin commissions set michal42@ukr.net --operation deposit --currency USDT --percent 0.5 --fixed 1\n" +
			"  b2badmin commissions set - --operation payout --currency BTC --percent 0.8 --fixed 0 --max 25 --yes < examples/users.txt\n" +
			"  b2badmin commissions set - --operation payout --currency BTC --max none --yes < examples/users.txt",
		Annotations: selectsAnnotation(ArgUser),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			// Cobra checks required flags after PreRunE; their values are judged here.
			if err := validateFlagRules(cmd); err != nil {
				return err
			}
			if err := o.Mutate.validate(); err != nil {
				return err
			}
			o.Plan = planInputFromFlags(cmd, o)
			// Validate before connecting: bad values never reach the database.
			return client.ValidatePlanInput(&o.Plan)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args, o.OutputSet = args, cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runCommissionsSet)
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
	completeFlag(inv, cmd, "operation", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return client.CommissionOperations, cobra.ShellCompDirectiveNoFileComp
	})
	addMutateFlags(cmd, &o.Mutate)
	addSelectorFlags(inv, cmd, &o.Select)
	return cmd
}

func planInputFromFlags(cmd *cobra.Command, o *commissionsSetOptions) client.PlanInput {
	in := client.PlanInput{Operation: o.operation, Currency: o.currency}
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
	return in
}

func runCommissionsSet(ctx context.Context, o *commissionsSetOptions) error {
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
	res, err := c.SetCommissionPlans(ctx, o.Audit(o.Mutate.Reason), t, o.Plan, o.Mutate.options(o.Invocation, "commissions set"))
	if err != nil {
		return err
	}
	return reportChange(o.Invocation, o.OutputSet, res, changeReport{done: "set the " + o.Plan.Operation + " " + o.Plan.Currency + " plan of", unchanged: "already have this plan", unchangedOne: "already has this plan"})
}
