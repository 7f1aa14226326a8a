package commands

import (
	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// newTwoFACmd is the 2FA tab: status, enable (TOTP or email device) and
// disable (the lost-phone support flow). OTP keys are printed nowhere but
// in the one-time provisioning URI of `2fa enable --method totp`.
func newTwoFACmd(inv *Invocation) *cobra.Command {
	cmd := &cobra.Command{Use: "2fa", Aliases: []string{"twofa"}, Short: "Show, enable and disable users' two-factor authentication"}
	cmd.AddCommand(newTwoFAStatusCmd(inv), newCmdTwoFAEnable(inv, nil), newCmdTwoFADisable(inv, nil))
	return cmd
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

func newTwoFAStatusCmd(inv *Invocation) *cobra.Command {
	return withColumns(&cobra.Command{
		Use:         "status USER…",
		Short:       "Whether 2FA is enabled, which devices (totp, email), confirmed, last used",
		Long:        "USER is an ID, an email or a UUID; - reads one per line from stdin. Enabled means a confirmed device exists (what django-otp checks at login). Keys are never shown.",
		Args:        cobra.MinimumNArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			refs, err := readUserArgs(inv, args)
			if err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, inv)
			defer cancel()
			c, err := inv.ReadClient(ctx)
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
			return renderRows(inv, twoFAStatusColumns, rows)
		},
	}, twoFAStatusColumns)
}
