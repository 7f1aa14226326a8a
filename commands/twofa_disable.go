package commands

import (
	"context"

	"github.com/spf13/cobra"
)

// twoFADisableOptions are `2fa disable`.
type twoFADisableOptions struct {
	*Invocation
	Mutate    mutateFlags
	Select    selector
	Args      []string
	OutputSet bool
}

func newCmdTwoFADisable(inv *Invocation, runF func(context.Context, *twoFADisableOptions) error) *cobra.Command {
	o := &twoFADisableOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "disable USER… | - | FILTERS",
		Short: "Delete users' 2FA devices (lost phone); users without 2FA are reported, not an error",
		Long: "Deletes every TOTP and email device of each user, as django-two-factor-auth's disable does " +
			"(deleting also un-verifies the user's live sessions). One operation-log row per user that had a device, " +
			"naming each device deleted (id, kind, name; never its key): a deleted device cannot be restored by undo.",
		Example: "  b2badmin 2fa disable harris.isabella12@yahoo.com --reason 'lost phone, ticket SUP-881'\n" +
			"  b2badmin 2fa disable --inactive --2fa --reason 'OPS-1234 inactive accounts keep no devices' --yes",
		Annotations: selectsAnnotation(ArgUser),
		PreRunE:     func(*cobra.Command, []string) error { return o.Mutate.validate() },
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args, o.OutputSet = args, cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runTwoFADisable)
		},
	}
	addMutateFlags(cmd, &o.Mutate)
	addSelectorFlags(inv, cmd, &o.Select)
	return cmd
}

func runTwoFADisable(ctx context.Context, o *twoFADisableOptions) error {
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
	res, err := c.DisableTwoFA(ctx, o.Audit(o.Mutate.Reason), t, o.Mutate.options(o.Invocation, "2fa disable"))
	if err != nil {
		return err
	}
	return reportChange(o.Invocation, o.OutputSet, res, changeReport{done: "disabled 2FA of", unchanged: "have no 2FA device", unchangedOne: "has no 2FA device"})
}
