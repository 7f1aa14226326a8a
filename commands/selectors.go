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

// selectorBuilt, set only by tests, sees every selector a tree builds.
var selectorBuilt func(*cobra.Command, *selector)

// addSelectorFlags binds the filter flags to cmd, except omit. A batch
// builds a command tree per line, so this stays cheap: no scratch flag
// set, and the flags that exclude each other are checked by filter.
// annotSelector marks the flags that select users.
const annotSelector = "b2badmin_selector"

func addSelectorFlags(inv *Invocation, cmd *cobra.Command, s *selector, omit ...string) {
	if selectorBuilt != nil {
		selectorBuilt(cmd, s)
	}
	s.flags = cmd.Flags()
	s.omitted = map[string]bool{}
	for _, o := range omit {
		s.omitted[o] = true
	}
	if inv.withoutSelectors {
		// None given: s.changed finds none of them (and the command's
		// own flags of the same name are omitted, as above).
		return
	}
	fl := s.flags
	// Each selector flag is marked, so that a batch's pre-check knows a
	// line that selects users from one that names them.
	str := func(p *string, name, usage string) {
		if !s.omitted[name] {
			onceStringVar(fl, p, name, "", usage)
			_ = fl.SetAnnotation(name, annotSelector, nil)
		}
	}
	list := func(p *[]string, name, usage string) {
		if !s.omitted[name] {
			listVar(fl, p, name, usage)
			_ = fl.SetAnnotation(name, annotSelector, nil)
		}
	}
	flag := func(p *bool, name, usage string) {
		if !s.omitted[name] {
			fl.BoolVar(p, name, false, usage)
			_ = fl.SetAnnotation(name, annotSelector, nil)
		}
	}
	list(&s.ids, "id", "user IDs (repeatable or comma-separated)")
	str(&s.email, "email", "email contains (case-insensitive)")
	list(&s.groups, "group", "member of this group (case-insensitive; repeatable = any of)")
	str(&s.firstName, "first-name", "first name contains (case-insensitive)")
	str(&s.lastName, "last-name", "last name contains (case-insensitive)")
	str(&s.from, "registered-from", "registered at or after: "+timeHelp)
	str(&s.to, "registered-to", "registered at or before (a day counts whole): "+timeHelp)
	str(&s.company, "company", "company name contains (case-insensitive), or a company ID")
	flag(&s.active, "active", "active users only")
	flag(&s.inactive, "inactive", "inactive users only")
	str(&s.typ, "type", "enterprise or merchant")
	str(&s.lastLoginBefore, "last-login-before", "last logged in before (never-logged-in users excluded): "+timeHelp)
	str(&s.lastLoginAfter, "last-login-after", "last logged in at or after: "+timeHelp)
	flag(&s.neverLoggedIn, "never-logged-in", "users who never logged in")
	flag(&s.twoFA, "2fa", "users with a confirmed 2FA device")
	flag(&s.noTwoFA, "no-2fa", "users without a confirmed 2FA device")
	list(&s.perms, "perm", "holds an extra permission matching this identifier, label or glob (repeatable = any of)")
	flag(&s.noPerms, "no-perms", "users holding no extra permission")
	flag(&s.noGroup, "no-group", "users in no group")
	list(&s.notGroups, "not-group", "not a member of this group (repeatable = of none of them)")
	list(&s.allGroups, "all-groups", "member of every one of these groups (comma-separated or repeated)")
	flag(&s.companyOwner, "company-owner", "company owners only")
	flag(&s.notOwner, "not-company-owner", "users who own no company")
	str(&s.language, "language", "preferred interface language (exact code, e.g. de)")
	flag(&s.staff, "staff", "staff users (is_staff)")
	flag(&s.superuser, "superuser", "superusers")
	str(&s.emailDomain, "email-domain", "email domain, exactly (case-insensitive): example.com")
	completeFlag(inv, cmd, "type", cobra.FixedCompletions([]string{catalog.TypeEnterprise, catalog.TypeMerchant}, cobra.ShellCompDirectiveNoFileComp))
	groupNamesFn := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return groupNames(), cobra.ShellCompDirectiveNoFileComp
	}
	for _, g := range []string{"group", "not-group", "all-groups"} {
		if !s.omitted[g] {
			completeFlag(inv, cmd, g, groupNamesFn)
		}
	}
	if !s.omitted["language"] {
		completeFlag(inv, cmd, "language", cobra.FixedCompletions(catalog.Languages, cobra.ShellCompDirectiveNoFileComp))
	}
	completeFlag(inv, cmd, "perm", func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
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

// exclusivePairs are filters that select nothing together.
var exclusivePairs = [][2]string{{"active", "inactive"}, {"2fa", "no-2fa"}, {"company-owner", "not-company-owner"},
	{"never-logged-in", "last-login-before"}, {"never-logged-in", "last-login-after"}, {"no-perms", "perm"},
	{"no-group", "group"}, {"no-group", "all-groups"}}

// changed reports whether the filter flag name was set.
func (s *selector) changed(name string) bool {
	if s.omitted[name] {
		return false
	}
	f := s.flags.Lookup(name)
	return f != nil && f.Changed
}

// given reports whether any filter flag was set.
func (s *selector) given() bool {
	for _, n := range selectorFlagNames {
		if s.changed(n) {
			return true
		}
	}
	return false
}

// filter validates the flags: a malformed value is a usage error (exit 2);
// a group or permission that does not exist is refused (exit 4), named.
func (s *selector) filter(now time.Time) (client.UserFilter, error) {
	var fl client.UserFilter
	for _, p := range exclusivePairs {
		if s.changed(p[0]) && s.changed(p[1]) {
			return fl, usageErrorf("--%s and --%s select nobody together: give one", p[0], p[1])
		}
	}
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
			// A filter's fixed choice, as --type: a usage error (exit 2).
			// (users update --language refuses a value to write: exit 4.)
			return fl, usageError(err.Error())
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
