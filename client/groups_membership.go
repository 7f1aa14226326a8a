package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
)

// GroupMode is how ChangeGroups treats the groups it is given.
type GroupMode string

// Group modes: replace the user's groups, add to them, remove from them.
const (
	GroupsSet    GroupMode = "set-group"
	GroupsAdd    GroupMode = "add-group"
	GroupsRemove GroupMode = "remove-group"
	// GroupsRole replaces only the role group (owner/staff), keeping the
	// status groups and API.
	GroupsRole GroupMode = "set-role"
)

// CanonicalGroups checks group names against the catalog (case-insensitive)
// and returns their canonical spelling, without duplicates. An unknown
// group is bad input: exit 4, before any SQL.
func CanonicalGroups(names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		g, ok := catalog.LookupGroup(n)
		if !ok {
			return nil, Refused("%s", catalog.UnknownGroup(n))
		}
		if !seen[g.Name] {
			seen[g.Name] = true
			out = append(out, g.Name)
		}
	}
	return out, nil
}

// ChangeGroups sets, adds or removes groups, or replaces the role group,
// for the targets, under the rules of SPEC §2, all or nothing. The users'
// rows are locked (in id order) before their groups are read, so two
// admins changing the same user are serialised: the second sees the
// first's groups and its rule check holds.
func (c *Client) ChangeGroups(ctx context.Context, a Audit, t Targets, mode GroupMode, names []string, o ChangeOptions) (ChangeResult, error) {
	names, err := CanonicalGroups(names)
	if err != nil {
		return ChangeResult{}, err
	}
	if mode == GroupsRole {
		if len(names) != 1 {
			return ChangeResult{}, Refused("refused: set-role takes exactly one role group")
		}
		if g, _ := catalog.LookupGroup(names[0]); !g.Role {
			return ChangeResult{}, Refused("refused: %q is not a role group (role groups: %s)", names[0], strings.Join(roleGroups(), ", "))
		}
	}
	current := map[int64][]string{}
	readGroups := followUp{
		sql: func(targets func(string) string, _ func(any) string) string {
			return `
SELECT ug.user_id, g.name FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id
WHERE ` + targets("ug.user_id")
		},
		read: func(rows pgx.Rows) error {
			var uid int64
			var name string
			_, err := pgx.ForEachRow(rows, []any{&uid, &name}, func() error { current[uid] = append(current[uid], name); return nil })
			return err
		},
	}
	return c.runChange(ctx, a, o, changeSpec{action: "users." + string(mode), targets: t, reads: []followUp{readGroups},
		plan: func(p *planner) error {
			groupIDs, err := c.groupIDs(p.ctx, p.tx)
			if err != nil {
				return err
			}
			var addU, delU []int64
			var addG, delG []int32
			for _, u := range p.users {
				cur := current[u.ID]
				final := nextGroups(mode, cur, names)
				added, removed := diffGroups(final, cur), diffGroups(cur, final)
				if len(added) == 0 && len(removed) == 0 {
					p.same(u)
					continue
				}
				if err := checkGroupRules(u, final, added); err != nil {
					return err
				}
				for _, g := range added {
					addU, addG = append(addU, u.ID), append(addG, groupIDs[g])
				}
				for _, g := range removed {
					delU, delG = append(delU, u.ID), append(delG, groupIDs[g])
				}
				p.change(u, map[string]any{"groups": orderGroups(cur)}, map[string]any{"groups": orderGroups(final)})
			}
			planMembership(&p.writes, delU, delG, addU, addG)
			return nil
		}})
}

// planMembership queues the removals and additions of group memberships
// (an empty side sends nothing).
func planMembership(w *pipeline, delU []int64, delG []int32, addU []int64, addG []int32) {
	const del = `
DELETE FROM rbac_user_groups ug USING unnest($1::bigint[], $2::integer[]) AS t(u, g)
WHERE ug.user_id = t.u AND ug.group_id = t.g`
	const ins = `
INSERT INTO rbac_user_groups (user_id, group_id) SELECT * FROM unnest($1::bigint[], $2::integer[])
ON CONFLICT (user_id, group_id) DO NOTHING`
	if len(delU) > 0 {
		w.exec(del, delU, delG)
	}
	if len(addU) > 0 {
		w.exec(ins, addU, addG)
	}
}

func roleGroups() []string {
	var out []string
	for _, g := range catalog.Groups() {
		if g.Role {
			out = append(out, g.Name)
		}
	}
	return out
}

// checkGroupRules applies SPEC §2 (catalog.CheckGroups, the rules
// `groups audit` reports) to the groups a user would end with. Only what
// this change adds is judged, so fixing one problem of a user whose data
// already broke a rule is not blocked by the other.
func checkGroupRules(u lockedUser, final, added []string) error {
	for _, v := range catalog.CheckGroups(u.Type, u.CompanyID != nil, final) {
		if len(diffGroups(v.Groups, added)) == len(v.Groups) {
			continue // a problem the user had before this change
		}
		hint := ""
		if v.Rule == catalog.RuleOneRoleGroup {
			hint = "; use set-role to replace the role group"
		}
		// The rule's words describe a state ("is in API"): the one this
		// change would leave.
		return Refused("refused: after this change user %d (%s) %s (rule %s)%s", u.ID, u.Email, v.Message, v.Rule, hint)
	}
	return nil
}

func nextGroups(mode GroupMode, cur, names []string) []string {
	switch mode {
	case GroupsSet:
		return append([]string(nil), names...)
	case GroupsAdd:
		return append(append([]string(nil), cur...), diffGroups(names, cur)...)
	case GroupsRole:
		var keep []string
		for _, g := range cur {
			if cg, _ := catalog.LookupGroup(g); !cg.Role {
				keep = append(keep, g)
			}
		}
		return append(keep, names...)
	default:
		return diffGroups(cur, names)
	}
}

// diffGroups is a − b.
func diffGroups(a, b []string) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

// orderGroups lists names in the catalog's (the seed's) order; never nil,
// so the log shows [] rather than null for "no groups".
func orderGroups(names []string) []string { return catalog.InSeedOrder(names) }

// groupIDs returns the group ids by name, cached like the permission table.
func (c *Client) groupIDs(ctx context.Context, db DBTX) (map[string]int32, error) {
	if c.ref == nil {
		return groupIDsByName(ctx, db)
	}
	// Not locked while loading: lines running side by side (Gather) wait
	// for the server together, and one holding the lock while it waits
	// would stop the others before they reach the server. Two loads of
	// the same table are harmless.
	c.ref.mu.Lock()
	m := c.ref.groups
	c.ref.mu.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := groupIDsByName(ctx, db)
	if err != nil {
		return nil, err
	}
	c.ref.mu.Lock()
	defer c.ref.mu.Unlock()
	c.ref.groups = m
	return m, nil
}

func groupIDsByName(ctx context.Context, tx DBTX) (map[string]int32, error) {
	rows, err := tx.Query(ctx, `SELECT id, name FROM auth_group`)
	if err != nil {
		return nil, err
	}
	out := map[string]int32{}
	var id int32
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { out[name] = id; return nil })
	if err != nil {
		return nil, err
	}
	for _, g := range catalog.Groups() {
		if _, ok := out[g.Name]; !ok {
			return nil, fmt.Errorf("group %q is missing from auth_group: run b2badmin db migrate", g.Name)
		}
	}
	return out, nil
}
