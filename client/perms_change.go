package client

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
)

// GrantPerms gives the targets the permissions they do not hold yet;
// users holding them all already are reported and get no log row.
func (c *Client) GrantPerms(ctx context.Context, a Audit, t Targets, perms []catalog.Permission, o ChangeOptions) (ChangeResult, error) {
	return c.changePerms(ctx, a, t, perms, true, o)
}

// RevokePerms takes the permissions from the targets that hold them.
func (c *Client) RevokePerms(ctx context.Context, a Audit, t Targets, perms []catalog.Permission, o ChangeOptions) (ChangeResult, error) {
	return c.changePerms(ctx, a, t, perms, false, o)
}

// changePerms locks the users (so concurrent admins serialise per user and
// every before/after is exact), reads what they hold in the same round
// trip, writes only the difference in one set-based statement, and logs
// one row per changed user with its permission list before and after.
func (c *Client) changePerms(ctx context.Context, a Audit, t Targets, perms []catalog.Permission, grant bool, o ChangeOptions) (ChangeResult, error) {
	action := map[bool]string{true: "perms.grant", false: "perms.revoke"}[grant]
	held := map[int64][]int32{}
	readHeld := followUp{
		sql: func(targets func(string) string, _ func(any) string) string {
			return `SELECT user_id, permission_id FROM rbac_user_user_permissions WHERE ` + targets("user_id")
		},
		read: func(rows pgx.Rows) error {
			var uid int64
			var pid int32
			_, err := pgx.ForEachRow(rows, []any{&uid, &pid}, func() error { held[uid] = append(held[uid], pid); return nil })
			return err
		},
	}
	return c.runChange(ctx, a, o, changeSpec{action: action, targets: t, reads: []followUp{readHeld}, plan: func(p *planner) error {
		tbl, err := c.permTable(p.ctx, p.tx)
		if err != nil {
			return err
		}
		want, err := tbl.dbIDs(perms)
		if err != nil {
			return err
		}
		var pairUsers []int64
		var pairPerms []int32
		for _, u := range p.users {
			has := make(map[int32]bool, len(held[u.ID]))
			for _, id := range held[u.ID] {
				has[id] = true
			}
			after := make(map[int32]bool, len(has)+len(want))
			for id := range has {
				after[id] = true
			}
			n := 0
			for _, id := range want {
				if has[id] == grant {
					continue
				}
				if grant {
					after[id] = true
				} else {
					delete(after, id)
				}
				pairUsers, pairPerms = append(pairUsers, u.ID), append(pairPerms, id)
				n++
			}
			if n == 0 {
				p.same(u)
				continue
			}
			p.change(u, map[string]any{"permissions": tbl.idList(has)}, map[string]any{"permissions": tbl.idList(after)})
		}
		if len(pairUsers) == 0 {
			return nil
		}
		const insertPerms = `
INSERT INTO rbac_user_user_permissions (user_id, permission_id)
SELECT u, p FROM unnest($1::bigint[], $2::integer[]) AS t(u, p)
ON CONFLICT (user_id, permission_id) DO NOTHING`
		const deletePerms = `
DELETE FROM rbac_user_user_permissions up
USING unnest($1::bigint[], $2::integer[]) AS t(u, p)
WHERE up.user_id = t.u AND up.permission_id = t.p`
		q := insertPerms
		if !grant {
			q = deletePerms
		}
		// The users are locked, so any other count means the data moved
		// under us (a write that does not lock the user, e.g. psql).
		p.writes.execExpect(int64(len(pairUsers)), fmt.Errorf("%s: the users' permissions changed during the change; rolled back, try again", action),
			q, pairUsers, pairPerms)
		return nil
	}})
}

// idList is a set of auth_permission ids as sorted identifiers (for the log).
func (t *permTable) idList(set map[int32]bool) []string {
	refs := make([]PermRef, 0, len(set))
	for id := range set {
		refs = append(refs, t.ref(id))
	}
	sortRefs(refs)
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}
