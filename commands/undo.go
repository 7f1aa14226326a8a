package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// undoOptions are `undo`.
type undoOptions struct {
	*Invocation
	Mutate        mutateFlags
	Users         []string
	SkipConflicts bool
	Partial       bool
	RestoreTokens bool
	Run           string
	OutputSet     bool
}

func newCmdUndo(inv *Invocation, runF func(context.Context, *undoOptions) error) *cobra.Command {
	o := &undoOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "undo RUN",
		Short: "Reverse every change of a run, as a new run (refusing over later changes)",
		Long: `Reverse every change a run made (RUN: the id "b2badmin log runs" lists,
or a prefix of it that only it has, 8 characters or more), in one
transaction, as a new run that records the run it reverts. The change list
is the exact reverse: --dry-run prints it and changes nothing.

For each user and field, the value now must be the one the run left: if
someone changed it since, that is a conflict, and the undo refuses as a
whole (exit 4), listing each one, unless --skip-conflicts, which undoes
the other users and reports the skipped. A field already back as before
the run (an earlier undo) is left alone, so undoing a partly undone run
undoes what remains, and undoing an undo re-applies the run.

What cannot be restored is named before anything runs: a password (no
hash is logged) and deleted 2FA devices (no key is logged) need --partial.
Deleted Django sessions cannot come back either (the users log in again);
they are named, not refused. Refresh tokens a deactivation blacklisted are
un-blacklisted only with --restore-tokens, and only those still blacklisted
and unexpired. Undoing an activation deactivates again, revoking API access
as users deactivate does.`,
		Example: "  b2badmin users deactivate --last-login-before 18d --type merchant --active --reason OPS-42 --yes\n" +
			"  b2badmin log runs --command deactivate --since 1d\n" +
			"  b2badmin undo \"$(b2badmin log runs --command deactivate --limit 1 --jq '.[0].id')\" --dry-run\n" +
			"  b2badmin undo \"$(b2badmin log runs --command deactivate --limit 1 --jq '.[0].id')\" --restore-tokens --yes --reason 'OPS-42 rollback'",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgOther),
		PreRunE:     func(*cobra.Command, []string) error { return o.Mutate.validate() },
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Run, o.OutputSet = args[0], cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runUndo)
		},
	}
	addSafetyFlags(cmd, &o.Mutate)
	fl := cmd.Flags()
	fl.StringSliceVar(&o.Users, "user", nil, "undo only for these users (ID, email or UUID; repeatable; - reads them from stdin)")
	fl.BoolVar(&o.SkipConflicts, "skip-conflicts", false, "undo the users without conflicts and report the others")
	fl.BoolVar(&o.Partial, "partial", false, "undo what can be undone when a password or deleted 2FA devices cannot be restored")
	fl.BoolVar(&o.RestoreTokens, "restore-tokens", false, "un-blacklist the unexpired refresh tokens the run blacklisted")
	return cmd
}

func runUndo(ctx context.Context, o *undoOptions) error {
	if err := refuseReadOnly(o.Invocation); err != nil {
		return err
	}
	users, err := readUserArgs(o.Invocation, o.Users)
	if err != nil {
		return err
	}
	c, err := o.Client(ctx)
	if err != nil {
		return err
	}
	res, err := c.Undo(ctx, o.Audit(o.Mutate.Reason), o.Run,
		client.UndoOptions{Users: users, SkipConflicts: o.SkipConflicts, Partial: o.Partial, RestoreTokens: o.RestoreTokens},
		o.Mutate.options(o.Invocation, "undo"))
	var conflicts *client.ConflictError
	if errors.As(err, &conflicts) {
		for _, cf := range conflicts.Conflicts {
			fmt.Fprintf(o.IO.ErrOut, "b2badmin: conflict: user %d (%s) %s: the run left %s, now %s\n",
				cf.UserID, cf.Email, cf.Field, mustJSON(cf.RunAfter), mustJSON(cf.Current))
		}
	}
	if err != nil {
		return err
	}
	for _, cf := range res.Conflicts {
		o.notef("skipped user %d (%s): %s changed since the run (it left %s, now %s)", cf.UserID, cf.Email, cf.Field, mustJSON(cf.RunAfter), mustJSON(cf.Current))
	}
	for _, l := range res.Lost {
		o.notef("not restored: %s", l)
	}
	for _, n := range res.Notes {
		o.notef("%s", n)
	}
	return reportChange(o.Invocation, o.OutputSet, res.ChangeResult, changeReport{done: "undid run " + res.Reverts + " for", undone: "undone run " + res.Reverts + " for",
		// As before the run, or holding only what cannot come back (--partial).
		unchanged: "have nothing to undo", unchangedOne: "has nothing to undo"})
}
