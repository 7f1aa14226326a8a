package commands

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

// selector is the users list filters as flags: `users list` takes them
// to list users, every bulk command to select the users it changes (inside
// the change's transaction, as one set-based statement).
type selector struct {
	ids                        []string
	email, firstName, lastName string
	groups                     []string
	from, to                   string
	company                    string
	active, inactive           bool
	typ                        string
	lastLoginBefore            string
	lastLoginAfter             string
	neverLoggedIn              bool
	twoFA, noTwoFA             bool
	perms                      []string
	noPerms, noGroup           bool
	notGroups, allGroups       []string
	companyOwner, notOwner     bool
	language                   string
	staff, superuser           bool
	emailDomain                string
	flags                      *pflag.FlagSet
	omitted                    map[string]bool
}

// selectorFlag names, in help order. A command whose own flags share a
// name (users update --email sets the email) leaves those out.
var selectorFlagNames = []string{"id", "email", "group", "first-name", "last-name", "registered-from", "registered-to",
	"company", "active", "inactive", "type", "last-login-before", "last-login-after", "never-logged-in", "2fa", "no-2fa",
	"perm", "no-perms", "no-group", "not-group", "all-groups", "company-owner", "not-company-owner", "language", "staff",
	"superuser", "email-domain"}

// addSelectorFlags binds the filter flags to cmd, except omit.
func addSelectorFlags(cmd *cobra.Command, s *selector, omit ...string) {
	s.flags = cmd.Flags()
	s.omitted = map[string]bool{}
	for _, o := range omit {
		s.omitted[o] = true
	}
	fl := pflag.NewFlagSet("selector", pflag.ContinueOnError)
	fl.StringSliceVar(&s.ids, "id", nil, "user IDs (repeatable or comma-separated)")
	onceStringVar(fl, &s.email, "email", "", "email contains (case-insensitive)")
	fl.StringSliceVar(&s.groups, "group", nil, "member of this group (case-insensitive; repeatable = any of)")
	onceStringVar(fl, &s.firstName, "first-name", "", "first name contains (case-insensitive)")
	onceStringVar(fl, &s.lastName, "last-name", "", "last name contains (case-insensitive)")
	onceStringVar(fl, &s.from, "registered-from", "", "registered at or after: "+timeHelp)
	onceStringVar(fl, &s.to, "registered-to", "", "registered at or before (a day counts whole): "+timeHelp)
	onceStringVar(fl, &s.company, "company", "", "company name contains (case-insensitive), or a company ID")
	fl.BoolVar(&s.active, "active", false, "active users only")
	fl.BoolVar(&s.inactive, "inactive", false, "inactive users only")
	onceStringVar(fl, &s.typ, "type", "", "enterprise or merchant")
	onceStringVar(fl, &s.lastLoginBefore, "last-login-before", "", "last logged in before (never-logged-in users excluded): "+timeHelp)
	onceStringVar(fl, &s.lastLoginAfter, "last-login-after", "", "last logged in at or after: "+timeHelp)
	fl.BoolVar(&s.neverLoggedIn, "never-logged-in", false, "users who never logged in")
	fl.BoolVar(&s.twoFA, "2fa", false, "users with a confirmed 2FA device")
	fl.BoolVar(&s.noTwoFA, "no-2fa", false, "users without a confirmed 2FA device")
	fl.StringSliceVar(&s.perms, "perm", nil, "holds an extra permission matching this identifier, label or glob (repeatable = any of)")
	fl.BoolVar(&s.noPerms, "no-perms", false, "users holding no extra permission")
	fl.BoolVar(&s.noGroup, "no-group", false, "users in no group")
	fl.StringSliceVar(&s.notGroups, "not-group", nil, "not a member of this group (repeatable = of none of them)")
	fl.StringSliceVar(&s.allGroups, "all-groups", nil, "member of every one of these groups (comma-separated or repeated)")
	fl.BoolVar(&s.companyOwner, "company-owner", false, "company owners only")
	fl.BoolVar(&s.notOwner, "not-company-owner", false, "users who own no company")
	onceStringVar(fl, &s.language, "language", "", "preferred interface language (exact code, e.g. de)")
	fl.BoolVar(&s.staff, "staff", false, "staff users (is_staff)")
	fl.BoolVar(&s.superuser, "superuser", false, "superusers")
	onceStringVar(fl, &s.emailDomain, "email-domain", "", "email domain, exactly (case-insensitive): example.com")
	fl.VisitAll(func(f *pflag.Flag) {
		if !s.omitted[f.Name] {
			cmd.Flags().AddFlag(f)
		}
	})
	pairs := [][2]string{{"active", "inactive"}, {"2fa", "no-2fa"}, {"company-owner", "not-company-owner"},
		{"never-logged-in", "last-login-before"}, {"never-logged-in", "last-login-after"}, {"no-perms", "perm"}, {"no-group", "group"}, {"no-group", "all-groups"}}
	for _, p := range pairs {
		if !s.omitted[p[0]] && !s.omitted[p[1]] {
			cmd.MarkFlagsMutuallyExclusive(p[0], p[1])
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{catalog.TypeEnterprise, catalog.TypeMerchant}, cobra.ShellCompDirectiveNoFileComp))
	groupNamesFn := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return groupNames(), cobra.ShellCompDirectiveNoFileComp
	}
	for _, g := range []string{"group", "not-group", "all-groups"} {
		if !s.omitted[g] {
			_ = cmd.RegisterFlagCompletionFunc(g, groupNamesFn)
		}
	}
	if !s.omitted["language"] {
		_ = cmd.RegisterFlagCompletionFunc("language", cobra.FixedCompletions(catalog.Languages, cobra.ShellCompDirectiveNoFileComp))
	}
	_ = cmd.RegisterFlagCompletionFunc("perm", func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return permref.Complete(prefix), cobra.ShellCompDirectiveNoFileComp
	})
	// The batch pre-check runs PreRunE: a malformed filter on line 900
	// stops the batch before line 1 runs (the parsing above and
	// client.UserFilter.Validate, no database).
	pre := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if pre != nil {
			if err := pre(c, args); err != nil {
				return err
			}
		}
		if !s.given() {
			return nil
		}
		_, err := s.filter(time.Now())
		return err
	}
}

// given reports whether any filter flag was set.
func (s *selector) given() bool {
	for _, n := range selectorFlagNames {
		if s.omitted[n] {
			continue
		}
		if f := s.flags.Lookup(n); f != nil && f.Changed {
			return true
		}
	}
	return false
}

// filter validates the flags: a malformed value is a usage error (exit 2);
// a group or permission that does not exist is refused (exit 4), named.
func (s *selector) filter(now time.Time) (client.UserFilter, error) {
	var fl client.UserFilter
	for _, v := range s.ids {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return fl, usageErrorf("invalid --id %q: want a positive integer", clipText(v, 40))
		}
		fl.IDs = append(fl.IDs, id)
	}
	fl.Email, fl.FirstName, fl.LastName = s.email, s.firstName, s.lastName
	var err error
	if fl.Groups, err = canonicalGroupFlags("--group", s.groups); err != nil {
		return fl, err
	}
	if fl.NotGroups, err = canonicalGroupFlags("--not-group", s.notGroups); err != nil {
		return fl, err
	}
	if fl.AllGroups, err = canonicalGroupFlags("--all-groups", s.allGroups); err != nil {
		return fl, err
	}
	if fl.JoinedFrom, err = parseTimePtr("--registered-from", s.from, lowerBound, now); err != nil {
		return fl, err
	}
	if fl.JoinedBefore, err = parseTimePtr("--registered-to", s.to, upperInclusive, now); err != nil {
		return fl, err
	}
	if fl.JoinedFrom != nil && fl.JoinedBefore != nil && !fl.JoinedFrom.Before(*fl.JoinedBefore) {
		return fl, usageErrorf("--registered-from %s is after --registered-to %s", s.from, s.to)
	}
	if fl.LastLoginBefore, err = parseTimePtr("--last-login-before", s.lastLoginBefore, upperBound, now); err != nil {
		return fl, err
	}
	if fl.LastLoginAfter, err = parseTimePtr("--last-login-after", s.lastLoginAfter, lowerBound, now); err != nil {
		return fl, err
	}
	fl.NeverLoggedIn = s.neverLoggedIn
	if c := strings.TrimSpace(s.company); c != "" {
		if id, err := strconv.ParseInt(c, 10, 64); err == nil {
			fl.CompanyID = &id
		} else {
			fl.Company = c
		}
	}
	fl.Active = boolPair(s.active, s.inactive)
	fl.TwoFA = boolPair(s.twoFA, s.noTwoFA)
	fl.CompanyOwner = boolPair(s.companyOwner, s.notOwner)
	if s.typ != "" {
		t := strings.ToLower(strings.TrimSpace(s.typ))
		if t != catalog.TypeEnterprise && t != catalog.TypeMerchant {
			return fl, usageErrorf("invalid --type %q: want enterprise or merchant", clipText(s.typ, 40))
		}
		fl.Type = t
	}
	if len(s.perms) > 0 {
		perms, err := client.ResolvePerms(s.perms)
		if err != nil {
			return fl, err
		}
		for _, p := range perms {
			fl.Perms = append(fl.Perms, p.ID())
		}
	}
	fl.NoPerms, fl.NoGroup, fl.Staff, fl.Superuser = s.noPerms, s.noGroup, s.staff, s.superuser
	if s.language != "" {
		l, err := client.NormalizeLanguage("--language", s.language)
		if err != nil {
			return fl, err
		}
		fl.Language = l
	}
	if d := strings.TrimSpace(s.emailDomain); d != "" {
		if strings.ContainsAny(d, "@ ") || len(d) > 253 {
			return fl, usageErrorf("invalid --email-domain %q: want a domain such as example.com", clipText(d, 40))
		}
		fl.EmailDomain = d
	}
	if err := fl.Validate(); err != nil {
		return fl, usageError(err.Error())
	}
	return fl, nil
}

// boolPair reads a flag and its negation (mutually exclusive): nil when
// neither was given.
func boolPair(yes, no bool) *bool {
	if !yes && !no {
		return nil
	}
	return &yes
}

// canonicalGroupFlags checks group names given to a filter flag.
func canonicalGroupFlags(flag string, names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			continue
		}
		g, ok := catalog.LookupGroup(name)
		if !ok {
			return nil, client.Refused("%s in %s", catalog.UnknownGroup(name), flag)
		}
		out = append(out, g.Name)
	}
	return out, nil
}

// selectorGiven reports whether cmd was given any filter flag: its user
// argument is then replaced by the selection (see argKindAt).
func selectorGiven(cmd *cobra.Command) bool {
	for _, n := range selectorFlagNames {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed && cmd.Annotations[annotSelects] == "true" {
			return true
		}
	}
	return false
}

// annotSelects marks a bulk command whose users a selector can choose.
const annotSelects = "b2badmin/selects"
