package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// UserFilter is the Users page's filter panel. Zero fields filter nothing;
// filters combine with AND, values inside one filter (IDs, groups) with OR.
type UserFilter struct {
	IDs       []int64
	Email     string   // case-insensitive substring
	Groups    []string // group names, case-insensitive; any of them
	FirstName string   // case-insensitive substring
	LastName  string   // case-insensitive substring
	// JoinedFrom is inclusive, JoinedBefore exclusive (the command turns an
	// inclusive --registered-to into the instant just after it).
	JoinedFrom   *time.Time
	JoinedBefore *time.Time
	// CompanyID, when set, matches the company by ID; otherwise Company is
	// a case-insensitive substring of the company's name.
	CompanyID *int64
	Company   string
	Active    *bool
	Type      string // enterprise or merchant

	// LastLoginBefore is exclusive and LastLoginAfter inclusive; users who
	// never logged in match neither (NeverLoggedIn selects them).
	LastLoginBefore *time.Time
	LastLoginAfter  *time.Time
	NeverLoggedIn   bool
	TwoFA           *bool    // has (true) or lacks (false) a confirmed 2FA device
	Perms           []string // holds any of these extra permissions (identifiers)
	NoPerms         bool     // holds no extra permission
	NoGroup         bool     // is in no group
	NotGroups       []string // is in none of these groups
	AllGroups       []string // is in every one of these groups
	CompanyOwner    *bool
	Language        string // preferred interface language, exact
	Staff           bool   // is_staff
	Superuser       bool   // is_superuser
	EmailDomain     string // the address's domain, exact, case-insensitive
}

func (f *UserFilter) isZero() bool {
	return len(f.IDs) == 0 && f.Email == "" && len(f.Groups) == 0 && f.FirstName == "" && f.LastName == "" &&
		f.JoinedFrom == nil && f.JoinedBefore == nil && f.CompanyID == nil && f.Company == "" && f.Active == nil && f.Type == "" &&
		f.LastLoginBefore == nil && f.LastLoginAfter == nil && !f.NeverLoggedIn && f.TwoFA == nil && len(f.Perms) == 0 &&
		!f.NoPerms && !f.NoGroup && len(f.NotGroups) == 0 && len(f.AllGroups) == 0 && f.CompanyOwner == nil &&
		f.Language == "" && !f.Staff && !f.Superuser && f.EmailDomain == ""
}

// UserRow is one line of the users list. ListUsers reuses one UserRow for
// every row: a callback must copy what it keeps.
type UserRow struct {
	ID           int64
	Email        string
	FirstName    string
	LastName     string
	IsActive     bool
	Type         string
	DateJoined   time.Time
	Groups       []string
	Phone        string
	Company      *string
	CompanyID    *int64
	UUID         string
	LastLogin    *time.Time
	TwoFA        bool
	Language     string
	CommLanguage string
	CompanyOwner bool
	IsStaff      bool
	IsSuperuser  bool
	// Name is the "Name" column of the Users page: first and last name.
	Name string

	sortValue string
}

// sortSpec maps a --sort key to its SQL expression and the type its cursor
// value is cast back to. Only these keys reach SQL: the map is the
// whitelist. Expressions never yield NULL, so keyset comparisons hold.
type sortSpec struct{ expr, typ string }

var userSorts = map[string]sortSpec{
	"id":          {"u.id", "bigint"},
	"email":       {"lower(u.email)", "text"},
	"first_name":  {"lower(u.first_name)", "text"},
	"last_name":   {"lower(u.last_name)", "text"},
	"name":        {"lower(u.first_name || ' ' || u.last_name)", "text"},
	"date_joined": {"u.date_joined", "timestamptz"},
	"last_login":  {"coalesce(u.last_login, '-infinity')", "timestamptz"},
	"is_active":   {"u.is_active", "boolean"},
	"type":        {"u.type", "text"},
	"company":     {"coalesce(c.name, '')", "text"},
}

var sortAliases = map[string]string{"registered": "date_joined", "joined": "date_joined", "active": "is_active", "status": "type"}

// UserSortKeys lists the accepted --sort keys, for help and completion.
func UserSortKeys() []string {
	out := make([]string, 0, len(userSorts))
	for k := range userSorts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// UserSort is a whitelisted sort key and its direction; ties break by ID
// in the same direction, so the order is total and keyset pages are exact.
type UserSort struct {
	Key  string
	Desc bool
}

// ParseUserSort reads "key" or "-key".
func ParseUserSort(s string) (UserSort, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	var o UserSort
	if strings.HasPrefix(s, "-") {
		o.Desc, s = true, s[1:]
	}
	if a, ok := sortAliases[s]; ok {
		s = a
	}
	if _, ok := userSorts[s]; !ok {
		return o, fmt.Errorf("unknown sort key %q (known: %s; prefix - for descending)", s, strings.Join(UserSortKeys(), ", "))
	}
	o.Key = s
	return o, nil
}

// Cursor marks the last row of a page: its sort value and ID. It is opaque
// to users (base64 of JSON) and tied to the sort it was made with.
type Cursor struct {
	Key   string `json:"k"`
	Desc  bool   `json:"d,omitempty"`
	Value string `json:"v"`
	ID    int64  `json:"i"`
}

// String encodes the cursor for --after.
func (c Cursor) String() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor means an --after value is not one this tool printed.
var ErrBadCursor = errors.New("malformed --after cursor")

// ParseCursor decodes an --after value and checks it belongs to sort s.
func ParseCursor(text string, s UserSort) (Cursor, error) {
	var c Cursor
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID <= 0 {
		return c, ErrBadCursor
	}
	if _, ok := userSorts[c.Key]; !ok {
		return c, ErrBadCursor
	}
	if c.Key != s.Key || c.Desc != s.Desc {
		dir := func(d bool) string { return map[bool]string{false: "", true: "-"}[d] }
		return c, fmt.Errorf("--after cursor was made for --sort %s%s, not %s%s", dir(c.Desc), c.Key, dir(s.Desc), s.Key)
	}
	if err := validCursorValue(c); err != nil {
		return c, err
	}
	return c, nil
}

// validCursorValue rejects values the SQL cast would refuse, so that a
// tampered cursor is a usage error rather than a database error.
func validCursorValue(c Cursor) error {
	var err error
	switch userSorts[c.Key].typ {
	case "bigint":
		_, err = strconv.ParseInt(c.Value, 10, 64)
	case "boolean":
		if c.Value != "true" && c.Value != "false" {
			err = ErrBadCursor
		}
	case "text":
		// PostgreSQL text holds no NUL (JSON decoding has already made
		// the value valid UTF-8).
		if strings.ContainsRune(c.Value, 0) {
			err = ErrBadCursor
		}
	case "timestamptz":
		if c.Value != "-infinity" {
			err = ErrBadCursor
			for _, layout := range []string{"2006-01-02 15:04:05.999999-07", "2006-01-02 15:04:05.999999-07:00"} {
				// PostgreSQL prints the form it reads back: the value must
				// be it exactly (Go also takes "+00:60"), with no year 0
				// and an offset within ±15:59.
				t, perr := time.Parse(layout, c.Value)
				if _, off := t.Zone(); perr == nil && t.Format(layout) == c.Value && t.Year() >= 1 && off > -16*3600 && off < 16*3600 {
					err = nil
					break
				}
			}
		}
	}
	if err != nil {
		return ErrBadCursor
	}
	return nil
}

// UserQuery is one users list request.
type UserQuery struct {
	Filter UserFilter
	Sort   UserSort
	After  *Cursor
	Limit  int // 0 = every row
	// Need says whether an optional, costlier column (groups, two_factor,
	// company) will be printed; when nil every column is computed.
	Need func(key string) bool

	span *idSpan // set only by the split export: one range of ids
}

// idSpan is the id range lo <= id <= hi.
type idSpan struct{ lo, hi int64 }

// ListUsers streams the users matching q to fn in order, one row at a
// time straight from the connection: nothing is collected, so memory stays
// flat on millions of rows. When a page is full and more rows follow it
// returns the cursor of the next page.
func (c *Client) ListUsers(ctx context.Context, q UserQuery, fn func(*UserRow) error) (*Cursor, error) {
	if h, ok := c.splittable(q); ok {
		if done, err := c.listUsersSplit(ctx, h, q, fn); done {
			return nil, err
		}
	}
	sql, args := buildUserList(q)
	rows, err := c.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var u UserRow
	dest := u.dest()
	n := 0
	var last Cursor
	for rows.Next() {
		if q.Limit > 0 && n == q.Limit {
			// The extra row only says that another page exists.
			rows.Close()
			return &last, rows.Err()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		n++
		u.Name = fullName(u.FirstName, u.LastName)
		last = Cursor{Key: q.Sort.Key, Desc: q.Sort.Desc, Value: u.sortValue, ID: u.ID}
		if err := fn(&u); err != nil {
			return nil, err
		}
	}
	return nil, rows.Err()
}

// groupsColumn is the position of the groups in buildUserList's columns.
const groupsColumn = 7

// dest are the scan targets of buildUserList's columns, in order.
func (u *UserRow) dest() []any {
	return []any{&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.IsActive, &u.Type, &u.DateJoined, &u.Groups,
		&u.Phone, &u.Company, &u.CompanyID, &u.UUID, &u.LastLogin, &u.TwoFA, &u.Language, &u.CommLanguage,
		&u.CompanyOwner, &u.IsStaff, &u.IsSuperuser, &u.sortValue}
}

func fullName(first, last string) string {
	switch {
	case last == "":
		return strings.TrimSpace(first)
	case first == "":
		return strings.TrimSpace(last)
	}
	return strings.TrimSpace(first + " " + last)
}

// CountUsers is the number of users matching f (--count).
func (c *Client) CountUsers(ctx context.Context, f UserFilter) (int64, error) {
	var b sqlBuilder
	where := b.userWhere(f)
	var n int64
	err := c.db.QueryRow(ctx, `SELECT count(*) FROM rbac_user u LEFT JOIN rbac_company c ON c.id = u.company_id`+where, b.args...).Scan(&n)
	return n, err
}

// The optional columns and what replaces them when nobody prints them. A
// company name nobody reads lets PostgreSQL drop the join altogether.
const (
	// Per row, the group names by a scalar lookup: twice as fast as a
	// join, which PostgreSQL runs as a hash join built for every user.
	groupsSQL = `ARRAY(SELECT (SELECT g.name FROM auth_group g WHERE g.id = ug.group_id)
        FROM rbac_user_groups ug WHERE ug.user_id = u.id ORDER BY 1)`
	// An unfiltered export aggregates every membership in one ordered pass
	// and merges it with the users' primary key: three times faster than
	// a subquery per user. (With a filter, that pass could cost more than
	// the few users it serves, so filtered lists keep groupsSQL.)
	groupsJoinSQL = `
LEFT JOIN (SELECT ug.user_id, array_agg(g.name ORDER BY g.name) AS names
           FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id
           GROUP BY ug.user_id) gr ON gr.user_id = u.id`
	spanCompanySQL = `(SELECT c.name FROM rbac_company c WHERE c.id = u.company_id)`
	// A split export's groups, as ids: no join to auth_group and no sort
	// of names per user on the server, no string per name on the client.
	spanGroupsJoinSQL = `
LEFT JOIN (SELECT ug.user_id, array_agg(ug.group_id::int8) AS ids
           FROM rbac_user_groups ug WHERE %s
           GROUP BY ug.user_id) gr ON gr.user_id = u.id`
	twoFASQL = `(EXISTS (SELECT 1 FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed)
        OR EXISTS (SELECT 1 FROM otp_email_emaildevice d WHERE d.user_id = u.id AND d.confirmed))`
	// On a page the planner, costing the filter's rows before the LIMIT,
	// turns the EXISTS above into hashed subplans that read both device
	// tables whole (~400 ms on a million users). Scalar subqueries are
	// never hashed: a page probes the index for its 50 rows instead. A
	// full export keeps the hashed form, which is the cheaper one there.
	twoFAPageSQL = `(coalesce((SELECT true FROM otp_totp_totpdevice d WHERE d.user_id = u.id AND d.confirmed LIMIT 1), false)
        OR coalesce((SELECT true FROM otp_email_emaildevice d WHERE d.user_id = u.id AND d.confirmed LIMIT 1), false))`
)

func buildUserList(q UserQuery) (string, []any) {
	need := q.Need
	if need == nil {
		need = func(string) bool { return true }
	}
	pick := func(key, expr, none string) string {
		if need(key) {
			return expr
		}
		return none
	}
	s := userSorts[q.Sort.Key]
	if s.expr == "" {
		q.Sort, s = UserSort{Key: "id"}, userSorts["id"]
	}
	b := sqlBuilder{page: q.Limit > 0}
	twoFA, groups, groupsJoin, company := twoFASQL, groupsSQL, "", "c.name"
	if q.Limit > 0 {
		twoFA = twoFAPageSQL
	} else if q.Filter.isZero() && need("groups") {
		groups, groupsJoin = "coalesce(gr.names, '{}')", groupsJoinSQL
	}
	// The sort value makes the next page's cursor: a whole export has none.
	sortValue := "(" + s.expr + ")::text"
	if q.Limit == 0 {
		sortValue = "''"
	}
	var inSpan string
	noGroups := `'{}'::text[]`
	if q.span != nil {
		// One id range of a split export: every whole-table pass (the
		// memberships, the hashed 2FA subplans) reads only that range,
		// and the company is looked up per row, where a join would
		// hash the whole company table for each range. Groups travel
		// as ids, which the client names (groupNamer).
		lo, hi := b.arg(q.span.lo), b.arg(q.span.hi)
		within := func(col string) string { return col + " >= " + lo + " AND " + col + " <= " + hi }
		inSpan = within("u.id")
		twoFA = strings.ReplaceAll(twoFA, "d.confirmed)", "d.confirmed AND "+within("d.user_id")+")")
		if groupsJoin != "" { // a split export has no filter: groups come by join when printed
			groups, groupsJoin = "coalesce(gr.ids, '{}')", fmt.Sprintf(spanGroupsJoinSQL, within("ug.user_id"))
		}
		noGroups = `'{}'::int8[]`
		company = spanCompanySQL
	}
	sql := `SELECT u.id, u.email, u.first_name, u.last_name, u.is_active, u.type, u.date_joined, ` +
		pick("groups", groups, noGroups) + `, u.phone, ` +
		pick("company", company, "NULL::text") + `, u.company_id, u.uuid::text, u.last_login, ` +
		pick("two_factor", twoFA, "false") + `, u.language, u.communication_language, u.is_company_owner, u.is_staff, u.is_superuser, ` +
		sortValue + `
FROM rbac_user u LEFT JOIN rbac_company c ON c.id = u.company_id` + groupsJoin + b.userWhere(q.Filter)
	if inSpan != "" {
		sql += b.and(inSpan)
	}
	dir, cmp := "", ">"
	if q.Sort.Desc {
		dir, cmp = " DESC", "<"
	}
	if q.After != nil {
		id := b.arg(q.After.ID)
		cond := "u.id " + cmp + " " + id
		if q.Sort.Key != "id" {
			cond = fmt.Sprintf("(%s, u.id) %s (%s::%s, %s)", s.expr, cmp, b.arg(q.After.Value), s.typ, id)
		}
		sql += b.and(cond)
	}
	if q.Sort.Key == "id" {
		sql += "\nORDER BY u.id" + dir
	} else {
		sql += "\nORDER BY " + s.expr + dir + ", u.id" + dir
	}
	if q.Limit > 0 {
		sql += "\nLIMIT " + b.arg(int64(q.Limit)+1)
	}
	return sql, b.args
}
