package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// newTwoFACmd is the 2FA tab: status, enable (TOTP or email device) and
// disable (the lost-phone support flow). OTP keys are printed nowhere but
// in the one-time provisioning URI of `2fa enable --method totp`.
func newTwoFACmd(inv *Invocation) *cobra.Command { return newTwoFACmdFor(inv, "") }

func newTwoFACmdFor(inv *Invocation, verb string) *cobra.Command {
	cmd := &cobra.Command{Use: "2fa", Aliases: []string{"twofa"}, Short: "Show, enable and disable users' two-factor authentication"}
	return addVerbs(cmd, inv, []noun{
		{[]string{"status"}, func(inv *Invocation) *cobra.Command { return newCmdTwoFAStatus(inv, nil) }, nil},
		{[]string{"enable"}, func(inv *Invocation) *cobra.Command { return newCmdTwoFAEnable(inv, nil) }, nil},
		{[]string{"disable"}, func(inv *Invocation) *cobra.Command { return newCmdTwoFADisable(inv, nil) }, nil},
	}, verb)
}

// twoFAStatusColumns: JSON keys are a contract (SPEC §4).
var twoFAStatusColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "enabled", Header: "2FA", Default: true},
	{Key: "devices", Header: "Devices", Default: true},
	{Key: "totp", Header: "TOTP"},
	{Key: "totp_confirmed", Header: "TOTP confirmed"},
	{Key: "email_device", Header: "Email device"},
	{Key: "email_confirmed", Header: "Email confirmed"},
	{Key: "last_used_at", Header: "Last used", Default: true},
}

func twoFAStatusRow(s client.TwoFAStatus) []any {
	var last any
	if s.LastUsedAt != nil {
		last = *s.LastUsedAt
	}
	return []any{s.UserID, s.Email, s.Enabled, s.Devices, s.TOTP, s.TOTPConfirmed, s.EmailDevice, s.EmailConfirmed, last}
}

// twoFAStatusOptions are `2fa status`.
type twoFAStatusOptions struct {
	*Invocation
	Args []string
}

func newCmdTwoFAStatus(inv *Invocation, runF func(context.Context, *twoFAStatusOptions) error) *cobra.Command {
	o := &twoFAStatusOptions{Invocation: inv}
	return withColumns(&cobra.Command{
		Use:         "status USER…",
		Short:       "Whether 2FA is enabled, which devices (totp, email), confirmed, last used",
		Long:        "USER is an ID, an email or a UUID; - reads one per line from stdin. Enabled means a confirmed device exists (what django-otp checks at login). Keys are never shown.",
		Example:     "  b2badmin 2fa status 42 17\n  b2badmin users list --group API -o ids --all | b2badmin 2fa status - -o csv",
		Args:        cobra.MinimumNArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return runCmd(cmd, inv, o, runF, runTwoFAStatus)
		},
	}, twoFAStatusColumns)
}

func runTwoFAStatus(ctx context.Context, o *twoFAStatusOptions) error {
	refs, err := readUserArgs(o.Invocation, o.Args)
	if err != nil {
		return err
	}
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	users, err := c.ResolveUsers(ctx, refs)
	if err != nil {
		return err
	}
	st, err := c.TwoFAStatuses(ctx, users)
	if err != nil {
		return err
	}
	rows := make([][]any, len(st))
	for i, s := range st {
		rows[i] = twoFAStatusRow(s)
	}
	return renderRows(o.Invocation, twoFAStatusColumns, rows)
}
