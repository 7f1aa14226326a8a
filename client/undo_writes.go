package client

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// undoColumns are the rbac_user columns an undo writes back, with their SQL type.
var undoColumns = map[string]string{"email": "text", "first_name": "text", "last_name": "text", "phone": "text",
	"ip_white_list": "text", "language": "text", "communication_language": "text", "is_active": "boolean"}

// undoWrites collects an undo's writes, sent set-based by kind.
type undoWrites struct {
	cols                   map[string]*colWrite
	groupDel, groupAdd     [2][]int64 // user ids, group ids
	permDel, permAdd       [2][]int64
	devices                []int64
	planSet                []planWrite
	planDel                []planWrite
	unblacklist, blacklist []int64
	deactivated            []int64
	emailTrades            bool // users trade addresses: placeholders first
}

type colWrite struct {
	ids  []int64
	vals []any
}

type planWrite struct {
	user int64
	v    planValues
}

func newUndoWrites() *undoWrites { return &undoWrites{cols: map[string]*colWrite{}} }

// queue records the writes that bring one user's change about.
func (st *undoState) queue(u lockedUser, ch *Change, w *undoWrites) error {
	for name, v := range ch.After {
		if _, ok := undoColumns[name]; ok {
			cw := w.cols[name]
			if cw == nil {
				cw = &colWrite{}
				w.cols[name] = cw
			}
			cw.ids, cw.vals = append(cw.ids, u.ID), append(cw.vals, v)
			if name == "is_active" && v == false {
				w.deactivated = append(w.deactivated, u.ID)
			}
			continue
		}
		switch {
		case name == "groups":
			want := toStrings(v)
			cur := orderGroups(st.groups[u.ID])
			added := diffGroups(want, cur)
			if err := checkGroupRules(u, want, added); err != nil {
				return err
			}
			ids := st.gids
			for _, g := range diffGroups(cur, want) {
				w.groupDel[0], w.groupDel[1] = append(w.groupDel[0], u.ID), append(w.groupDel[1], int64(ids[g]))
			}
			for _, g := range added {
				w.groupAdd[0], w.groupAdd[1] = append(w.groupAdd[0], u.ID), append(w.groupAdd[1], int64(ids[g]))
			}
		case name == "permissions":
			tbl := st.tbl
			want := map[int32]bool{}
			for _, id := range toStrings(v) {
				pid, ok := tbl.dbByID[id]
				if !ok {
					return fmt.Errorf("permission %s of the run is missing from the database", id)
				}
				want[pid] = true
			}
			has := map[int32]bool{}
			for _, pid := range st.perms[u.ID] {
				has[pid] = true
				if !want[pid] {
					w.permDel[0], w.permDel[1] = append(w.permDel[0], u.ID), append(w.permDel[1], int64(pid))
				}
			}
			for pid := range want {
				if !has[pid] {
					w.permAdd[0], w.permAdd[1] = append(w.permAdd[0], u.ID), append(w.permAdd[1], int64(pid))
				}
			}
		case strings.HasPrefix(name, "commission_plan:"):
			var p planValues
			if v == nil {
				_ = json.Unmarshal([]byte(canon(ch.Before[name])), &p)
				w.planDel = append(w.planDel, planWrite{u.ID, p})
			} else {
				_ = json.Unmarshal([]byte(canon(v)), &p)
				w.planSet = append(w.planSet, planWrite{u.ID, p})
			}
		}
	}
	return nil
}

func toStrings(v any) []string {
	var out []string
	_ = json.Unmarshal([]byte(canon(v)), &out)
	if out == nil {
		out = []string{}
	}
	return out
}

// send queues every write (set-based per kind) on the planner.
func (w *undoWrites) send(p *planner, st *undoState) error {
	names := make([]string, 0, len(w.cols))
	for n := range w.cols {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cw := w.cols[n]
		typ := undoColumns[n]
		if n == "email" && w.emailTrades {
			// The unique index is checked row by row: users trading
			// addresses (a rename or a swap undone) first take a
			// placeholder no email can be (it holds a space), then theirs.
			p.writes.exec(`UPDATE rbac_user SET email = 'b2badmin undo ' || id WHERE id = ANY($1)`, cw.ids)
		}
		// The column names come from the fixed undoColumns map, never from input.
		q := fmt.Sprintf(`UPDATE rbac_user u SET %s = t.v FROM unnest($1::bigint[], $2::%s[]) AS t(id, v) WHERE u.id = t.id`, n, typ)
		if typ == "boolean" {
			vals := make([]bool, len(cw.vals))
			for i, v := range cw.vals {
				vals[i], _ = v.(bool)
			}
			p.writes.exec(q, cw.ids, vals)
		} else {
			vals := make([]string, len(cw.vals))
			for i, v := range cw.vals {
				vals[i], _ = v.(string)
			}
			p.writes.exec(q, cw.ids, vals)
		}
	}
	if len(w.groupDel[0])+len(w.groupAdd[0]) > 0 {
		planMembership(&p.writes, w.groupDel[0], int32s(w.groupDel[1]), w.groupAdd[0], int32s(w.groupAdd[1]))
	}
	if len(w.permDel[0]) > 0 {
		p.writes.exec(`DELETE FROM rbac_user_user_permissions up USING unnest($1::bigint[], $2::integer[]) AS t(u, p)
WHERE up.user_id = t.u AND up.permission_id = t.p`, w.permDel[0], int32s(w.permDel[1]))
	}
	if len(w.permAdd[0]) > 0 {
		p.writes.exec(`INSERT INTO rbac_user_user_permissions (user_id, permission_id)
SELECT * FROM unnest($1::bigint[], $2::integer[]) ON CONFLICT (user_id, permission_id) DO NOTHING`, w.permAdd[0], int32s(w.permAdd[1]))
	}
	if len(w.devices) > 0 {
		p.writes.exec(`WITH t AS (DELETE FROM otp_totp_totpdevice WHERE id = ANY($1::bigint[]) AND user_id = ANY($2)),
     e AS (DELETE FROM otp_email_emaildevice WHERE id = ANY($1::bigint[]) AND user_id = ANY($2))
SELECT 1`, w.devices, p.changedIDs())
		p.totals.DevicesDeleted += int64(len(w.devices))
	}
	if len(w.unblacklist) > 0 {
		p.writes.exec(`DELETE FROM token_blacklist_blacklistedtoken WHERE token_id = ANY($1)`, w.unblacklist)
	}
	if len(w.blacklist) > 0 {
		p.writes.exec(`INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at)
SELECT id, now() FROM unnest($1::bigint[]) AS t(id) ON CONFLICT (token_id) DO NOTHING`, w.blacklist)
		p.totals.TokensBlacklisted += int64(len(w.blacklist))
	}
	for _, d := range w.planDel {
		p.writes.exec(`WITH uc AS (DELETE FROM commissions_usercommission uc USING commissions_commission c
    WHERE uc.commission_id = c.id AND uc.user_id = $1 AND c.operation = $2 AND c.currency = $3 RETURNING uc.commission_id)
DELETE FROM commissions_commission WHERE id IN (SELECT commission_id FROM uc)`, d.user, d.v.Operation, d.v.Currency)
	}
	for _, s := range w.planSet {
		v := s.v
		p.writes.exec(`WITH up AS (
    UPDATE commissions_commission c SET percent = $4::numeric, fixed_fee = $5::numeric, min_fee = $6::numeric,
        max_fee = $7::numeric, updated_at = now()
    FROM commissions_usercommission uc
    WHERE uc.commission_id = c.id AND uc.user_id = $1 AND c.operation = $2 AND c.currency = $3 RETURNING c.id),
nc AS (
    INSERT INTO commissions_commission (operation, currency, percent, fixed_fee, min_fee, max_fee, created_at, updated_at)
    SELECT $2, $3, $4::numeric, $5::numeric, $6::numeric, $7::numeric, now(), now() WHERE NOT EXISTS (SELECT 1 FROM up)
    RETURNING id)
INSERT INTO commissions_usercommission (user_id, commission_id, created_at) SELECT $1, id, now() FROM nc`,
			s.user, v.Operation, v.Currency, v.Percent, v.FixedFee, v.MinFee, v.MaxFee)
	}
	if len(w.deactivated) > 0 {
		sort.Slice(w.deactivated, func(i, j int) bool { return w.deactivated[i] < w.deactivated[j] })
		st.rv.plan(p, w.deactivated, false)
	}
	return nil
}

func int32s(v []int64) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}
