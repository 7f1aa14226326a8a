package client

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/access"
	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/yamlfile"
)

// ExportAccess streams the access of the users matching f (every user for
// a zero filter), by email: role and API groups, extra permissions.
func (c *Client) ExportAccess(ctx context.Context, f UserFilter, fn func(access.User) error) error {
	var b sqlBuilder
	where := b.userWhere(f)
	q := `
SELECT u.email,
       ARRAY(SELECT g.name FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = u.id),
       ARRAY(SELECT ct.app_label || '.' || p.codename FROM rbac_user_user_permissions up
             JOIN auth_permission p ON p.id = up.permission_id JOIN django_content_type ct ON ct.id = p.content_type_id
             WHERE up.user_id = u.id)
FROM rbac_user u LEFT JOIN rbac_company c ON c.id = u.company_id` + where + `
ORDER BY lower(u.email)`
	rows, err := c.db.Query(ctx, q, b.args...)
	if err != nil {
		return err
	}
	var email string
	var groups, perms []string
	_, err = pgx.ForEachRow(rows, []any{&email, &groups, &perms}, func() error {
		u := access.User{Email: email, Groups: accessGroups(groups), Perms: append([]string{}, perms...)}
		sort.Strings(u.Perms)
		return fn(u)
	})
	return err
}

// accessGroups keeps the role groups and API, in seed order.
func accessGroups(names []string) []string {
	var out []string
	for _, n := range catalog.InSeedOrder(names) {
		if g, _ := catalog.LookupGroup(n); !g.Status() {
			out = append(out, n)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// ScopeFilter is the users a file's scope selects.
func (c *Client) ScopeFilter(ctx context.Context, s *access.Scope) (UserFilter, error) {
	var f UserFilter
	if s.Group != "" {
		f.Groups = []string{s.Group}
	}
	f.Type = s.Type
	if s.Company != "" {
		id, err := strconv.ParseInt(s.Company, 10, 64)
		if err != nil {
			ids, err := c.companiesNamed(ctx, s.Company)
			if err != nil {
				return f, err
			}
			switch len(ids) {
			case 0:
				return f, Refused("refused: the scope's company %q does not exist", s.Company)
			case 1:
				id = ids[0]
			default:
				return f, Refused("refused: %d companies are named %q: give the scope's company by ID", len(ids), s.Company)
			}
		}
		f.CompanyID = &id
	}
	return f, nil
}

func (c *Client) companiesNamed(ctx context.Context, name string) ([]int64, error) {
	rows, err := c.db.Query(ctx, `SELECT id FROM rbac_company WHERE lower(name) = lower($1) ORDER BY id LIMIT 2`, name)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// ApplyAccess makes the users of an access file hold exactly its role
// and API groups and extra permissions (their status groups stay), in one
// transaction, as one run, under the group rules (a broken rule refuses
// everything, exit 4). With prune, users the file's scope selects but the
// file does not name lose their role and API groups and extra permissions.
// Users named in the file who do not exist are refused, each FILE:LINE.
// A dry run is the plan.
func (c *Client) ApplyAccess(ctx context.Context, a Audit, f *access.File, prune bool, o ChangeOptions) (ChangeResult, error) {
	if prune && f.Scope == nil {
		return ChangeResult{}, Refused("refused: --prune needs the file to declare a scope: (whose users not in the file lose their access)")
	}
	byEmail := map[string]*access.User{}
	emails := make([]string, 0, len(f.Users))
	for i := range f.Users {
		u := &f.Users[i]
		key := strings.ToLower(u.Email)
		byEmail[key] = u
		emails = append(emails, key)
	}
	t := Targets{Refs: emails}
	if prune {
		sf, err := c.ScopeFilter(ctx, f.Scope)
		if err != nil {
			return ChangeResult{}, err
		}
		t.Filter, t.Union = &sf, true
	}
	if len(emails) == 0 && !prune {
		return ChangeResult{Action: "access.apply", DryRun: o.DryRun}, nil
	}
	if err := c.UnknownFileUsers(ctx, f); err != nil {
		return ChangeResult{}, err
	}
	current := map[int64][]string{}
	held := map[int64][]int32{}
	reads := []followUp{
		{sql: func(targets func(string) string, _ func(any) string) string {
			return `SELECT ug.user_id, g.name FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ` + targets("ug.user_id")
		}, read: func(rows pgx.Rows) error {
			var uid int64
			var name string
			_, err := pgx.ForEachRow(rows, []any{&uid, &name}, func() error { current[uid] = append(current[uid], name); return nil })
			return err
		}},
		{sql: func(targets func(string) string, _ func(any) string) string {
			return `SELECT user_id, permission_id FROM rbac_user_user_permissions WHERE ` + targets("user_id")
		}, read: func(rows pgx.Rows) error {
			var uid int64
			var pid int32
			_, err := pgx.ForEachRow(rows, []any{&uid, &pid}, func() error { held[uid] = append(held[uid], pid); return nil })
			return err
		}},
	}
	return c.runChange(ctx, a, o, changeSpec{action: "access.apply", targets: t, reads: reads, plan: func(p *planner) error {
		tbl, err := c.permTable(p.ctx, p.tx)
		if err != nil {
			return err
		}
		gids, err := c.groupIDs(p.ctx, p.tx)
		if err != nil {
			return err
		}
		var addU, delU []int64
		var addG, delG []int32
		var grantU, revokeU []int64
		var grantP, revokeP []int32
		for _, u := range p.users {
			cur := orderGroups(current[u.ID])
			var status []string
			for _, g := range cur {
				if cg, _ := catalog.LookupGroup(g); cg.Status() {
					status = append(status, g)
				}
			}
			wantGroups, wantPerms := orderGroups(status), []string{}
			if fu := byEmail[strings.ToLower(u.Email)]; fu != nil {
				wantGroups = orderGroups(append(append([]string{}, status...), fu.Groups...))
				wantPerms = fu.Perms
			}
			before, after := map[string]any{}, map[string]any{}
			added, removed := diffGroups(wantGroups, cur), diffGroups(cur, wantGroups)
			if len(added)+len(removed) > 0 {
				if err := checkGroupRules(u, wantGroups, added); err != nil {
					return err
				}
				before["groups"], after["groups"] = cur, wantGroups
				for _, g := range added {
					addU, addG = append(addU, u.ID), append(addG, gids[g])
				}
				for _, g := range removed {
					delU, delG = append(delU, u.ID), append(delG, gids[g])
				}
			}
			has := map[int32]bool{}
			for _, pid := range held[u.ID] {
				has[pid] = true
			}
			want := map[int32]bool{}
			changedPerms := false
			for _, id := range wantPerms {
				pid, ok := tbl.dbByID[id]
				if !ok {
					return fmt.Errorf("permission %s is missing from the database (run: b2badmin db migrate)", id)
				}
				want[pid] = true
				if !has[pid] {
					grantU, grantP = append(grantU, u.ID), append(grantP, pid)
					changedPerms = true
				}
			}
			for pid := range has {
				if !want[pid] {
					revokeU, revokeP = append(revokeU, u.ID), append(revokeP, pid)
					changedPerms = true
				}
			}
			if changedPerms {
				before["permissions"], after["permissions"] = tbl.idList(has), tbl.idList(want)
			}
			if len(after) == 0 {
				p.same(u)
				continue
			}
			p.change(u, before, after)
		}
		planMembership(&p.writes, delU, delG, addU, addG)
		if len(revokeU) > 0 {
			p.writes.exec(`DELETE FROM rbac_user_user_permissions up USING unnest($1::bigint[], $2::integer[]) AS t(u, p)
WHERE up.user_id = t.u AND up.permission_id = t.p`, revokeU, revokeP)
		}
		if len(grantU) > 0 {
			p.writes.exec(`INSERT INTO rbac_user_user_permissions (user_id, permission_id)
SELECT * FROM unnest($1::bigint[], $2::integer[]) ON CONFLICT (user_id, permission_id) DO NOTHING`, grantU, grantP)
		}
		return nil
	}})
}

// UnknownFileUsers refuses the file's users who do not exist, each at its
// line (yamlfile.Errors).
func (c *Client) UnknownFileUsers(ctx context.Context, f *access.File) error {
	emails := make([]string, len(f.Users))
	for i, u := range f.Users {
		emails[i] = strings.ToLower(u.Email)
	}
	rows, err := c.db.Query(ctx, `SELECT lower(email) FROM rbac_user WHERE lower(email) = ANY($1)`, emails)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(found))
	for _, e := range found {
		have[e] = true
	}
	var errs yamlfile.Errors
	for _, u := range f.Users {
		if !have[strings.ToLower(u.Email)] {
			errs = append(errs, &yamlfile.Error{File: f.Path, Line: u.Line, Msg: fmt.Sprintf("user %s does not exist", u.Email)})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
