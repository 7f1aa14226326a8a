package client

import (
	"context"
	"sort"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/b2badmin/b2badmin/client/catalog"
)

// GroupFinding is one user breaking one group rule (SPEC §2): states that
// another client of the database (the web back office, a psql session) can
// create, which this tool refuses to build.
type GroupFinding struct {
	UserID    int64
	Email     string
	Type      string
	CompanyID *int64
	Groups    []string // all of the user's groups, in the seed's order
	catalog.Violation
	Change string // as Finding.Change
}

// GroupsAuditStats count what a groups audit saw.
type GroupsAuditStats struct {
	Users    int64 // every user of the database
	Findings int64
	ByRule   map[string]int64 // current findings per rule id
	BaselineCounts
}

// AuditGroups checks every user's groups against the group rules, calling
// emit for each finding in user-id order, then (with a baseline, which is
// the -o csv of an earlier groups audit) for each resolved one: a finding
// of the baseline that is none now. One query streams every user with
// their groups; the rules are judged by catalog.CheckGroups, as users show
// judges one user.
func (c *Client) AuditGroups(ctx context.Context, base *Baseline, emit func(*GroupFinding) error) (GroupsAuditStats, error) {
	st := GroupsAuditStats{ByRule: map[string]int64{}}
	names, err := groupNamesByID(ctx, c.db)
	if err != nil {
		return st, err
	}
	var resolved []*GroupFinding
	gone := func(r baselineRow, u *GroupFinding) {
		f := &GroupFinding{UserID: r.userID, Email: r.email, Groups: []string{}, Violation: catalog.Violation{Rule: r.key, Groups: []string{}}, Change: ChangeResolved}
		if u != nil {
			f.Email, f.Type, f.Groups = u.Email, u.Type, append([]string{}, u.Groups...)
			if u.CompanyID != nil {
				id := *u.CompanyID
				f.CompanyID = &id
			}
		}
		resolved = append(resolved, f)
	}
	goneNow := func(r baselineRow) { gone(r, nil) }
	// Users without groups break no group rule; counting them is a
	// separate, index-only query.
	if st.Users, err = c.countUsers(ctx); err != nil {
		return st, err
	}
	// Each user's groups come as one bit mask, bit i for the i-th group
	// of the catalog: on a million users, decoding an array per row was
	// most of the client's time.
	catalogGroups := catalog.Groups()
	byName := make(map[string]int32, len(names))
	for id, n := range names {
		byName[n] = id
	}
	ids := make([]int32, len(catalogGroups))
	for i, g := range catalogGroups {
		ids[i] = byName[g.Name] // 0, no group, when auth_group lacks it
	}
	const q = `
SELECT u.id, u.email, u.type, u.company_id, g.mask
FROM (SELECT user_id, bit_or(1::int8 << (array_position($1::int[], group_id) - 1)) AS mask
      FROM rbac_user_groups GROUP BY user_id) g
JOIN rbac_user u ON u.id = g.user_id
ORDER BY u.id`
	rows, err := c.db.Query(ctx, q, ids)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	var u GroupFinding
	var company pgtype.Int8
	var mask pgtype.Int8 // NULL: only groups the catalog does not know
	for rows.Next() {
		if err := rows.Scan(&u.UserID, &u.Email, &u.Type, &company, &mask); err != nil {
			return st, err
		}
		u.Groups = u.Groups[:0]
		for i, g := range catalogGroups {
			if mask.Int64&(1<<i) != 0 {
				u.Groups = append(u.Groups, g.Name)
			}
		}
		u.CompanyID = nil
		if company.Valid {
			u.CompanyID = &company.Int64
		}
		vs := catalog.CheckGroups(u.Type, company.Valid, u.Groups)
		before, err := base.forUser(u.UserID, goneNow)
		if err != nil {
			return st, err
		}
		for _, v := range vs {
			f := u
			f.Violation = v
			if company.Valid {
				id := company.Int64
				f.CompanyID = &id
			}
			f.Change = before.mark(v.Rule)
			st.count(f.Change)
			st.Findings++
			st.ByRule[v.Rule]++
			if err := emit(&f); err != nil {
				return st, err
			}
		}
		before.rest(func(r baselineRow) { gone(r, &u) })
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	rows.Close()
	if err := base.drain(goneNow); err != nil {
		return st, err
	}
	sort.SliceStable(resolved, func(i, j int) bool { return resolved[i].UserID < resolved[j].UserID })
	for _, f := range resolved {
		st.count(f.Change)
		if err := emit(f); err != nil {
			return st, err
		}
	}
	return st, nil
}
