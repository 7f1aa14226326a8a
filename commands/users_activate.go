package commands

import (
	"context"

	"github.com/spf13/cobra"
)

// usersActivateOptions are `users activate` and `users deactivate`.
type usersActivateOptions struct {
	*Invocation
	Active       bool
	Mutate       mutateFlags
	Select       selector
	KeepSessions bool
	Args         []string
	OutputSet    bool
}

func newCmdUsersActivate(inv *Invocation, active bool, runF func(context.Context, *usersActivateOptions) error) *cobra.Command {
	opts := &usersActivateOptions{Invocation: inv, Active: active}
	verb, state := "deactivate", "inactive"
	short := "Deactivate users; revokes their API tokens and deletes their sessions"
	if active {
		verb, state = "activate", "active"
		short = "Activate users"
	}
	cmd := &cobra.Command{
		Use:   verb + " USER... | - | FILTERS",
		Short: short,
		Long: short + `.

USER is an ID, an email or a UUID; "-" reads one per line from stdin.
Instead of users, the users list filters select them (--last-login-before
180d --type merchant --active …): selected, locked and changed as one set.
All or nothing: an unknown user among many (exit 3) changes nothing,
unless --skip-missing. Users already ` + state + ` are reported on stderr and
get no log row. Set-based: a few statements whatever the number of users.
--max-affected and the confirmation count the users that would change,
while their rows are locked.` + deactivateHelp(active),
		Example: "  b2badmin users " + verb + " 17 bob@example.com\n  cut -d, -f1 accounts.csv | b2badmin users " + verb + " - --yes --reason OPS-1234" +
			map[bool]string{false: "\n  b2badmin users deactivate --last-login-before 180d --type merchant --active --reason OPS-42 --yes --max-affected 5000", true: ""}[active],
		Annotations: selectsAnnotation(ArgUser),
		PreRunE:     func(*cobra.Command, []string) error { return opts.Mutate.validate() },
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args, opts.OutputSet = args, cmd.Flags().Changed("output")
			return runCmd(cmd, inv, opts, runF, runUsersActivate)
		},
	}
	if !active {
		cmd.Flags().BoolVar(&opts.KeepSessions, "keep-sessions", false, "leave the users' Django sessions (tokens are still blacklisted)")
	}
	addMutateFlags(cmd, &opts.Mutate)
	addSelectorFlags(inv, cmd, &opts.Select)
	return cmd
}

func runUsersActivate(ctx context.Context, opts *usersActivateOptions) error {
	if err := refuseReadOnly(opts.Invocation); err != nil {
		return err
	}
	t, err := userTargets(opts.Invocation, opts.Args, &opts.Mutate, &opts.Select)
	if err != nil {
		return err
	}
	c, err := opts.Client(ctx)
	if err != nil {
		return err
	}
	verb, r := "users deactivate", changeReport{done: "deactivated", unchanged: "already inactive"}
	if opts.Active {
		verb, r = "users activate", changeReport{done: "activated", unchanged: "already active"}
	}
	res, err := c.SetActive(ctx, opts.Audit(opts.Mutate.Reason), t, opts.Active, opts.KeepSessions, opts.Mutate.options(opts.Invocation, verb))
	if err != nil {
		return err
	}
	return reportChange(opts.Invocation, opts.OutputSet, res, r)
}

func deactivateHelp(active bool) string {
	if active {
		return "\nActivation does not restore blacklisted tokens or deleted sessions: the user logs in again\n(`b2badmin undo RUN --restore-tokens` of the deactivation's run does restore its tokens)."
	}
	return `
Deactivation also blacklists every outstanding API refresh token of the users
(simplejwt's blacklist; access tokens stop working because is_active is
false) and deletes their Django sessions unless --keep-sessions. Each user's
log row names the tokens blacklisted and the number of sessions deleted.`
}
