package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// mutateFlags are the safety flags every mutating command takes.
type mutateFlags struct {
	DryRun      bool
	Yes         bool
	MaxAffected int
	Reason      string
	SkipMissing bool
}

func addMutateFlags(cmd *cobra.Command, m *mutateFlags) {
	addSafetyFlags(cmd, m)
	cmd.Flags().BoolVar(&m.SkipMissing, "skip-missing", false, "change the users that exist and list the missing ones on stderr (else a missing user refuses all, exit 3)")
}

// addSafetyFlags are --dry-run, --yes, --max-affected and --reason.
func addSafetyFlags(cmd *cobra.Command, m *mutateFlags) {
	withColumns(cmd, changeColumns) // what --dry-run and -o print (changes.go)
	fl := cmd.Flags()
	fl.BoolVar(&m.DryRun, "dry-run", false, "show the exact change list and change nothing (the same statements run, then roll back)")
	fl.BoolVarP(&m.Yes, "yes", "y", false, "confirm a change to more than one user without a prompt")
	fl.IntVar(&m.MaxAffected, "max-affected", 0, "refuse a change that would change more than N users (0 = no limit)")
	fl.StringVar(&m.Reason, "reason", "", "why: recorded in the operation log")
}

// validate checks the flags' values before anything runs.
func (m *mutateFlags) validate() error {
	if m.MaxAffected < 0 {
		return usageErrorf("invalid --max-affected %d: want 0 (no limit) or more", m.MaxAffected)
	}
	return client.CheckReason(m.Reason)
}

// options turns the flags into the change engine's options. The
// confirmation runs inside the change, once its users are locked and
// counted: what is confirmed is what is changed.
func (m *mutateFlags) options(inv *Invocation, what string) client.ChangeOptions {
	return client.ChangeOptions{
		DryRun:      m.DryRun,
		MaxAffected: m.MaxAffected,
		Confirm: func(ctx context.Context, p client.Preview) error {
			return confirmChange(ctx, inv, m, p, what)
		},
	}
}

// maxUserArgs bounds how many user references one command reads, so a
// runaway pipe fails clearly instead of exhausting memory.
const maxUserArgs = 10_000_000

// maxRefLine bounds one line of a list of users on stdin.
const maxRefLine = 4096

// readUserArgs returns the user references of args; a "-" reads one
// reference per line from stdin (blank lines and # comments skipped, a
// byte-order mark on the first line ignored: lists exported from
// spreadsheets start with one).
func readUserArgs(inv *Invocation, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a != "-" {
			out = append(out, a)
			continue
		}
		refs, err := readRefLines(inv.IO.In)
		if err != nil {
			return nil, err
		}
		if len(out)+len(refs) > maxUserArgs {
			return nil, usageErrorf("stdin: more than %d users", maxUserArgs)
		}
		out = append(out, refs...)
	}
	return out, nil
}

func readRefLines(in io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxRefLine)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if line == 1 {
			s = client.TrimBOM(s)
		}
		s = strings.TrimSpace(s)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if len(out) >= maxUserArgs {
			return nil, usageErrorf("stdin: more than %d users", maxUserArgs)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, usageErrorf("stdin line %d: longer than %d bytes (one ID, email or UUID per line)", line+1, maxRefLine)
		}
		return nil, usageErrorf("stdin line %d: %v", line+1, err)
	}
	return out, nil
}

// userTargets reads the target users of a mutating command: its user
// arguments, or the users its selector (the users list filters) matches,
// never both. No user and no filter is a usage error (exit 2): nobody
// changes every account by leaving a variable empty.
func userTargets(inv *Invocation, args []string, m *mutateFlags, sel *selector) (client.Targets, error) {
	if sel != nil && sel.given() {
		if len(args) > 0 {
			return client.Targets{}, usageErrorf("give users (%s) or filters, not both: to narrow a list, pipe users list FILTERS -o ids --all into -", strings.Join(args, " "))
		}
		f, err := sel.filter(time.Now())
		if err != nil {
			return client.Targets{}, err
		}
		t := client.Targets{Filter: &f}
		if t.Empty() {
			return client.Targets{}, usageError("the filters given select nothing in particular (empty values): name the users to change")
		}
		return t, nil
	}
	refs, err := readUserArgs(inv, args)
	if err != nil {
		return client.Targets{}, err
	}
	if len(refs) == 0 {
		return client.Targets{}, usageError("no users given: pass IDs, emails or UUIDs, - to read them from stdin, or filters (see users list --help)")
	}
	return client.Targets{Refs: refs, SkipMissing: m.SkipMissing}, nil
}

// minArgs is cobra.MinimumNArgs(n) for a USER ARG... command, n-1 when a
// selector replaces the user.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if selectorGiven(cmd) {
			n--
		}
		return cobra.MinimumNArgs(n)(cmd, args)
	}
}

// splitUserArgs splits a USER ARG... command's positionals into the user
// and the rest; given a selector, every positional is of the rest.
func splitUserArgs(cmd *cobra.Command, args []string) (users, rest []string) {
	if selectorGiven(cmd) || len(args) == 0 {
		return nil, args
	}
	return args[:1], args[1:]
}

// confirmChange applies the blast-radius rule to a change of p.Users
// users: more than one needs a yes on a terminal, or --yes without one
// (exit 2), except inside a batch, whose file is the confirmation. The
// prompt names the database, the first users and what cannot be undone.
func confirmChange(ctx context.Context, inv *Invocation, m *mutateFlags, p client.Preview, what string) error {
	if p.Users <= 1 || m.Yes || (inv.Batch != nil && inv.Batch.Confirmed) {
		return nil
	}
	ask, ok := inv.prompter()
	if !ok {
		return usageErrorf("%s would change %s of %s: pass --yes to confirm (no terminal to ask)", what, plural(p.Users, "user"), inv.Target())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "b2badmin: %s will change %s of %s: %s\n", what, plural(p.Users, "user"), inv.Target(), userList(p.First, p.Users))
	if len(p.Lost) > 0 {
		fmt.Fprintf(&b, "b2badmin: an undo cannot bring back: %s\n", strings.Join(p.Lost, "; "))
	}
	b.WriteString("Continue? [y/N] ")
	answer, err := ask(ctx, b.String())
	if err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return &ExitError{Code: ExitUsage, Msg: "aborted: not confirmed; nothing was written"}
}

// prompter returns a way to ask the user a question: stdin when it is a
// terminal, else the controlling terminal (when stdin carries the list of
// users), if stderr is one too.
func (inv *Invocation) prompter() (func(ctx context.Context, q string) (string, error), bool) {
	if !inv.IO.ErrTTY {
		return nil, false
	}
	in, closeIn := inv.IO.In, func() {}
	if !inv.IO.InTTY {
		tty, err := os.Open("/dev/tty")
		if err != nil {
			return nil, false
		}
		in, closeIn = tty, func() { tty.Close() }
	}
	return func(ctx context.Context, q string) (string, error) {
		defer closeIn()
		fmt.Fprint(inv.IO.ErrOut, q)
		answer := make(chan string, 1)
		go func() {
			s, _ := bufio.NewReader(in).ReadString('\n')
			answer <- s
		}()
		select {
		case s := <-answer:
			return s, nil
		case <-ctx.Done():
			fmt.Fprintln(inv.IO.ErrOut)
			return "", ctx.Err()
		}
	}, true
}

// refuseReadOnly stops a mutation before any SQL is sent.
func refuseReadOnly(inv *Invocation) error {
	if inv.ReadOnly() {
		return client.Refused("refused: read-only mode (--read-only or a read_only profile) allows no changes")
	}
	return nil
}

// runCmd runs a command's run function (or the test's runF) under the
// command's context (--timeout, signals).
func runCmd[O any](cmd *cobra.Command, inv *Invocation, opts O, runF, run func(context.Context, O) error) error {
	ctx, cancel := commandContext(cmd, inv)
	defer cancel()
	if runF != nil {
		return runF(ctx, opts)
	}
	return run(ctx, opts)
}

// validateFlagRules applies the flag rules Cobra would check after PreRunE
// (required flags, mutually exclusive ones), for a PreRunE that judges
// those flags' values: a missing flag is a usage error, not a bad value.
func validateFlagRules(cmd *cobra.Command) error {
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return err
	}
	return cmd.ValidateFlagGroups()
}
