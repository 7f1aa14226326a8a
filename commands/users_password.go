package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/b2badmin/b2badmin/client"
)

type setPasswordOptions struct {
	m          mutateFlags
	stdin      bool
	unusable   bool
	iterations int
}

// There is deliberately no --password flag: argv is visible to every user
// of the machine (ps, /proc) and lands in shell history.
func newUsersSetPasswordCmd(f *Factory) *cobra.Command {
	o := &setPasswordOptions{}
	cmd := &cobra.Command{
		Use:   "set-password USER…",
		Short: "Set a user's password (prompted on a TTY, or --password-stdin); never from argv",
		Long: fmt.Sprintf(`Set a user's password, stored as Django's PBKDF2 hasher stores it
(pbkdf2_sha256$<iterations>$<salt>$<hash>, random 22-character salt), so
Django's check_password accepts it.

On a terminal the password is asked twice, without echo. Otherwise pass
--password-stdin and send it as the first line of stdin. At least %d
characters. --unusable stores an unusable password instead (the user can
no longer log in with a password); with --unusable, many users may be
given at once (arguments, or - to read them from stdin), each getting its
own random value. The operation log records that the
password changed, never the hash. Changing the hash also ends the user's
Django sessions: each session carries an HMAC of the old hash.`, client.MinPasswordLength),
		Example: "  printf '%s\\n' \"$NEW_PASSWORD\" | b2badmin users set-password alice@example.com --password-stdin\n" +
			"  b2badmin users set-password 42 --unusable --reason 'account handed over'",
		Args:        cobra.MinimumNArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || args[0] == "-" {
				return runSetUnusableMany(f, cmd, o, args)
			}
			return runSetPassword(f, cmd, o, args[0])
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.stdin, "password-stdin", false, "read the password from the first line of stdin")
	fl.BoolVar(&o.unusable, "unusable", false, "store an unusable password ('!' + 40 random characters)")
	fl.IntVar(&o.iterations, "iterations", client.DefaultIterations, "PBKDF2 iterations (Django 5.2 LTS default)")
	addMutateFlags(cmd, &o.m)
	cmd.MarkFlagsMutuallyExclusive("password-stdin", "unusable")
	return cmd
}

func runSetPassword(f *Factory, cmd *cobra.Command, o *setPasswordOptions, ref string) error {
	if err := refuseReadOnly(f); err != nil {
		return err
	}
	if o.iterations < 1 || o.iterations > 100_000_000 {
		return client.Refused("invalid --iterations %d: want 1 to 100000000", o.iterations)
	}
	var encoded string
	if o.unusable {
		encoded = client.UnusablePassword()
	} else {
		pw, err := readNewPassword(f, o.stdin)
		if err != nil {
			return err
		}
		if err := client.CheckPasswordPolicy(pw); err != nil {
			return err
		}
		if encoded, err = client.HashPassword(pw, o.iterations, client.NewSalt()); err != nil {
			return err
		}
	}
	ctx, cancel := commandContext(cmd, f)
	defer cancel()
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	res, err := c.SetPassword(ctx, f.Audit(o.m.Reason), ref, encoded, o.m.DryRun)
	if err != nil {
		return err
	}
	return reportChanges(f, cmd, o.m.DryRun, "set the password of", []client.Change{res.Change}, nil, "", "")
}

// runSetUnusableMany is set-password for many users: only --unusable makes
// sense there (one known password shared by many accounts does not).
func runSetUnusableMany(f *Factory, cmd *cobra.Command, o *setPasswordOptions, args []string) error {
	if !o.unusable {
		return usageError("several users (or -) need --unusable: one password for many accounts is refused")
	}
	if err := refuseReadOnly(f); err != nil {
		return err
	}
	refs, err := readUserArgs(f, args)
	if err != nil {
		return err
	}
	if err := confirmChange(f, &o.m, len(refs), "set-password --unusable"); err != nil {
		return err
	}
	ctx, cancel := commandContext(cmd, f)
	defer cancel()
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	changes, err := c.SetUnusablePasswords(ctx, f.Audit(o.m.Reason), refs, o.m.DryRun)
	if err != nil {
		return err
	}
	return reportChanges(f, cmd, o.m.DryRun, "set the password of", changes, nil, "", "")
}

// readNewPassword gets the password from stdin's first line or, on a
// terminal, from two no-echo prompts that must agree.
func readNewPassword(f *Factory, fromStdin bool) (string, error) {
	if fromStdin {
		r := bufio.NewReaderSize(io.LimitReader(f.IO.In, client.MaxPasswordLength+2), client.MaxPasswordLength+2)
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		if !strings.HasSuffix(line, "\n") && len(line) > client.MaxPasswordLength {
			return "", client.Refused("refused: the password is longer than %d bytes", client.MaxPasswordLength)
		}
		return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
	}
	if !f.IO.InTTY {
		return "", usageError("no terminal to ask for the password: pass --password-stdin (never put a password on the command line)")
	}
	first, err := promptSecret(f, "New password: ")
	if err != nil {
		return "", err
	}
	second, err := promptSecret(f, "New password (again): ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", client.Refused("refused: the two passwords differ; nothing was changed")
	}
	return first, nil
}

// promptSecret reads one line without echo from the terminal on stdin.
// Tests replace it: a test cannot own a real terminal.
var promptSecret = func(f *Factory, prompt string) (string, error) {
	file, ok := f.IO.In.(*os.File)
	if !ok {
		return "", usageError("stdin is not a terminal: pass --password-stdin")
	}
	fmt.Fprint(f.IO.ErrOut, prompt)
	b, err := term.ReadPassword(int(file.Fd()))
	fmt.Fprintln(f.IO.ErrOut)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
