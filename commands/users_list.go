package commands

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/output"
)

// userColumns are every field of a users list row, in row order. The
// Default ones are the Users page's columns; JSON, JSON Lines, CSV and
// TSV carry all of them unless --columns narrows. docs/output.md
// documents each key.
var userColumns = output.Columns{
	{Key: "id", Header: "ID", Default: true},
	{Key: "email", Header: "Email", Default: true},
	{Key: "name", Header: "Name", Default: true},
	{Key: "is_active", Header: "Is active", Default: true},
	{Key: "type", Header: "Status", Default: true},
	{Key: "date_joined", Header: "Registration date", Default: true},
	{Key: "groups", Header: "Group", Default: true},
	{Key: "first_name", Header: "First name"},
	{Key: "last_name", Header: "Last name"},
	{Key: "phone", Header: "Phone"},
	{Key: "company", Header: "Company"},
	{Key: "company_id", Header: "Company ID"},
	{Key: "uuid", Header: "UUID"},
	{Key: "last_login", Header: "Last login"},
	{Key: "two_factor", Header: "2FA"},
	{Key: "language", Header: "Language"},
	{Key: "communication_language", Header: "Communication language"},
	{Key: "is_company_owner", Header: "Company owner"},
	{Key: "is_staff", Header: "Staff"},
	{Key: "is_superuser", Header: "Superuser"},
}

// userRowPointers is a users list row for u: pointers to u's fields, in
// userColumns order. ListUsers reuses one UserRow, so the row is built once
// and every later row costs no allocation (the renderers dereference).
func userRowPointers(u *client.UserRow) []any {
	return []any{&u.ID, &u.Email, &u.Name, &u.IsActive, &u.Type, &u.DateJoined, &u.Groups,
		&u.FirstName, &u.LastName, &u.Phone, &u.Company, &u.CompanyID, &u.UUID, &u.LastLogin,
		&u.TwoFA, &u.Language, &u.CommLanguage, &u.CompanyOwner, &u.IsStaff, &u.IsSuperuser}
}

const defaultPageSize = 50

// maxPageSize bounds --limit; larger reads are what --all streams.
const maxPageSize = 1_000_000

type usersListOptions struct {
	ids                        []string
	email, firstName, lastName string
	groups                     []string
	from, to                   string
	company                    string
	active, inactive           bool
	typ                        string
	sort                       string
	limit                      int
	after                      string
	all, count                 bool
}

func newUsersListCmd(inv *Invocation) *cobra.Command {
	o := &usersListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users: the Users page, with its filters",
		Long: `List users matching every given filter (filters combine with AND; the
values of one repeatable filter with OR).

Pages: without --all at most --limit rows (default 50) are printed; when
more follow, the next page's cursor is printed on stderr as
"b2badmin: next page: --after CURSOR". Pages use keyset pagination, so page
10,000 costs what page 1 costs. --all streams every row (-o csv, tsv, jsonl
and ids write each row as it is read, so memory stays flat).

Dates: YYYY-MM-DD (a whole UTC day: --registered-to 2024-05-01 includes that
day) or an RFC 3339 time; both bounds are inclusive.

Exit codes: 2 for a malformed flag value (date, ID, type, sort key, column,
cursor); 4 for a group name that does not exist.`,
		Example: `  b2badmin users list --group 'Merchant owner' --active --registered-from 2024-01-01
  b2badmin users list --email @example.com --sort -date_joined -o json
  b2badmin users list --all -o csv > users.csv
  b2badmin users list --inactive -o ids --all | b2badmin users activate -`,
		Args: cobra.NoArgs,
		// The filters are checked without a database here too, so that
		// the batch pre-check refuses a malformed one before line 1 runs.
		PreRunE: func(*cobra.Command, []string) error { _, err := o.filter(); return err },
		RunE:    func(cmd *cobra.Command, _ []string) error { return runUsersList(cmd, inv, o) },
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.ids, "id", nil, "user IDs (repeatable or comma-separated)")
	onceStringVar(fl, &o.email, "email", "", "email contains (case-insensitive)")
	fl.StringSliceVar(&o.groups, "group", nil, "member of this group (case-insensitive; repeatable = any of)")
	onceStringVar(fl, &o.firstName, "first-name", "", "first name contains (case-insensitive)")
	onceStringVar(fl, &o.lastName, "last-name", "", "last name contains (case-insensitive)")
	onceStringVar(fl, &o.from, "registered-from", "", "registered on or after (YYYY-MM-DD or RFC 3339)")
	onceStringVar(fl, &o.to, "registered-to", "", "registered on or before (YYYY-MM-DD = to the end of that day, or RFC 3339)")
	onceStringVar(fl, &o.company, "company", "", "company name contains (case-insensitive), or a company ID")
	fl.BoolVar(&o.active, "active", false, "active users only")
	fl.BoolVar(&o.inactive, "inactive", false, "inactive users only")
	onceStringVar(fl, &o.typ, "type", "", "enterprise or merchant")
	onceStringVar(fl, &o.sort, "sort", "id", "sort key ("+strings.Join(client.UserSortKeys(), ", ")+"); prefix - for descending")
	fl.IntVar(&o.limit, "limit", defaultPageSize, "rows per page")
	onceStringVar(fl, &o.after, "after", "", "continue after this cursor (printed on stderr by the previous page)")
	fl.BoolVar(&o.all, "all", false, "every matching row, streamed (no page limit)")
	fl.BoolVar(&o.count, "count", false, "print only the number of matching users")
	cmd.MarkFlagsMutuallyExclusive("active", "inactive")
	cmd.MarkFlagsMutuallyExclusive("all", "limit")
	cmd.MarkFlagsMutuallyExclusive("count", "all")
	cmd.MarkFlagsMutuallyExclusive("count", "after")
	cmd.MarkFlagsMutuallyExclusive("count", "limit")
	_ = cmd.RegisterFlagCompletionFunc("group", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, g := range catalog.Groups() {
			names = append(names, g.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{catalog.TypeEnterprise, catalog.TypeMerchant}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("sort", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var keys []string
		for _, k := range client.UserSortKeys() {
			keys = append(keys, k, "-"+k)
		}
		return keys, cobra.ShellCompDirectiveNoFileComp
	})
	return withColumns(cmd, userColumns)
}

func runUsersList(cmd *cobra.Command, inv *Invocation, o *usersListOptions) error {
	filter, err := o.filter()
	if err != nil {
		return err
	}
	fm, p, err := inv.selectColumns(userColumns)
	if err != nil {
		return err
	}
	q := client.UserQuery{Filter: filter, Limit: o.limit, Need: p.Has}
	if q.Sort, err = client.ParseUserSort(o.sort); err != nil {
		return usageError(err.Error())
	}
	if o.all {
		q.Limit = 0
	} else if o.limit > maxPageSize {
		return usageErrorf("--limit must be at most %d, got %d (use --all to stream every row)", maxPageSize, o.limit)
	} else if o.limit < 1 {
		return usageErrorf("--limit must be at least 1, got %d (use --all for every row)", o.limit)
	}
	if o.after != "" {
		c, err := client.ParseCursor(o.after, q.Sort)
		if err != nil {
			return usageError(err.Error())
		}
		q.After = &c
	}
	ctx, cancel := commandContext(cmd, inv)
	defer cancel()
	c, err := inv.ReadClient(ctx)
	if err != nil {
		return err
	}
	if o.count {
		n, err := c.CountUsers(ctx, filter)
		if err != nil {
			return err
		}
		if fm == output.JSON || fm == output.JSONL {
			return output.WriteJSONLine(inv.IO.Out, map[string]int64{"count": n})
		}
		_, err = fmt.Fprintln(inv.IO.Out, n)
		return err
	}
	if q.Limit == 0 {
		// A long export allocates little but steadily (pgx's strings); the
		// live heap stays a few MiB, so collecting less often trades a few
		// MiB for a tenth less CPU. Restored for the next batch line.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	w := output.NewRowWriter(fm, inv.IO.Out, p, inv.OutputOptions())
	var row []any
	var rowOf *client.UserRow
	next, err := c.ListUsers(ctx, q, func(u *client.UserRow) error {
		if u != rowOf {
			row, rowOf = userRowPointers(u), u
		}
		return w.Write(row)
	})
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if next != nil {
		fmt.Fprintf(inv.IO.ErrOut, "b2badmin: next page: --after %s\n", next)
	}
	return nil
}

// filter validates the filter flags: a malformed value is a usage error
// (exit 2); a group that does not exist is refused (exit 4), named.
func (o *usersListOptions) filter() (client.UserFilter, error) {
	var fl client.UserFilter
	for _, s := range o.ids {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return fl, usageErrorf("invalid --id %q: want a positive integer", s)
		}
		fl.IDs = append(fl.IDs, id)
	}
	fl.Email, fl.FirstName, fl.LastName = o.email, o.firstName, o.lastName
	for _, name := range o.groups {
		if strings.TrimSpace(name) == "" {
			continue
		}
		g, ok := catalog.LookupGroup(name)
		if !ok {
			return fl, client.Refused("%s", catalog.UnknownGroup(name))
		}
		fl.Groups = append(fl.Groups, g.Name)
	}
	var err error
	if fl.JoinedFrom, err = parseDateBound("--registered-from", o.from, false); err != nil {
		return fl, err
	}
	if fl.JoinedBefore, err = parseDateBound("--registered-to", o.to, true); err != nil {
		return fl, err
	}
	if fl.JoinedFrom != nil && fl.JoinedBefore != nil && !fl.JoinedFrom.Before(*fl.JoinedBefore) {
		return fl, usageErrorf("--registered-from %s is after --registered-to %s", o.from, o.to)
	}
	if c := strings.TrimSpace(o.company); c != "" {
		if id, err := strconv.ParseInt(c, 10, 64); err == nil {
			fl.CompanyID = &id
		} else {
			fl.Company = c
		}
	}
	if o.active || o.inactive {
		a := o.active
		fl.Active = &a
	}
	if o.typ != "" {
		t := strings.ToLower(strings.TrimSpace(o.typ))
		if t != catalog.TypeEnterprise && t != catalog.TypeMerchant {
			return fl, usageErrorf("invalid --type %q: want enterprise or merchant", o.typ)
		}
		fl.Type = t
	}
	if err := fl.Validate(); err != nil {
		return fl, usageError(err.Error())
	}
	return fl, nil
}

// parseDateBound reads a date or an RFC 3339 time. For an upper bound it
// returns the first instant after it, so that the filter is inclusive: a
// bare date covers its whole UTC day, a time its whole microsecond (the
// database's precision).
func parseDateBound(flag, s string, upper bool) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if upper {
			t = t.AddDate(0, 0, 1)
		}
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, usageErrorf("invalid %s %q: want YYYY-MM-DD or an RFC 3339 time such as 2024-05-01T12:00:00Z", flag, s)
	}
	t = t.UTC()
	if upper {
		t = t.Truncate(time.Microsecond).Add(time.Microsecond)
	}
	return &t, nil
}
