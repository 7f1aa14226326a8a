// Package commands is b2badmin's Cobra command tree. Commands parse flags,
// call one service-layer method and hand the result to a renderer; only
// Main turns errors into exit codes.
package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// nouns are the top-level commands, by name and aliases, so that a batch
// line can build only the branch of the tree it runs.
type noun struct {
	names []string
	build func(*Invocation) *cobra.Command
	// forVerb, when set, builds the noun with only the verb a batch line
	// names (or with all of them when the word is not one of its verbs).
	forVerb func(inv *Invocation, verb string) *cobra.Command
}

// nouns is a function, not a variable: batch builds trees from it, and
// batch is itself one of the nouns (an initialisation cycle otherwise).
func nouns() []noun {
	return []noun{
		{[]string{"db"}, newDBCmd, nil},
		{[]string{"users", "user"}, newUsersCmd, newUsersCmdFor},
		{[]string{"groups", "group"}, newGroupsCmd, nil},
		{[]string{"perms"}, newPermsCmd, newPermsCmdFor},
		{[]string{"2fa", "twofa"}, newTwoFACmd, newTwoFACmdFor},
		{[]string{"commissions", "commission"}, newCommissionsCmd, newCommissionsCmdFor},
		{[]string{"log"}, newLogCmd, nil},
		{[]string{"undo"}, func(inv *Invocation) *cobra.Command { return newCmdUndo(inv, nil) }, nil},
		{[]string{"access"}, newAccessCmd, nil},
		{[]string{"batch"}, newBatchCmd, nil},
		{[]string{"shell"}, newShellCmd, nil},
		{[]string{"completion"}, func(inv *Invocation) *cobra.Command { return newCmdCompletion(inv, nil) }, nil},
		{[]string{"version"}, func(inv *Invocation) *cobra.Command { return newCmdVersion(inv, nil) }, nil},
		{[]string{"config"}, newConfigCmd, nil},
	}
}

// NewRootCmd builds a fresh command tree for one invocation. Cobra keeps
// flag values between executions of one tree, so a batch builds one per line.
func NewRootCmd(inv *Invocation) *cobra.Command { return newRootCmd(inv, nil) }

// newLineRootCmd builds the tree for one command line, with only the noun
// the line names when that is plain to see (its first word). Building the
// whole tree costs ~90 µs, a third of a batch line's own CPU time; a line
// whose first word is a flag or unknown gets the whole tree, so errors and
// help read exactly as on the command line.
func newLineRootCmd(inv *Invocation, args []string) *cobra.Command {
	if len(args) == 0 {
		return newRootCmd(inv, nil)
	}
	n, ok := findNoun(nouns(), args[0])
	if !ok {
		return newRootCmd(inv, nil)
	}
	if n.forVerb != nil && len(args) > 1 {
		verb := args[1]
		return newRootCmd(inv, func(inv *Invocation) *cobra.Command { return n.forVerb(inv, verb) })
	}
	return newRootCmd(inv, n.build)
}

func newRootCmd(inv *Invocation, only func(*Invocation) *cobra.Command) *cobra.Command {
	g := inv.Global
	root := &cobra.Command{
		Use:           "b2badmin",
		Short:         "Administer the Users area of a B2BinPay-style back office from the terminal",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLine(inv, cmd, args); err != nil {
				return err
			}
			g.LockTimeoutSet = cmd.Flags().Changed("lock-timeout")
			if err := inv.loadProfile(); err != nil {
				return err
			}
			return inv.setupOutput(cmd)
		},
		Version: buildInfo().String(),
		Long: `Administer the Users area of a B2BinPay-style back office from the terminal.

Every example of this help runs as written on the data "make demo" seeds
(users such as 42, michal42@ukr.net), from the repository's directory (files
under examples/); an example that exits non-zero on purpose says so in a
trailing "# exit N" comment.`,
		// commands/examples_test.go runs every Example of the tree.
		Example: `  b2badmin users list --group 'Merchant owner' --active --limit 5
  b2badmin users show michal42@ukr.net
  b2badmin users deactivate 42 --reason OPS-1234 --dry-run
  b2badmin perms audit --policy examples/policy.yaml -o github     # exit 5: findings
  b2badmin help users`,
	}
	root.SetVersionTemplate("b2badmin {{.Version}}\n")
	root.SetIn(inv.IO.In)
	root.SetOut(inv.IO.Out)
	root.SetErr(inv.IO.ErrOut)
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newHelpCmd()) // help.go: a mistyped topic fails like a mistyped command

	pf := root.PersistentFlags()
	// Cobra merges these into every command, up to three times a batch line,
	// and pflag sorts a set on each visit when SortFlags is on: a tenth of
	// a line's CPU. Help and docs list flags from sets of their own, sorted.
	pf.SortFlags = false
	pf.StringVar(&g.DSN, "dsn", "", "PostgreSQL connection string (else B2BADMIN_DSN, DATABASE_URL, PG* variables); behind PgBouncer add default_query_exec_mode=exec (docs/scale.md)")
	pf.StringVar(&g.ReadDSN, "read-dsn", "", "replica for read-only commands (list, show, audit, log)")
	pf.StringVar(&g.Profile, "profile", "", "named profile from the config file (else B2BADMIN_PROFILE)")
	pf.StringVar(&g.Config, "config", "", "config file (default $XDG_CONFIG_HOME/b2badmin/config.yaml)")
	pf.StringVarP(&g.Output, "output", "o", "table", "output format: "+strings.Join(output.FormatNames(), "|"))
	pf.StringSliceVar(&g.Columns, "columns", nil, "columns to print, in order (comma-separated)")
	pf.BoolVar(&g.NoHeaders, "no-headers", false, "omit the header row of table, CSV and TSV output")
	pf.BoolVar(&g.Raw, "raw", false, "CSV/TSV: write values exactly as stored (no ' before a formula, no \\xNN for control characters)")
	pf.BoolVar(&g.Debug, "debug", false, "log each SQL statement and its duration to stderr")
	pf.StringVar(&g.Actor, "actor", "", "who the operation log records (else B2BADMIN_ACTOR, else $USER@host)")
	pf.DurationVar(&g.Timeout, "timeout", 0, "give up after this long (e.g. 30s; 0 = no limit)")
	pf.DurationVar(&g.LockTimeout, "lock-timeout", DefaultLockTimeout, "fail a statement that waits longer than this for another session's lock (0 = wait for ever; else the profile's lock_timeout)")
	pf.BoolVar(&g.ReadOnly, "read-only", false, "refuse every change; the connection is read-only too")
	addOutputFlags(pf, g)
	completeFlag(inv, root, "output", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		if ownOutputOnly(cmd) {
			return []string{string(output.Table)}, cobra.ShellCompDirectiveNoFileComp
		}
		return output.FormatNames(), cobra.ShellCompDirectiveNoFileComp
	})

	if only != nil {
		root.AddCommand(only(inv))
	} else {
		for _, n := range nouns() {
			root.AddCommand(n.build(inv))
		}
	}
	requireSubcommands(root)
	installCompletions(root, inv)
	return root
}

// loadProfile reads the config file (once per process) and picks the
// profile for this invocation.
func (inv *Invocation) loadProfile() error {
	g, f := inv.Global, inv.Factory
	f.mu.Lock()
	if f.config == nil {
		path := ConfigPath(g.Config, f.Getenv)
		cfg, err := LoadConfig(path, g.Config != "" || f.Getenv("B2BADMIN_CONFIG") != "")
		if err != nil {
			f.mu.Unlock()
			return usageError(err.Error())
		}
		f.config = cfg
		if w := cfg.exposedPasswords(); w != "" {
			fmt.Fprintln(inv.IO.ErrOut, "b2badmin: warning: "+w)
		}
	}
	cfg := f.config
	f.mu.Unlock()
	name := g.Profile
	if name == "" {
		name = f.Getenv("B2BADMIN_PROFILE")
	}
	p, err := cfg.Resolve(name)
	if err != nil {
		return err
	}
	inv.profile = p
	if _, err := inv.OutputFormat(); err != nil {
		return err
	}
	return nil
}

// Main runs b2badmin with args and returns the process exit code.
func Main(args []string) int {
	streams := processStreams()
	f := NewFactory(streams, os.Getenv)
	f.LookupEnv = os.LookupEnv
	defer f.Close()
	// The handlers stay until the process exits: a signal that lands
	// after the command returned changes nothing it reported (restoring
	// the default action would let it kill the process with 143 after a
	// summary that said "committed").
	ctx, _ := signalContext(func(se *signalError) { hardExit(se, f.releaseHeld) })
	defer streams.watch(ctx)()
	return Execute(ctx, f, args)
}

// Execute runs one command line on f and maps its error to an exit code,
// writing the one-line diagnostic. Batch calls it for every line.
func Execute(ctx context.Context, f *Factory, args []string) int {
	inv := f.NewInvocation(f.IO, args, nil)
	root := NewRootCmd(inv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code, msg := classify(err)
	if se := interruptedBy(ctx); se != nil {
		// Whatever the command made of it, a run a signal ended exits as
		// the shell expects of one: 130 for SIGINT, 143 for SIGTERM.
		code = se.ExitCode()
		if msg == interruptedMsg {
			msg = "interrupted by " + signalName(se.sig) + "; nothing was committed by the interrupted statement"
		}
	}
	if msg != "" {
		fmt.Fprintln(f.IO.ErrOut, "b2badmin: "+oneLine(msg))
	}
	return code
}

const interruptedMsg = "interrupted; nothing was committed by the interrupted statement"

// classify maps an error to its exit code and message.
func classify(err error) (int, string) {
	var usage *UsageError
	var exit *ExitError
	var conn *client.ConnectError
	switch {
	case errors.Is(err, ErrSilent):
		return ExitFailure, ""
	case errors.As(err, &exit):
		return exit.Code, exit.Msg
	case errors.As(err, &usage):
		return ExitUsage, usage.Msg
	case errors.As(err, &conn):
		return ExitFailure, conn.Msg
	case errors.Is(err, client.ErrNotFound):
		return ExitNotFound, err.Error()
	case client.IsRefused(err):
		return ExitRefused, err.Error()
	case errors.Is(err, context.Canceled):
		return ExitFailure, interruptedMsg
	case errors.Is(err, context.DeadlineExceeded):
		return ExitFailure, "timed out (--timeout); the interrupted change was rolled back"
	case isCobraUsage(err):
		return ExitUsage, err.Error()
	}
	if msg, ok := explain(err); ok {
		return ExitFailure, msg
	}
	return ExitFailure, client.Scrub(err.Error())
}

// isCobraUsage recognises the errors Cobra itself returns for a bad command
// line (it has no error types for them).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "requires exactly", "invalid argument", "flag needs an argument", "required flag", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", "; ")
}

// commandContext applies --timeout to a command's context.
func commandContext(cmd *cobra.Command, inv *Invocation) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var cancel context.CancelFunc
	if t := inv.Global.Timeout; t > 0 {
		ctx, cancel = context.WithTimeout(ctx, t)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	// Blocked output or input must not outlive --timeout (interrupt.go).
	unwatch := inv.IO.watch(ctx)
	return ctx, func() { unwatch(); cancel() }
}
