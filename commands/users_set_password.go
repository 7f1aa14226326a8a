package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/b2badmin/b2badmin/client"
)

// setPasswordOptions are `users set-password`.
type setPasswordOptions struct {
	*Invocation
	Mutate     mutateFlags
	Select     selector
	Stdin      bool
	Unusable   bool
	Iterations int
	Force      bool
	Args       []string
	OutputSet  bool
}

// There is deliberately no --password flag: argv is visible to every user
// of the machine (ps, /proc) and lands in shell history.
func newCmdUsersSetPassword(inv *Invocation, runF func(context.Context, *setPasswordOptions) error) *cobra.Command {
	o := &setPasswordOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "set-password USER… | - | FILTERS",
		Short: "Set a user's password (prompted on a TTY, or --password-stdin); never from argv",
		Long: fmt.Sprintf(`Set a user's password, stored as Django's PBKDF2 hasher stores it
(pbkdf2_sha256$<iterations>$<salt>$<hash>, random 22-character salt), so
Django's check_password accepts it.

On a terminal the password is asked twice, without echo. Otherwise pass
--password-stdin and send it as the first line of stdin. At least %d
characters. --unusable stores an unusable password instead (the user can
no longer log in with a password); with --unusable, many users may be
given at once (arguments, - to read them from stdin, or the users list
filters), each getting its own random value. The operation log records that the password changed,
never the hash, so a password change cannot be undone. Changing the hash
also ends the user's Django sessions: each session carries an HMAC of the
old hash.`, client.MinPasswordLength),
		Example: "  printf '%s\\n' \"$NEW_PASSWORD\" | b2badmin users set-password michal42@ukr.net --password-stdin\n" +
			"  b2badmin users set-password 42 --unusable --reason 'account handed over'",
		Annotations: selectsAnnotation(ArgUser),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			// Cobra checks required flags after PreRunE; their values are judged here.
			if err := validateFlagRules(cmd); err != nil {
				return err
			}
			if err := o.Mutate.validate(); err != nil {
				return err
			}
			return checkIterations(o.Iterations, o.Force)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args, o.OutputSet = args, cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runSetPassword)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Stdin, "password-stdin", false, "read the password from the first line of stdin")
	fl.BoolVar(&o.Unusable, "unusable", false, "store an unusable password ('!' + 40 random characters)")
	fl.IntVar(&o.Iterations, "iterations", client.DefaultIterations, "PBKDF2 iterations (Django 5.2 LTS default)")
	fl.BoolVar(&o.Force, "force", false, "allow --iterations below Django 4.2's default (600000)")
	addMutateFlags(cmd, &o.Mutate)
	addSelectorFlags(inv, cmd, &o.Select)
	cmd.MarkFlagsMutuallyExclusive("password-stdin", "unusable")
	return cmd
}

// checkIterations refuses a PBKDF2 count no supported Django would choose
// (4.2, the oldest supported LTS, uses 600,000) unless --force.
func checkIterations(n int, force bool) error {
	if n < 1 || n > 100_000_000 {
		return usageErrorf("invalid --iterations %d: want 1 to 100000000", n)
	}
	if n < client.MinDjangoIterations && !force {
		return client.Refused("refused: --iterations %d is below Django 4.2's default of %d; pass --force to store a weaker hash", n, client.MinDjangoIterations)
	}
	return nil
}

func runSetPassword(ctx context.Context, o *setPasswordOptions) error {
	if err := refuseReadOnly(o.Invocation); err != nil {
		return err
	}
	many := len(o.Args) != 1 || o.Args[0] == "-" || o.Select.given()
	if many && !o.Unusable {
		return usageError("several users (or -) need --unusable: one password for many accounts is refused")
	}
	var encoded string
	if !o.Unusable {
		pw, err := readNewPassword(o.Invocation, o.Stdin)
		if err != nil {
			return err
		}
		if err := client.CheckPasswordPolicy(pw); err != nil {
			return err
		}
		if encoded, err = client.HashPassword(pw, o.Iterations, client.NewSalt()); err != nil {
			return err
		}
	}
	t, err := userTargets(o.Invocation, o.Args, &o.Mutate, &o.Select)
	if err != nil {
		return err
	}
	c, err := o.Client(ctx)
	if err != nil {
		return err
	}
	a, opts := o.Audit(o.Mutate.Reason), o.Mutate.options(o.Invocation, "users set-password")
	var res client.ChangeResult
	if o.Unusable {
		res, err = c.SetUnusablePasswords(ctx, a, t, opts)
	} else {
		res, err = c.SetPassword(ctx, a, t.Refs[0], encoded, opts)
	}
	if err != nil {
		return err
	}
	return reportChange(o.Invocation, o.OutputSet, res, changeReport{done: "set the password of"})
}

// readNewPassword gets the password from stdin's first line or, on a
// terminal, from two no-echo prompts that must agree.
func readNewPassword(inv *Invocation, fromStdin bool) (string, error) {
	if fromStdin {
		r := bufio.NewReaderSize(io.LimitReader(inv.IO.In, client.MaxPasswordLength+2), client.MaxPasswordLength+2)
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		if !strings.HasSuffix(line, "\n") && len(line) > client.MaxPasswordLength {
			return "", client.Refused("refused: the password is longer than %d bytes", client.MaxPasswordLength)
		}
		return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
	}
	if !inv.IO.InTTY {
		return "", usageError("no terminal to ask for the password: pass --password-stdin (never put a password on the command line)")
	}
	first, err := promptSecret(inv, "New password: ")
	if err != nil {
		return "", err
	}
	second, err := promptSecret(inv, "New password (again): ")
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
var promptSecret = func(inv *Invocation, prompt string) (string, error) {
	file, ok := inv.IO.In.(interface{ Fd() uintptr }) // *os.File or the process's stdin stream
	if !ok {
		return "", usageError("stdin is not a terminal: pass --password-stdin")
	}
	errOut := immediate(inv.IO.ErrOut)
	fmt.Fprint(errOut, prompt)
	b, err := term.ReadPassword(int(file.Fd()))
	fmt.Fprintln(errOut)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
