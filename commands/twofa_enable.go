package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/totp"
	"github.com/b2badmin/b2badmin/output"
)

type twoFAEnableOptions struct {
	m       mutateFlags
	method  string
	issuer  string
	name    string
	replace bool
	noQR    bool
}

// twoFAEnableResult is the -o json|jsonl shape of `2fa enable`.
type twoFAEnableResult struct {
	UserID   int64    `json:"user_id"`
	Email    string   `json:"email"`
	Method   string   `json:"method"`
	DeviceID *int64   `json:"device_id"` // null on a dry run
	Name     string   `json:"name"`
	Replaced []string `json:"replaced"`
	DryRun   bool     `json:"dry_run"`
	// OTPAuthURI carries the secret: printed this once, never stored elsewhere.
	OTPAuthURI string `json:"otpauth_uri,omitempty"`
}

func newTwoFAEnableCmd(f *Factory) *cobra.Command {
	o := &twoFAEnableOptions{}
	cmd := &cobra.Command{
		Use:   "enable USER --method totp|email",
		Short: "Create a confirmed 2FA device; for TOTP print its otpauth:// URI once",
		Long: "totp: creates a django-otp TOTP device (random 20-byte key, 30 s step, 6 digits) and prints its " +
			"otpauth:// URI once on stdout (and a QR code when stdout is a terminal); the key is shown nowhere else, ever.\n" +
			"email: creates an email device for the user's address.\n" +
			"The device is created confirmed: django-otp ignores unconfirmed devices, and the user never runs the " +
			"setup wizard that would confirm an admin-made one. A user with a confirmed device is refused (exit 4) " +
			"unless --replace, which deletes every existing device in the same transaction.",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.method != client.MethodTOTP && o.method != client.MethodEmail {
				return usageErrorf("--method must be totp or email, got %q", o.method)
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
			res, err := c.EnableTwoFA(ctx, f.Audit(o.m.Reason), u, client.EnableTwoFAOptions{
				Method: o.method, Name: o.name, Replace: o.replace, DryRun: o.m.DryRun})
			if err != nil {
				return err
			}
			out := twoFAEnableResult{UserID: res.UserID, Email: res.Email, Method: res.Method, Name: res.Name,
				Replaced: res.Replaced, DryRun: o.m.DryRun}
			if !o.m.DryRun {
				out.DeviceID = &res.DeviceID
			}
			if res.KeyHex != "" {
				d := totp.Device{KeyHex: res.KeyHex, Step: 30, Digits: 6}
				if out.OTPAuthURI, err = totp.ProvisioningURI(d, o.issuer, res.Email); err != nil {
					return err
				}
			}
			return writeTwoFAEnabled(f, fm, out, o.noQR)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.method, "method", "", "device kind: totp or email (required)")
	fl.StringVar(&o.issuer, "issuer", "B2BinPay", "issuer shown by authenticator apps (TOTP)")
	fl.StringVar(&o.name, "name", "default", "device name (django-otp's name field)")
	fl.BoolVar(&o.replace, "replace", false, "delete the user's existing devices first (same transaction)")
	fl.BoolVar(&o.noQR, "no-qr", false, "never draw the QR code, even on a terminal")
	_ = cmd.MarkFlagRequired("method")
	_ = cmd.RegisterFlagCompletionFunc("method", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{client.MethodTOTP, client.MethodEmail}, cobra.ShellCompDirectiveNoFileComp
	})
	addMutateFlags(cmd, &o.m)
	return cmd
}

// writeTwoFAEnabled prints the outcome: JSON formats get an object (with
// the URI for TOTP); other formats print the bare URI on stdout, so that
// `URI=$(b2badmin 2fa enable …)` works, and a summary on stderr.
func writeTwoFAEnabled(f *Factory, fm output.Format, out twoFAEnableResult, noQR bool) error {
	switch fm {
	case output.JSON:
		if err := output.WriteJSON(f.IO.Out, out); err != nil {
			return err
		}
	case output.JSONL:
		if err := writeJSONLine(f, out); err != nil {
			return err
		}
	default:
		if out.OTPAuthURI != "" {
			fmt.Fprintln(f.IO.Out, out.OTPAuthURI)
			if f.IO.OutTTY && !noQR {
				if err := writeQR(f.IO.Out, out.OTPAuthURI); err != nil {
					fmt.Fprintf(f.IO.ErrOut, "b2badmin: no QR code: %v\n", err)
				}
			}
		}
	}
	what := fmt.Sprintf("%s 2FA device %q", out.Method, out.Name)
	switch {
	case out.DryRun:
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: dry run: would create %s for %s (replacing %s); nothing changed\n", what, out.Email, kindsText(out.Replaced))
	default:
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: created %s (id %d) for %s (replaced %s)\n", what, *out.DeviceID, out.Email, kindsText(out.Replaced))
		if out.OTPAuthURI != "" {
			fmt.Fprintln(f.IO.ErrOut, "b2badmin: the URI above holds the secret and is shown only this once")
		}
	}
	return nil
}

func kindsText(k []string) string {
	if len(k) == 0 {
		return "none"
	}
	return strings.Join(k, ", ")
}
