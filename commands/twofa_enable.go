package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/totp"
	"github.com/b2badmin/b2badmin/output"
)

// twoFAEnableOptions are `2fa enable`.
type twoFAEnableOptions struct {
	*Invocation
	Mutate    mutateFlags
	Select    selector
	Method    string
	Issuer    string
	Name      string
	Replace   bool
	NoQR      bool
	Args      []string
	OutputSet bool
}

// twoFAURIColumn is the one column a real `2fa enable` adds to its change
// list: the provisioning URI, which holds the new key and is shown this
// once. A dry run has no key to show (null), so it is the one value in
// which a dry run's change list differs from the real run's.
var twoFAURIColumn = output.Columns{{Key: "otpauth_uri", Header: "otpauth URI", Default: true}}

func newCmdTwoFAEnable(inv *Invocation, runF func(context.Context, *twoFAEnableOptions) error) *cobra.Command {
	o := &twoFAEnableOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "enable USER… | - | FILTERS --method totp|email",
		Short: "Create a confirmed 2FA device per user; for TOTP print its otpauth:// URI once",
		Long: "totp: creates a django-otp TOTP device per user (random 20-byte key, 30 s step, 6 digits) and prints its " +
			"otpauth:// URI once on stdout, one line per user (and a QR code when stdout is a terminal and there is one user); " +
			"the key is shown nowhere else, ever. With -o json|jsonl the change list carries each URI in otpauth_uri.\n" +
			"email: creates an email device for the user's address.\n" +
			"The device is created confirmed: django-otp ignores unconfirmed devices, and the user never runs the " +
			"setup wizard that would confirm an admin-made one. A user with a confirmed device is refused (exit 4) " +
			"unless --replace, which deletes every existing device in the same transaction.",
		Example: "  b2badmin 2fa enable alice@example.com --method totp\n" +
			"  b2badmin users list --group API --no-2fa -o ids --all | b2badmin 2fa enable - --method totp -o jsonl --yes > enrolments.jsonl",
		Annotations: selectsAnnotation(ArgUser),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			// Cobra checks required flags after PreRunE; their values are judged here.
			if err := validateFlagRules(cmd); err != nil {
				return err
			}
			if o.Method != client.MethodTOTP && o.Method != client.MethodEmail {
				return usageErrorf("--method must be totp or email, got %q", o.Method)
			}
			if err := client.CheckText("--name", o.Name, 64); err != nil {
				return err
			}
			return o.Mutate.validate()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args, o.OutputSet = args, cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runTwoFAEnable)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Method, "method", "", "device kind: totp or email (required)")
	fl.StringVar(&o.Issuer, "issuer", "B2BinPay", "issuer shown by authenticator apps (TOTP)")
	fl.StringVar(&o.Name, "name", "default", "device name (django-otp's name field)")
	fl.BoolVar(&o.Replace, "replace", false, "delete the users' existing devices first (same transaction)")
	fl.BoolVar(&o.NoQR, "no-qr", false, "never draw the QR code, even on a terminal")
	_ = cmd.MarkFlagRequired("method")
	completeFlag(inv, cmd, "method", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{client.MethodTOTP, client.MethodEmail}, cobra.ShellCompDirectiveNoFileComp
	})
	addMutateFlags(cmd, &o.Mutate)
	addSelectorFlags(inv, cmd, &o.Select)
	return withColumns(cmd, append(append(output.Columns{}, changeColumns...), twoFAURIColumn...))
}

func runTwoFAEnable(ctx context.Context, o *twoFAEnableOptions) error {
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
	res, err := c.EnableTwoFA(ctx, o.Audit(o.Mutate.Reason), t,
		client.EnableTwoFAOptions{Method: o.Method, Name: o.Name, Replace: o.Replace}, o.Mutate.options(o.Invocation, "2fa enable"))
	if err != nil {
		return err
	}
	uris := map[int64]string{}
	for _, ch := range res.Changes {
		if key, ok := res.Secrets[ch.UserID]; ok {
			if uris[ch.UserID], err = totp.ProvisioningURI(totp.Device{KeyHex: key, Step: 30, Digits: 6}, o.Issuer, ch.Email); err != nil {
				return err
			}
		}
	}
	r := changeReport{done: "enabled 2FA for", extraColumns: twoFAURIColumn, extraRow: func(ch client.Change) []any {
		if u, ok := uris[ch.UserID]; ok {
			return []any{u}
		}
		return []any{nil}
	}}
	if !res.DryRun && !o.OutputSet {
		// The plain form is the URIs themselves, one per user, so that
		// URI=$(b2badmin 2fa enable …) works.
		for _, ch := range res.Changes {
			if u, ok := uris[ch.UserID]; ok {
				fmt.Fprintln(o.IO.Out, u)
			}
		}
		if len(uris) == 1 && o.IO.OutTTY && !o.NoQR {
			for _, u := range uris {
				if err := writeQR(o.IO.Out, u); err != nil {
					o.notef("no QR code: %v", err)
				}
			}
		}
	}
	if len(uris) > 0 {
		defer o.notef("the otpauth:// URIs above hold the secrets and are shown only this once")
	}
	return reportChange(o.Invocation, o.OutputSet, res, r)
}
