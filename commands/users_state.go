package commands

import (
	"fmt"

	"github.com/spf13/cobra"
)

type usersActiveOptions struct {
	m            mutateFlags
	keepSessions bool
}

// newUsersActiveCmd builds activate (active=true) or deactivate.
func newUsersActiveCmd(f *Factory, active bool) *cobra.Command {
	o := &usersActiveOptions{}
	verb, done, state := "deactivate", "deactivated", "already inactive"
	short := "Deactivate users; revokes their API tokens and deletes their sessions"
	if active {
		verb, done, state = "activate", "activated", "already active"
		short = "Activate users"
	}
	cmd := &cobra.Command{
		Use:   verb + " USER... | -",
		Short: short,
		Long: short + `.

USER is an ID, an email or a UUID; "-" reads one per line from stdin.
All or nothing: an unknown user among many (exit 3) changes nothing.
Users already ` + state[len("already "):] + ` are reported on stderr and get no log row.
Set-based: a few statements whatever the number of users.
--max-affected and the confirmation count the users named, before any SQL.` + deactivateHelp(active),
		Example:     "  b2badmin users " + verb + " 17 bob@example.com\n  cut -d, -f1 accounts.csv | b2badmin users " + verb + " - --yes --reason OPS-1234",
		Args:        cobra.MinimumNArgs(1),
		Annotations: argsAnnotation(ArgUser),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseReadOnly(f); err != nil {
				return err
			}
			refs, err := readUserArgs(f, args)
			if err != nil {
				return err
			}
			if err := confirmChange(f, &o.m, distinctRefs(refs), verb); err != nil {
				return err
			}
			ctx, cancel := commandContext(cmd, f)
			defer cancel()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			res, err := c.SetActive(ctx, f.Audit(o.m.Reason), refs, active, o.keepSessions, o.m.DryRun)
			if err != nil {
				return err
			}
			extra := ""
			if !active {
				what := "deleted"
				if o.keepSessions {
					what = "kept (--keep-sessions)"
				}
				extra = fmt.Sprintf("; %d tokens blacklisted, %d sessions %s", res.Access.Tokens, res.Access.Sessions, what)
			}
			return reportChanges(f, cmd, o.m.DryRun, done, res.Changed, res.Unchanged, state, extra)
		},
	}
	if !active {
		cmd.Flags().BoolVar(&o.keepSessions, "keep-sessions", false, "leave the users' Django sessions (tokens are still blacklisted)")
	}
	addMutateFlags(cmd, &o.m)
	return cmd
}

func deactivateHelp(active bool) string {
	if active {
		return "\nActivation does not restore blacklisted tokens or deleted sessions: the user logs in again."
	}
	return `
Deactivation also blacklists every outstanding API refresh token of the users
(simplejwt's blacklist; access tokens stop working because is_active is
false) and deletes their Django sessions unless --keep-sessions. Sessions
keep the user id inside their encoded payload, so django_session is read
once, decoded in b2badmin, and the matching rows deleted in one statement.`
}
