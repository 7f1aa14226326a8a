package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// newTwoFACmd is the 2FA tab: status, enable (TOTP or email device) and
// disable (the lost-phone support flow). OTP keys are printed nowhere but
// in the one-time provisioning URI of `2fa enable --method totp`.
func newTwoFACmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "2fa", Aliases: []string{"twofa"}, Short: "Show, enable and disable users' two-factor authentication"}
	cmd.AddCommand(newTwoFAStatusCmd(f), newTwoFAEnableCmd(f), newTwoFADisableCmd(f))
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
	return []any{s.UserID, s.Email, s.Enabled, s.Kinds(), s.TOTP, s.TOTPConfirmed, s.EmailDevice, s.EmailConfirmed, last}
}

func newTwoFAStatusCmd(f *Factory) *cobra.Command {
	return withColumns(&cobra.Command{
		Use:         "status USER…",
		Short:       "Whether 2FA is enabled, which devices (totp, email), confirmed, last used",
		Long:        "USER is an ID, an email or a UUID; - reads one per line from stdin. Enabled means a confirmed device exists (what django-otp checks at login). Keys are never shown.",
		Args:        cobra.MinimumNArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			refs, err := readUserArgs(f, args)
			if err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.ReadClient(ctx)
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
			return renderRows(f, twoFAStatusColumns, rows)
		},
	}, twoFAStatusColumns)
}

var twoFADisableColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "result", Header: "Result", Default: true},
	{Key: "removed", Header: "Removed devices", Default: true},
}

func newTwoFADisableCmd(f *Factory) *cobra.Command {
	var m mutateFlags
	cmd := &cobra.Command{
		Use:   "disable USER…",
		Short: "Delete users' 2FA devices (lost phone); users without 2FA are reported, not an error",
		Long: "Deletes every TOTP and email device of each user, as django-two-factor-auth's disable does " +
			"(deleting also un-verifies the user's live sessions). One operation-log row per user that had a device.",
		Args:        cobra.MinimumNArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseReadOnly(f); err != nil {
				return err
			}
			refs, err := readUserArgs(f, args)
			if err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.Client(ctx)
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
			var with []client.UserRef
			for i, s := range st {
				if s.TOTP || s.EmailDevice {
					with = append(with, users[i])
				}
			}
			removed := map[int64][]string{}
			verb := "disabled"
			if m.DryRun {
				verb = "would disable"
				for _, s := range st {
					if k := s.Kinds(); len(k) > 0 {
						removed[s.UserID] = k
					}
				}
			} else {
				if err := confirmChange(f, &m, len(with), "2fa disable"); err != nil {
					return err
				}
				if len(with) > 0 {
					done, err := c.DisableTwoFA(ctx, f.Audit(m.Reason), with)
					if err != nil {
						return err
					}
					for _, d := range done {
						removed[d.UserID] = d.Removed
					}
				}
			}
			rows := make([][]any, len(users))
			n := 0
			for i, u := range users {
				result, kinds := "none enabled", removed[u.ID]
				if len(kinds) > 0 {
					result = verb
					n++
				} else {
					kinds = []string{}
				}
				rows[i] = []any{u.ID, u.Email, result, kinds}
			}
			if err := renderRows(f, twoFADisableColumns, rows); err != nil {
				return err
			}
			summary := "2FA disabled"
			if m.DryRun {
				summary = "dry run, nothing changed: 2FA would be disabled"
			}
			fmt.Fprintf(f.IO.ErrOut, "b2badmin: %s for %d of %d users (%d had none enabled)\n", summary, n, len(users), len(users)-n)
			return nil
		},
	}
	addMutateFlags(cmd, &m)
	return withColumns(cmd, twoFADisableColumns)
}
