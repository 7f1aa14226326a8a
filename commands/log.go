package commands

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/internal/suggest"
	"github.com/b2badmin/b2badmin/output"
)

// logColumns is the shape of `log` output. JSON keys:
// id, created_at (RFC 3339 UTC), actor, action, user_id, email (the user's
// current email), before and after (the changed fields as JSON objects,
// side effects included), detail (what the change created, e.g. a device
// id), reason, command, run_id, batch_file, batch_line.
var logColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "created_at", Header: "Time", Default: true},
	{Key: "actor", Header: "Actor", Default: true},
	{Key: "action", Header: "Action", Default: true},
	{Key: "user_id", Header: "User ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "before", Header: "Before", Default: true},
	{Key: "after", Header: "After", Default: true},
	{Key: "reason", Header: "Reason", Default: true},
	{Key: "detail", Header: "Detail"},
	{Key: "command", Header: "Command"},
	{Key: "run_id", Header: "Run"},
	{Key: "batch_file", Header: "Batch file"},
	{Key: "batch_line", Header: "Batch line"},
}

// rawJSON prints as itself in JSON output and as its text in tables/CSV.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}
func (r rawJSON) String() string { return string(r) }

// logOptions are `log`.
type logOptions struct {
	*Invocation
	user, actor, action, since, until, run, reason string
	limit                                          int
	limitSet                                       bool
	emptyRef                                       string // a --run or --user given as ""
	reverse                                        bool
}

func newLogCmd(inv *Invocation) *cobra.Command {
	o := &logOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "log",
		Short: "The operation log: every change b2badmin made, newest first",
		Long: `The operation log: every change b2badmin made, one row per user per
action, with the changed fields' before and after values (side effects
included: tokens blacklisted, sessions deleted, 2FA devices deleted), the
actor, the reason, the command line, the run and (for batch lines) the
batch file and line.

--since and --until take ` + timeHelp + `; --until is exclusive
(a day given to --until is included whole). --action takes the full name
(users.deactivate) or the verb (deactivate). --run lists exactly one run's
rows (all of them unless --limit). "b2badmin log runs" lists the runs.`,
		Example: "  b2badmin users deactivate michal42@ukr.net --reason 'OPS-1234 duplicate account'\n" +
			"  b2badmin log --user michal42@ukr.net\n" +
			"  b2badmin log --action deactivate --since 7d --jq '.[].reason'\n" +
			"  b2badmin log --run \"$(b2badmin log runs --limit 1 --jq '.[0].id')\" -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.limitSet = cmd.Flags().Changed("limit")
			for _, name := range []string{"run", "user"} {
				if fl := cmd.Flags().Lookup(name); fl.Changed && strings.TrimSpace(fl.Value.String()) == "" {
					o.emptyRef = name
				}
			}
			return runCmd(cmd, inv, o, nil, runLog)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.user, "user", "", "only changes to this user (ID, email or UUID)")
	// Shadows the global --actor (who a change is recorded as): log changes nothing.
	fl.StringVar(&o.actor, "actor", "", "only changes made by this actor (exact)")
	fl.StringVar(&o.action, "action", "", "only this action (users.update, deactivate, add-group, ...)")
	fl.StringVar(&o.since, "since", "", "only changes at or after this time: "+timeHelp)
	fl.StringVar(&o.until, "until", "", "only changes before this time: "+timeHelp)
	fl.StringVar(&o.run, "run", "", "only the changes of this run (its id, or a prefix of it that only it has, 8 characters or more)")
	fl.StringVar(&o.reason, "reason", "", "only changes whose reason contains this text (case-insensitive)")
	fl.IntVar(&o.limit, "limit", 100, "at most this many rows (0 = all; all by default with --run)")
	fl.BoolVar(&o.reverse, "reverse", false, "oldest first")
	cmd.AddCommand(newLogRunsCmd(inv))
	return withColumns(cmd, logColumns)
}

func runLog(ctx context.Context, o *logOptions) error {
	var flt client.LogFilter
	var err error
	now := time.Now()
	if flt.Since, err = parseTimePtr("--since", o.since, lowerBound, now); err != nil {
		return err
	}
	if flt.Until, err = parseTimePtr("--until", o.until, upperBound, now); err != nil {
		return err
	}
	if o.limit < 0 {
		return usageErrorf("--limit must be 0 (all) or more, got %d", o.limit)
	}
	// log --run "$RUN" with RUN unset must not list every run's changes.
	if o.emptyRef != "" {
		return usageErrorf("--%s is empty: give a %s, or leave the flag out to list every change", o.emptyRef, map[string]string{"run": "run id (b2badmin log runs lists them)", "user": "user ID, email or UUID"}[o.emptyRef])
	}
	if err := client.CheckText("--reason", o.reason, 4096); err != nil {
		return usageError(err.Error())
	}
	flt.Actor, flt.Action, flt.Reason = strings.TrimSpace(o.actor), strings.TrimSpace(o.action), o.reason
	// The actions are a fixed set: a typo must fail, not find nothing.
	if flt.Action != "" && !client.IsAction(flt.Action) {
		return usageErrorf("unknown action %q for --action%s", flt.Action, suggest.Phrase(flt.Action, client.ActionNames(), strconv.Quote))
	}
	flt.Limit, flt.Oldest = o.limit, o.reverse
	if o.run != "" && !o.limitSet {
		flt.Limit = 0
	}
	fm, p, err := o.selectColumns(logColumns)
	if err != nil {
		return err
	}
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	if o.user != "" {
		u, err := client.ResolveUser(ctx, c.DB(), o.user)
		if err != nil {
			return err
		}
		flt.UserID = &u.ID
	}
	if o.run != "" {
		if flt.RunID, err = c.ResolveRun(ctx, o.run); err != nil {
			return err
		}
	}
	w := output.NewRowWriter(fm, o.IO.Out, p, o.OutputOptions())
	err = c.ListLog(ctx, flt, func(e client.LogEntry) error {
		return w.Write([]any{e.ID, e.CreatedAt, e.Actor, e.Action, ptrOrNil(e.UserID), ptrOrNil(e.Email),
			rawJSON(e.Before), rawJSON(e.After), e.Reason, rawJSON(e.Detail), e.Command, ptrOrNil(e.RunID), e.BatchFile, ptrOrNil(e.BatchLine)})
	})
	if err != nil {
		return err
	}
	return w.Close()
}

// runColumns is the shape of `log runs`: one row per run, newest first.
var runColumns = output.Columns{
	{Key: "id", Header: "Run", Default: true},
	{Key: "started_at", Header: "Started", Default: true},
	{Key: "ended_at", Header: "Ended"},
	{Key: "actor", Header: "Actor", Default: true},
	{Key: "command", Header: "Command", Default: true},
	{Key: "target", Header: "Database"},
	{Key: "mode", Header: "Mode"},
	{Key: "outcome", Header: "Outcome", Default: true},
	{Key: "users_changed", Header: "Users", Default: true},
	{Key: "changes", Header: "Changes", Default: true},
	{Key: "tokens_blacklisted", Header: "Tokens blacklisted"},
	{Key: "sessions_deleted", Header: "Sessions deleted"},
	{Key: "devices_deleted", Header: "2FA devices deleted"},
	{Key: "batch_file", Header: "Batch file"},
	{Key: "batch_sha256", Header: "Batch SHA-256"},
	{Key: "last_line", Header: "Last line"},
	{Key: "reverts", Header: "Reverts", Default: true},
}

func runRow(r client.Run) []any {
	return []any{r.ID, r.StartedAt, ptrOrNil(r.EndedAt), r.Actor, r.Command, r.Target, r.Mode, r.Outcome,
		r.UsersChanged, r.Changes, r.TokensBlacklisted, r.SessionsDeleted, r.DevicesDeleted, r.BatchFile,
		r.BatchSHA256, ptrOrNil(r.LastLine), ptrOrNil(r.Reverts)}
}

// logRunsOptions are `log runs`.
type logRunsOptions struct {
	*Invocation
	actor, command, since, until string
	limit                        int
}

func newLogRunsCmd(inv *Invocation) *cobra.Command {
	o := &logRunsOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "The runs: one per invocation that wrote anything (a batch is one), newest first",
		Long: `The runs: one per invocation that changed anything, a whole batch being
one. Each shows who ran what against which database, how it ended
(committed, rolled back, partly committed: a default-mode batch that stopped,
with its last committed line; unfinished: still running, or killed), how
many users and log rows it changed, its side effects, and the run it
reverts (an undo). A dry run writes no run.
--since and --until take ` + timeHelp + `.`,
		Example: "  b2badmin log runs --since 7d\n" +
			"  b2badmin --actor ops-cron users deactivate 42 --reason OPS-1234\n" +
			"  b2badmin log runs --command deactivate --actor ops-cron -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCmd(cmd, inv, o, nil, runLogRuns)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.actor, "actor", "", "only runs by this actor (exact)")
	fl.StringVar(&o.command, "command", "", "only runs whose command line contains this text (case-insensitive)")
	fl.StringVar(&o.since, "since", "", "only runs started at or after this time: "+timeHelp)
	fl.StringVar(&o.until, "until", "", "only runs started before this time: "+timeHelp)
	fl.IntVar(&o.limit, "limit", 50, "at most this many runs (0 = all)")
	return withColumns(cmd, runColumns)
}

func runLogRuns(ctx context.Context, o *logRunsOptions) error {
	var flt client.RunFilter
	var err error
	now := time.Now()
	if flt.Since, err = parseTimePtr("--since", o.since, lowerBound, now); err != nil {
		return err
	}
	if flt.Until, err = parseTimePtr("--until", o.until, upperBound, now); err != nil {
		return err
	}
	if o.limit < 0 {
		return usageErrorf("--limit must be 0 (all) or more, got %d", o.limit)
	}
	if err := client.CheckText("--command", o.command, 4096); err != nil {
		return usageError(err.Error())
	}
	flt.Actor, flt.Command, flt.Limit = strings.TrimSpace(o.actor), o.command, o.limit
	fm, p, err := o.selectColumns(runColumns)
	if err != nil {
		return err
	}
	c, err := o.ReadClient(ctx)
	if err != nil {
		return err
	}
	w := output.NewRowWriter(fm, o.IO.Out, p, o.OutputOptions())
	if err := c.ListRuns(ctx, flt, func(r client.Run) error { return w.Write(runRow(r)) }); err != nil {
		return err
	}
	return w.Close()
}

// ptrOrNil dereferences p, so renderers see a value or a true nil.
func ptrOrNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
