package commands

import (
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// users sessions and users tokens are the Additional tab's lists.

type activityOptions struct {
	since  string
	result string
	status string
	limit  int
	reveal bool
}

func addActivityFlags(cmd *cobra.Command, o *activityOptions) {
	cmd.Flags().StringVar(&o.since, "since", "", "only from this time on: "+timeHelp)
	cmd.Flags().IntVar(&o.limit, "limit", 50, "at most N rows, newest first (0 = all)")
}

// filter validates the flags (bad values are usage errors: exit 2).
func (o *activityOptions) filter() (client.ActivityFilter, error) {
	var fl client.ActivityFilter
	if o.limit < 0 {
		return fl, usageErrorf("--limit must be 0 (all) or more, got %d", o.limit)
	}
	fl.Limit = o.limit
	since, err := parseTimePtr("--since", o.since, lowerBound, time.Now())
	if err != nil {
		return fl, err
	}
	fl.Since = since
	switch o.result {
	case "", "success", "failure":
		fl.Result = o.result
	default:
		return fl, usageErrorf("invalid --result %q: want success or failure", o.result)
	}
	fl.Status = strings.ToLower(strings.TrimSpace(o.status))
	return fl, nil
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

func newUsersSessionsCmd(inv *Invocation) *cobra.Command {
	o := &activityOptions{}
	cmd := &cobra.Command{
		Use:         "sessions USER",
		Short:       "The API sessions list: login attempts (IP, time, result, device, geolocation), newest first",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl, err := o.filter()
			if err != nil {
				return err
			}
			return streamActivity(cmd, inv, args[0], sessionColumns, func(c *client.Client, u client.UserRef, w output.RowWriter) error {
				ctx := cmd.Context()
				return c.AuthLog(ctx, u.ID, fl, func(e client.AuthSession) error { return w.Write(sessionRow(e)) })
			})
		},
	}
	addActivityFlags(cmd, o)
	cmd.Flags().StringVar(&o.result, "result", "", "only success or failure")
	_ = cmd.RegisterFlagCompletionFunc("result", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"success", "failure"}, cobra.ShellCompDirectiveNoFileComp
	})
	return withColumns(cmd, sessionColumns)
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

func newUsersTokensCmd(inv *Invocation) *cobra.Command {
	o := &activityOptions{}
	cmd := &cobra.Command{
		Use:         "tokens USER",
		Short:       "The list of sent tokens (time, email or phone, token masked unless --reveal, status), newest first",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl, err := o.filter()
			if err != nil {
				return err
			}
			return streamActivity(cmd, inv, args[0], tokenColumns, func(c *client.Client, u client.UserRef, w output.RowWriter) error {
				ctx := cmd.Context()
				if fl.Status != "" {
					known, err := c.TokenStatuses(ctx)
					if err != nil {
						return err
					}
					if !slices.Contains(known, fl.Status) {
						return usageErrorf("invalid --status %q: want one of %s", fl.Status, strings.Join(known, ", "))
					}
				}
				fl.Reveal = o.reveal
				return c.SentTokens(ctx, u.ID, fl, func(t client.SentToken) error { return w.Write(tokenRow(t)) })
			})
		},
	}
	addActivityFlags(cmd, o)
	cmd.Flags().StringVar(&o.status, "status", "", "only tokens with this status (sent, used, expired, failed)")
	cmd.Flags().BoolVar(&o.reveal, "reveal", false, "show token values in full (they are masked as ••••1234 otherwise)")
	return withColumns(cmd, tokenColumns)
}

// streamActivity resolves the user on the read client and streams the rows
// of list through the chosen renderer.
func streamActivity(cmd *cobra.Command, inv *Invocation, ref string, cols output.Columns,
	list func(*client.Client, client.UserRef, output.RowWriter) error) error {
	fm, p, err := inv.selectColumns(cols)
	if err != nil {
		return err
	}
	ctx, cancel := commandContext(cmd, inv)
	defer cancel()
	cmd.SetContext(ctx)
	c, err := inv.ReadClient(ctx)
	if err != nil {
		return err
	}
	u, err := client.ResolveUser(ctx, c.DB(), ref)
	if err != nil {
		return err
	}
	w := output.NewRowWriter(fm, inv.IO.Out, p, inv.OutputOptions())
	if err := list(c, u, w); err != nil {
		return err
	}
	return w.Close()
}
