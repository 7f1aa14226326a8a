package commands

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
)

// usersUpdateOptions are `users update`.
type usersUpdateOptions struct {
	*Invocation
	Mutate                         mutateFlags
	Select                         selector
	email, first, last, phone, ips string
	language, commLang, active     string
	keepSessions                   bool
	// Update is the change the flags ask for, validated (PreRunE).
	Update    client.UserUpdate
	Args      []string
	OutputSet bool
}

func newCmdUsersUpdate(inv *Invocation, runF func(context.Context, *usersUpdateOptions) error) *cobra.Command {
	o := &usersUpdateOptions{Invocation: inv}
	cmd := &cobra.Command{
		Use:   "update USER... | - | FILTERS",
		Short: "Change users' Info tab: email, name, phone, IP white list, languages, active",
		Long: `Change the fields given; the others stay as they are. Only fields whose
value really changes are written and logged; a user already as asked is
left alone and reported. "-" reads users from stdin, one per line, and
gives each the same values (an email can go to one user only). The users
list filters can select the users instead, except those named like the
fields update sets (--email, --first-name, --last-name, --language,
--active): for those, pipe users list … -o ids --all into -.

  --email                   validated; unique case-insensitively (exit 4 when taken)
  --phone                   E.164: + then 8-15 digits; spaces, dashes, dots and
                            parentheses are dropped; "" clears
  --ip-whitelist            comma-separated IPv4/IPv6 addresses or CIDRs, stored
                            canonical: IPv6 compressed, IPv4-mapped unmapped,
                            CIDRs masked to their network (10.1.2.3/8 -> 10.0.0.0/8),
                            duplicates dropped, joined with ","; "" clears
  --language, --communication-language   one of the supported codes (en, de, ...)
  --active true|false       false also revokes API tokens and sessions, as deactivate`,
		Example:     "  b2badmin users update michal42@ukr.net --phone '+44 20 7946 0958' --ip-whitelist '10.0.0.0/8,2001:db8::1'\n  b2badmin users list --company GmbH -o ids --all | b2badmin users update - --language de --yes",
		Annotations: selectsAnnotation(ArgUser),
		// PreRunE validates the values without a database, so a batch
		// checks them before it runs anything.
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Mutate.validate(); err != nil {
				return err
			}
			u, err := usersUpdateFromFlags(cmd, o)
			o.Update = u
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args, o.OutputSet = args, cmd.Flags().Changed("output")
			return runCmd(cmd, inv, o, runF, runUsersUpdate)
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
	fl.BoolVar(&o.keepSessions, "keep-sessions", false, "with --active false: leave the users' Django sessions")
	addMutateFlags(cmd, &o.Mutate)
	addSelectorFlags(inv, cmd, &o.Select, "email", "first-name", "last-name", "language", "active")
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

func runUsersUpdate(ctx context.Context, o *usersUpdateOptions) error {
	if err := refuseReadOnly(o.Invocation); err != nil {
		return err
	}
	t, err := userTargets(o.Invocation, o.Args, &o.Mutate, &o.Select)
	if err != nil {
		return err
	}
	if o.Update.Email != nil && (len(t.Refs) > 1 || t.Filter != nil) {
		return usageError("--email can change one user only (emails are unique)")
	}
	c, err := o.Client(ctx)
	if err != nil {
		return err
	}
	res, err := c.UpdateUsers(ctx, o.Audit(o.Mutate.Reason), t, o.Update, o.Mutate.options(o.Invocation, "users update"))
	if err != nil {
		return err
	}
	return reportChange(o.Invocation, o.OutputSet, res, changeReport{done: "updated", unchanged: "already have these values", unchangedOne: "already has these values"})
}
