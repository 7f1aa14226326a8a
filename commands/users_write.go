package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// The verbs that change users: update and set-password here,
// activate/deactivate in users_state.go, groups in users_groups.go.

type usersUpdateOptions struct {
	m                              mutateFlags
	email, first, last, phone, ips string
	language, commLang, active     string
	keepSessions                   bool
}

func newUsersUpdateCmd(f *Factory) *cobra.Command {
	o := &usersUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update USER",
		Short: "Change a user's Info tab: email, name, phone, IP white list, languages, active",
		Long: `Change the fields given; the others stay as they are. Only fields whose
value really changes are written and logged; when nothing changes,
nothing is written and b2badmin says so.

  --email                   validated; unique case-insensitively (exit 4 when taken)
  --phone                   E.164: + then 8-15 digits; spaces, dashes, dots and
                            parentheses are dropped; "" clears
  --ip-whitelist            comma-separated IPv4/IPv6 addresses or CIDRs, stored
                            canonical: IPv6 compressed, IPv4-mapped unmapped,
                            CIDRs masked to their network (10.1.2.3/8 -> 10.0.0.0/8),
                            duplicates dropped, joined with ","; "" clears
  --language, --communication-language   one of the supported codes (en, de, ...)
  --active true|false       false also revokes API tokens and sessions, as deactivate`,
		Example:     "  b2badmin users update alice@example.com --phone '+44 20 7946 0958' --ip-whitelist '10.0.0.0/8,2001:db8::1'",
		Args:        cobra.ExactArgs(1),
		Annotations: argsAnnotation(ArgUser),
		// PreRunE validates the values without a database, so a batch
		// checks them before it runs anything.
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			_, err := usersUpdateFromFlags(cmd, o)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUsersUpdate(f, cmd, o, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.email, "email", "", "new email address")
	fl.StringVar(&o.first, "first-name", "", "new first name")
	fl.StringVar(&o.last, "last-name", "", "new last name")
	fl.StringVar(&o.phone, "phone", "", `new phone number, E.164 ("" clears)`)
	fl.StringVar(&o.ips, "ip-whitelist", "", `comma-separated IP addresses/CIDRs ("" clears)`)
	fl.StringVar(&o.language, "language", "", "preferred interface language")
	fl.StringVar(&o.commLang, "communication-language", "", "communication language")
	fl.StringVar(&o.active, "active", "", "true or false")
	fl.BoolVar(&o.keepSessions, "keep-sessions", false, "with --active false: leave the user's Django sessions")
	addMutateFlags(cmd, &o.m)
	return cmd
}

// usersUpdateFromFlags builds the change from the flags given and checks
// every value; it needs no database, so bad input is exit 4 even with the
// database down, and a batch can run it before anything else.
func usersUpdateFromFlags(cmd *cobra.Command, o *usersUpdateOptions) (client.UserUpdate, error) {
	fl := cmd.Flags()
	var u client.UserUpdate
	str := func(name string, v string) *string {
		if !fl.Changed(name) {
			return nil
		}
		return &v
	}
	u.Email = str("email", o.email)
	u.FirstName = str("first-name", o.first)
	u.LastName = str("last-name", o.last)
	u.Phone = str("phone", o.phone)
	u.IPWhiteList = str("ip-whitelist", o.ips)
	u.Language = str("language", o.language)
	u.CommLang = str("communication-language", o.commLang)
	if fl.Changed("active") {
		b, err := strconv.ParseBool(strings.TrimSpace(o.active))
		if err != nil {
			return u, client.Refused("invalid --active %q: want true or false", o.active)
		}
		u.Active = &b
	}
	u.KeepSessions = o.keepSessions
	if u == (client.UserUpdate{KeepSessions: u.KeepSessions}) {
		return u, usageError("nothing to update: give at least one of --email, --first-name, --last-name, --phone, --ip-whitelist, --language, --communication-language, --active")
	}
	return u.Normalize()
}

func runUsersUpdate(f *Factory, cmd *cobra.Command, o *usersUpdateOptions, ref string) error {
	if err := refuseReadOnly(f); err != nil {
		return err
	}
	u, err := usersUpdateFromFlags(cmd, o)
	if err != nil {
		return err
	}
	if err := confirmChange(f, &o.m, 1, "update"); err != nil {
		return err
	}
	ctx, cancel := commandContext(cmd, f)
	defer cancel()
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	res, err := c.UpdateUser(ctx, f.Audit(o.m.Reason), ref, u, o.m.DryRun)
	if err != nil {
		return err
	}
	if res.Change == nil {
		fmt.Fprintf(f.IO.ErrOut, "b2badmin: no change: user %d (%s) already has these values; nothing was written\n", res.User.ID, res.User.Email)
		return nil
	}
	extra := ""
	if u.Active != nil && !*u.Active && res.Change.After["is_active"] != nil {
		extra = fmt.Sprintf("; %d tokens blacklisted, %d sessions deleted", res.Access.Tokens, res.Access.Sessions)
	}
	return reportChanges(f, cmd, o.m.DryRun, "updated", []client.Change{*res.Change}, nil, "", extra)
}
