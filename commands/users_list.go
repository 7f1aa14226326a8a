package commands

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/b2badmin/b2badmin/client"
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

// exportMemoryLimit is the Go heap an export may grow to before the
// collector works harder: ranges read ahead (see client.ListUsers) and
// garbage between collections stay within it.
const exportMemoryLimit = 40 << 20

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
	*Invocation
	sel        selector
	sort       string
	limit      int
	after      string
	all, count bool
}

func newCmdUsersList(inv *Invocation, runF func(context.Context, *usersListOptions) error) *cobra.Command {
	o := &usersListOptions{Invocation: inv}
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

Times: ` + timeHelp + `; a day given as an upper
bound counts whole (--registered-to 2024-05-01 includes that day).
The same filters select the users of every bulk command (users deactivate,
set-group, perms grant, …): see docs/selectors.md.

Exit codes: 2 for a malformed flag value (date, ID, type, sort key, column,
cursor); 4 for a group name that does not exist.`,
		Example: `  b2badmin users list --group 'Merchant owner' --active --registered-from 2024-01-01
  b2badmin users list --email @falconsquare.com --sort -date_joined -o json
  b2badmin users list --all -o csv > users.csv
  b2badmin users list --last-login-before 180d --type merchant --active --count
  b2badmin users list --inactive -o ids --all | b2badmin users activate - --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCmd(cmd, inv, o, runF, runUsersList) },
	}
	fl := cmd.Flags()
	addSelectorFlags(inv, cmd, &o.sel)
	onceStringVar(fl, &o.sort, "sort", "id", "sort key ("+strings.Join(client.UserSortKeys(), ", ")+"); prefix - for descending")
	fl.IntVar(&o.limit, "limit", defaultPageSize, "rows per page")
	onceStringVar(fl, &o.after, "after", "", "continue after this cursor (printed on stderr by the previous page)")
	fl.BoolVar(&o.all, "all", false, "every matching row, streamed (no page limit)")
	fl.BoolVar(&o.count, "count", false, "print only the number of matching users")
	cmd.MarkFlagsMutuallyExclusive("all", "limit")
	cmd.MarkFlagsMutuallyExclusive("count", "all")
	cmd.MarkFlagsMutuallyExclusive("count", "after")
	cmd.MarkFlagsMutuallyExclusive("count", "limit")
	completeFlag(inv, cmd, "sort", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var keys []string
		for _, k := range client.UserSortKeys() {
			keys = append(keys, k, "-"+k)
		}
		return keys, cobra.ShellCompDirectiveNoFileComp
	})
	return withColumns(cmd, userColumns)
}

func runUsersList(ctx context.Context, o *usersListOptions) error {
	inv := o.Invocation
	filter, err := o.sel.filter(time.Now())
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
		// MiB for a tenth less CPU, within a memory limit that keeps the
		// export's peak flat. Both restored for the next batch line.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		if debug.SetMemoryLimit(-1) == math.MaxInt64 { // none set (a batch sets its own)
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(exportMemoryLimit))
		}
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
