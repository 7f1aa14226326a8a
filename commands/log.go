package commands

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// logColumns is the shape of `log` output. JSON keys:
// id, created_at (RFC 3339 UTC), actor, action, user_id, email (the user's
// current email), before and after (the changed fields as JSON objects),
// reason, command, batch_id, batch_file, batch_line.
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
	{Key: "command", Header: "Command"},
	{Key: "batch_id", Header: "Batch"},
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

type logOptions struct {
	user, actor, action, since, until string
	limit                             int
	reverse                           bool
}

func newLogCmd(f *Factory) *cobra.Command {
	o := &logOptions{}
	cmd := &cobra.Command{
		Use:   "log",
		Short: "The operation log: every change b2badmin made, newest first",
		Long: `The operation log: every change b2badmin made, one row per user per
action, with the changed fields' before and after values, the actor, the
reason, the command line and (for batch lines) the batch file and line.

--since and --until take an RFC 3339 time, a date (YYYY-MM-DD, UTC) or an
age such as 90m, 24h or 7d ("since 7 days ago"); --until is exclusive.
--action takes the full name (users.deactivate) or the verb (deactivate).`,
		Example: "  b2badmin log --user alice@example.com\n  b2badmin log --action deactivate --since 7d -o jsonl | jq .reason",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var flt client.LogFilter
			var err error
			if flt.Since, err = parseWhen("--since", o.since); err != nil {
				return err
			}
			if flt.Until, err = parseWhen("--until", o.until); err != nil {
				return err
			}
			if o.limit < 0 {
				return usageErrorf("--limit must be 0 (all) or more, got %d", o.limit)
			}
			flt.Actor, flt.Action = strings.TrimSpace(o.actor), strings.TrimSpace(o.action)
			flt.Limit, flt.Oldest = o.limit, o.reverse
			fm, p, err := f.selectColumns(logColumns)
			if err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.ReadClient(ctx)
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
			w := output.NewRowWriter(fm, f.IO.Out, p, f.OutputOptions())
			err = c.ListLog(ctx, flt, func(e client.LogEntry) error {
				return w.Write([]any{e.ID, e.CreatedAt, e.Actor, e.Action, ptrOrNil(e.UserID), ptrOrNil(e.Email),
					rawJSON(e.Before), rawJSON(e.After), e.Reason, e.Command, ptrOrNil(e.BatchID), e.BatchFile, ptrOrNil(e.BatchLine)})
			})
			if err != nil {
				return err
			}
			return w.Close()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.user, "user", "", "only changes to this user (ID, email or UUID)")
	// Shadows the global --actor (who a change is recorded as): log changes nothing.
	fl.StringVar(&o.actor, "actor", "", "only changes made by this actor (exact)")
	fl.StringVar(&o.action, "action", "", "only this action (users.update, deactivate, add-group, ...)")
	fl.StringVar(&o.since, "since", "", "only changes at or after this time")
	fl.StringVar(&o.until, "until", "", "only changes before this time")
	fl.IntVar(&o.limit, "limit", 100, "at most this many rows (0 = all)")
	fl.BoolVar(&o.reverse, "reverse", false, "oldest first")
	return withColumns(cmd, logColumns)
}

// ptrOrNil dereferences p, so renderers see a value or a true nil.
func ptrOrNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// parseWhen reads --since/--until: RFC 3339, a UTC date, or an age (90m,
// 24h, 7d) counted back from now.
func parseWhen(flag, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return &t, nil
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 {
			t := time.Now().Add(-time.Duration(n) * 24 * time.Hour)
			return &t, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		t := time.Now().Add(-d)
		return &t, nil
	}
	return nil, usageErrorf("invalid %s %q: want RFC 3339 (2026-01-31T12:00:00Z), a date (2026-01-31) or an age (24h, 7d)", flag, s)
}
