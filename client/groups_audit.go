package client

import (
	"context"
	"sort"

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
			f.Email, f.Type, f.CompanyID, f.Groups = u.Email, u.Type, u.CompanyID, append([]string{}, u.Groups...)
		}
		resolved = append(resolved, f)
	}
	goneNow := func(r baselineRow) { gone(r, nil) }
	// Users without groups break no group rule; counting them is a
	// separate, index-only query.
	if st.Users, err = c.countUsers(ctx); err != nil {
		return st, err
	}
	const q = `
SELECT u.id, u.email, u.type, u.company_id, g.ids
FROM (SELECT user_id, array_agg(group_id) AS ids FROM rbac_user_groups GROUP BY user_id) g
JOIN rbac_user u ON u.id = g.user_id
ORDER BY u.id`
	rows, err := c.db.Query(ctx, q)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	var u GroupFinding
	var ids []int32
	for rows.Next() {
		ids = ids[:0]
		if err := rows.Scan(&u.UserID, &u.Email, &u.Type, &u.CompanyID, &ids); err != nil {
			return st, err
		}
		u.Groups = u.Groups[:0]
		for _, id := range ids {
			u.Groups = append(u.Groups, names[id])
		}
		vs := catalog.CheckGroups(u.Type, u.CompanyID != nil, u.Groups)
		before, err := base.forUser(u.UserID, goneNow)
		if err != nil {
			return st, err
		}
		if len(vs) > 0 || len(before) > 0 {
			u.Groups = catalog.InSeedOrder(u.Groups)
		}
		for _, v := range vs {
			f := u
			f.Violation = v
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
