package commands

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// users sessions and users tokens are the Additional tab's lists.

// activityFlags are the flags users sessions and users tokens share.
type activityFlags struct {
	Since  string
	Result string
	Status string
	Limit  int
	// Filter is the flags' validated values (PreRunE).
	Filter client.ActivityFilter
}

func addActivityFlags(cmd *cobra.Command, o *activityFlags) {
	cmd.Flags().StringVar(&o.Since, "since", "", "only from this time on: "+timeHelp)
	cmd.Flags().IntVar(&o.Limit, "limit", 50, "at most N rows, newest first (0 = all)")
}

// validate checks the flags (bad values are usage errors: exit 2) and
// sets Filter.
func (o *activityFlags) validate() error {
	var fl client.ActivityFilter
	if o.Limit < 0 {
		return usageErrorf("--limit must be 0 (all) or more, got %d", o.Limit)
	}
	fl.Limit = o.Limit
	since, err := parseTimePtr("--since", o.Since, lowerBound, time.Now())
	if err != nil {
		return err
	}
	fl.Since = since
	switch o.Result {
	case "", "success", "failure":
		fl.Result = o.Result
	default:
		return usageErrorf("invalid --result %q: want success or failure", o.Result)
	}
	fl.Status = strings.ToLower(strings.TrimSpace(o.Status))
	o.Filter = fl
	return nil
}

var sessionColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "user_id", Header: "User ID"},
	{Key: "ip", Header: "IP", Default: true},
	{Key: "time", Header: "Time", Default: true},
	{Key: "result", Header: "Result", Default: true},
	{Key: "device_type", Header: "Device type", Default: true},
	{Key: "geolocation", Header: "Geolocation", Default: true},
}

// sessionRow is a session in sessionColumns order.
func sessionRow(e client.AuthSession) []any {
	return []any{e.ID, e.UserID, e.IP, e.Time, e.Result, e.DeviceType, e.Geolocation}
}

// usersSessionsOptions are `users sessions`.
type usersSessionsOptions struct {
	*Invocation
	User string
	activityFlags
}

func newCmdUsersSessions(inv *Invocation, runF func(context.Context, *usersSessionsOptions) error) *cobra.Command {
	o := &usersSessionsOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:         "sessions USER",
		Short:       "The API sessions list: login attempts (IP, time, result, device, geolocation), newest first",
		Example:     "  b2badmin users sessions 16 --result failure\n  b2badmin users sessions 34 --since 30d -o json",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		PreRunE:     func(*cobra.Command, []string) error { return o.validate() },
		RunE: func(cmd *cobra.Command, args []string) error {
			o.User = args[0]
			return runCmd(cmd, inv, o, runF, runUsersSessions)
		},
	}
	addActivityFlags(cmd, &o.activityFlags)
	cmd.Flags().StringVar(&o.Result, "result", "", "only success or failure")
	completeFlag(inv, cmd, "result", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"success", "failure"}, cobra.ShellCompDirectiveNoFileComp
	})
	return withColumns(cmd, sessionColumns)
}

func runUsersSessions(ctx context.Context, o *usersSessionsOptions) error {
	return streamActivity(ctx, o.Invocation, o.User, sessionColumns, func(c *client.Client, u client.UserRef, w output.RowWriter) error {
		return c.AuthLog(ctx, u.ID, o.Filter, func(e client.AuthSession) error { return w.Write(sessionRow(e)) })
	})
}

var tokenColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "user_id", Header: "User ID"},
	{Key: "sent_at", Header: "Sent at", Default: true},
	{Key: "destination", Header: "Sent to", Default: true},
	{Key: "token", Header: "Token", Default: true},
	{Key: "status", Header: "Status", Default: true},
}

// tokenRow is a sent token in tokenColumns order (masked by the client).
func tokenRow(t client.SentToken) []any {
	return []any{t.ID, t.UserID, t.SentAt, t.Destination, t.Token, t.Status}
}

// usersTokensOptions are `users tokens`.
type usersTokensOptions struct {
	*Invocation
	User string
	activityFlags
	Reveal bool
}

func newCmdUsersTokens(inv *Invocation, runF func(context.Context, *usersTokensOptions) error) *cobra.Command {
	o := &usersTokensOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:         "tokens USER",
		Short:       "The list of sent tokens (time, email or phone, token masked unless --reveal, status), newest first",
		Example:     "  b2badmin users tokens 42 --status used --limit 10",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		PreRunE:     func(*cobra.Command, []string) error { return o.validate() },
		RunE: func(cmd *cobra.Command, args []string) error {
			o.User = args[0]
			return runCmd(cmd, inv, o, runF, runUsersTokens)
		},
	}
	addActivityFlags(cmd, &o.activityFlags)
	cmd.Flags().StringVar(&o.Status, "status", "", "only tokens with this status (sent, used, expired, failed)")
	cmd.Flags().BoolVar(&o.Reveal, "reveal", false, "show token values in full (they are masked as ••••1234 otherwise)")
	return withColumns(cmd, tokenColumns)
}

func runUsersTokens(ctx context.Context, o *usersTokensOptions) error {
	fl := o.Filter
	fl.Reveal = o.Reveal
	return streamActivity(ctx, o.Invocation, o.User, tokenColumns, func(c *client.Client, u client.UserRef, w output.RowWriter) error {
		if fl.Status != "" {
			// The statuses are a table: known only to the database.
			known, err := c.TokenStatuses(ctx)
			if err != nil {
				return err
			}
			if !slices.Contains(known, fl.Status) {
				return usageErrorf("invalid --status %q: want one of %s", fl.Status, strings.Join(known, ", "))
			}
		}
		return c.SentTokens(ctx, u.ID, fl, func(t client.SentToken) error { return w.Write(tokenRow(t)) })
	})
}

// readUser resolves one user reference on the read client.
func readUser(ctx context.Context, inv *Invocation, ref string) (*client.Client, client.UserRef, error) {
	c, err := inv.ReadClient(ctx)
	if err != nil {
		return nil, client.UserRef{}, err
	}
	u, err := client.ResolveUser(ctx, c.DB(), ref)
	return c, u, err
}

// streamActivity resolves the user on the read client and streams the rows
// of list through the chosen renderer.
func streamActivity(ctx context.Context, inv *Invocation, ref string, cols output.Columns,
	list func(*client.Client, client.UserRef, output.RowWriter) error) error {
	fm, p, err := inv.selectColumns(cols)
	if err != nil {
		return err
	}
	c, u, err := readUser(ctx, inv, ref)
	if err != nil {
		return err
	}
	w := output.NewRowWriter(fm, inv.IO.Out, p, inv.OutputOptions())
	if err := list(c, u, w); err != nil {
		return err
	}
	return w.Close()
}
