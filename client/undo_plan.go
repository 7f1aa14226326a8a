package client

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// undoState is an undo's plan: the run's fields per user, the current
// state read under the users' locks, and what it found on the way.
type undoState struct {
	c     *Client
	users map[int64]*undoUser
	uo    UndoOptions

	needs   map[string]bool // field kinds present in the run
	groups  map[int64][]string
	perms   map[int64][]int32
	devices map[int64][]device
	plans   map[int64]map[string]*planValues // by "commission_plan:OP:CUR"
	tokens  map[int64]tokenState             // by token id
	rv      revocation
	tbl     *permTable
	gids    map[string]int32
	undone  map[int64]map[string]bool // fields an earlier undo of the run restored

	skipped []Conflict
	notes   []string
}

type tokenState struct {
	blacklisted, expired bool
}

func newUndoState(c *Client, users map[int64]*undoUser, uo UndoOptions) *undoState {
	st := &undoState{c: c, users: users, uo: uo, needs: map[string]bool{}, groups: map[int64][]string{},
		perms: map[int64][]int32{}, devices: map[int64][]device{}, plans: map[int64]map[string]*planValues{}, tokens: map[int64]tokenState{}}
	for _, u := range users {
		for _, f := range u.fields {
			st.needs[f.name] = true
			if f.name == "is_active" && canon(f.before) == "false" {
				st.needs["revoke"] = true // restoring inactive = a deactivation
			}
		}
	}
	return st
}

// reads are the current values the run's fields need, behind the lock.
func (st *undoState) reads() []followUp {
	var out []followUp
	if st.needs["groups"] {
		out = append(out, followUp{
			sql: func(ids string, _ func(any) string) string {
				return `SELECT ug.user_id, g.name FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id IN (` + ids + `)`
			},
			read: func(rows pgx.Rows) error {
				var uid int64
				var name string
				_, err := pgx.ForEachRow(rows, []any{&uid, &name}, func() error { st.groups[uid] = append(st.groups[uid], name); return nil })
				return err
			},
		})
	}
	if st.needs["permissions"] {
		out = append(out, followUp{
			sql: func(ids string, _ func(any) string) string {
				return `SELECT user_id, permission_id FROM rbac_user_user_permissions WHERE user_id IN (` + ids + `)`
			},
			read: func(rows pgx.Rows) error {
				var uid int64
				var pid int32
				_, err := pgx.ForEachRow(rows, []any{&uid, &pid}, func() error { st.perms[uid] = append(st.perms[uid], pid); return nil })
				return err
			},
		})
	}
	if st.needs["two_factor_devices"] {
		out = append(out, readDevices(st.devices))
	}
	if st.needs["commission_plan"] {
		out = append(out, followUp{
			sql: func(ids string, _ func(any) string) string {
				return `
SELECT DISTINCT ON (uc.user_id, c.operation, c.currency) uc.user_id, c.operation, c.currency, c.percent::text,
       c.fixed_fee::text, c.min_fee::text, c.max_fee::text
FROM commissions_usercommission uc JOIN commissions_commission c ON c.id = uc.commission_id
WHERE uc.user_id IN (` + ids + `) ORDER BY uc.user_id, c.operation, c.currency, c.id`
			},
			read: func(rows pgx.Rows) error {
				var uid int64
				var p planValues
				_, err := pgx.ForEachRow(rows, []any{&uid, &p.Operation, &p.Currency, &p.Percent, &p.FixedFee, &p.MinFee, &p.MaxFee}, func() error {
					if st.plans[uid] == nil {
						st.plans[uid] = map[string]*planValues{}
					}
					cp := p
					cp.MinFee, cp.MaxFee = clonePtr(p.MinFee), clonePtr(p.MaxFee)
					st.plans[uid]["commission_plan:"+p.Operation+":"+p.Currency] = &cp
					return nil
				})
				return err
			},
		})
	}
	if st.needs["blacklisted_tokens"] {
		var toks []int64
		for _, u := range st.users {
			for _, f := range u.fields {
				if f.name == "blacklisted_tokens" {
					toks = append(toks, tokenIDs(f.before)...)
					toks = append(toks, tokenIDs(f.after)...)
				}
			}
		}
		out = append(out, followUp{
			sql: func(_ string, arg func(any) string) string {
				return `SELECT o.id, b.id IS NOT NULL, o.expires_at <= now() FROM token_blacklist_outstandingtoken o
LEFT JOIN token_blacklist_blacklistedtoken b ON b.token_id = o.id WHERE o.id = ANY(` + arg(toks) + `)`
			},
			read: func(rows pgx.Rows) error {
				var id int64
				var s tokenState
				_, err := pgx.ForEachRow(rows, []any{&id, &s.blacklisted, &s.expired}, func() error { st.tokens[id] = s; return nil })
				return err
			},
		})
	}
	if st.needs["revoke"] {
		out = append(out, st.rv.read())
	}
	return out
}

func tokenIDs(raw json.RawMessage) []int64 {
	var ids []int64
	_ = json.Unmarshal(raw, &ids)
	return ids
}

// userColumns are the rbac_user columns an undo writes back, with their SQL type.
var undoColumns = map[string]string{"email": "text", "first_name": "text", "last_name": "text", "phone": "text",
	"ip_white_list": "text", "language": "text", "communication_language": "text", "is_active": "boolean"}

// current is the value of a field now, as the log would record it; ok is
// false for a field whose value cannot be read back (sessions, password).
func (st *undoState) current(u lockedUser, f *undoField) (any, bool) {
	switch f.name {
	case "email":
		return u.Email, true
	case "first_name":
		return u.FirstName, true
	case "last_name":
		return u.LastName, true
	case "phone":
		return u.Phone, true
	case "ip_white_list":
		return u.IPWhiteList, true
	case "language":
		return u.Language, true
	case "communication_language":
		return u.CommLang, true
	case "is_active":
		return u.IsActive, true
	case "groups":
		return orderGroups(st.groups[u.ID]), true
	case "permissions":
		set := map[int32]bool{}
		for _, id := range st.perms[u.ID] {
			set[id] = true
		}
		return st.tbl.idList(set), true
	case "commission_plan":
		if p := st.plans[u.ID][f.key]; p != nil {
			return *p, true
		}
		return nil, true
	case "two_factor_devices":
		return devicesJSON(st.devices[u.ID]), true
	}
	return nil, false
}

// sameDevices compares device lists by kind and name: a device the run
// created has no id in the log.
func sameDevices(a any, raw json.RawMessage) bool {
	var x, y []device
	_ = json.Unmarshal([]byte(canon(a)), &x)
	_ = json.Unmarshal(raw, &y)
	key := func(ds []device) string {
		var ks []string
		for _, d := range ds {
			ks = append(ks, d.Kind+"\x00"+d.Name)
		}
		sort.Strings(ks)
		return fmt.Sprint(ks)
	}
	return key(x) == key(y)
}

// plan is the undo's changeSpec plan.
func (st *undoState) plan(p *planner) error {
	var err error
	if st.tbl, err = st.c.permTable(p.ctx, p.tx); err != nil {
		return err
	}
	if st.gids, err = st.c.groupIDs(p.ctx, p.tx); err != nil {
		return err
	}
	var conflicts []Conflict
	var lost []string
	sessions := 0
	w := newUndoWrites()
	for _, u := range p.users {
		uu := st.users[u.ID]
		before, after := map[string]any{}, map[string]any{}
		var mine []Conflict
		var userLost []string
		var deviceDeletes []int64
		for _, key := range uu.order {
			f := uu.fields[key]
			switch f.name {
			case "password":
				userLost = append(userLost, "the password of "+u.Email+" (no hash is logged)")
				continue
			case "sessions":
				if n, _ := jsonValue(f.before).(float64); n > 0 {
					sessions += int(n)
				}
				continue
			case "blacklisted_tokens":
				st.planTokens(u, f, before, after, w)
				continue
			}
			cur, ok := st.current(u, f)
			if !ok {
				continue
			}
			atAfter := canon(cur) == canon(f.after)
			atBefore := canon(cur) == canon(f.before)
			if f.name == "two_factor_devices" {
				atAfter, atBefore = sameDevices(cur, f.after), sameDevices(cur, f.before)
			}
			switch {
			case atBefore && st.undone[u.ID][key]:
				continue // an earlier undo of this run restored it
			case !atAfter:
				mine = append(mine, Conflict{UserID: u.ID, Email: u.Email, Field: fieldLabel(f), RunAfter: jsonValue(f.after), Current: jsonValue([]byte(canon(cur)))})
				continue
			}
			name := f.name
			if f.name == "two_factor_devices" {
				del, kept, gone := deviceReversal(st.devices[u.ID], f.before)
				if gone > 0 {
					userLost = append(userLost, fmt.Sprintf("%d deleted 2FA device(s) of %s (no key is logged)", gone, u.Email))
				}
				deviceDeletes = append(deviceDeletes, del...)
				before[name], after[name] = devicesJSON(st.devices[u.ID]), kept
				continue
			}
			if f.name == "commission_plan" {
				name = f.key
			}
			before[name], after[name] = cur, jsonValue(f.before)
		}
		if len(mine) > 0 {
			conflicts = append(conflicts, mine...)
			continue
		}
		lost = append(lost, userLost...)
		for k := range after {
			if canon(before[k]) == canon(after[k]) {
				delete(before, k)
				delete(after, k)
			}
		}
		if len(after) == 0 {
			p.same(u)
			continue
		}
		ch := p.change(u, before, after)
		if err := st.queue(u, ch, w); err != nil {
			return err
		}
		w.devices = append(w.devices, deviceDeletes...)
	}
	if len(conflicts) > 0 && !st.uo.SkipConflicts {
		return &ConflictError{Conflicts: conflicts}
	}
	st.skipped = conflicts
	if len(lost) > 0 && !st.uo.Partial {
		return &PartialError{Lost: summarize(lost)}
	}
	for _, l := range summarize(lost) {
		p.loses(l)
	}
	if sessions > 0 {
		st.notes = append(st.notes, fmt.Sprintf("%d Django sessions the run deleted cannot come back: those users log in again", sessions))
	}
	return w.send(p, st)
}

func fieldLabel(f *undoField) string {
	if f.name == "commission_plan" {
		return f.key
	}
	return f.name
}

// summarize keeps the first few of a long list of lost parts.
func summarize(lost []string) []string {
	if len(lost) <= 3 {
		return lost
	}
	return append(append([]string{}, lost[:3]...), fmt.Sprintf("and %d more", len(lost)-3))
}

// deviceReversal: the devices to delete (there now, not before the run),
// the devices the user keeps, and how many the run deleted (which cannot
// be recreated: no key is logged).
func deviceReversal(now []device, beforeRaw json.RawMessage) (del []int64, kept []device, gone int) {
	var before []device
	_ = json.Unmarshal(beforeRaw, &before)
	had := map[int64]bool{}
	for _, d := range before {
		if d.ID != 0 {
			had[d.ID] = true
		}
	}
	present := map[int64]bool{}
	kept = []device{}
	for _, d := range now {
		present[d.ID] = true
		if had[d.ID] {
			kept = append(kept, d)
		} else {
			del = append(del, d.ID)
		}
	}
	for _, d := range before {
		if d.ID == 0 || !present[d.ID] {
			gone++
		}
	}
	return del, kept, gone
}

// planTokens restores (with RestoreTokens) the tokens a deactivation
// blacklisted, or blacklists again those an undo restored.
func (st *undoState) planTokens(u lockedUser, f *undoField, before, after map[string]any, w *undoWrites) {
	wasBlack := map[int64]bool{}
	for _, id := range tokenIDs(f.before) {
		wasBlack[id] = true
	}
	var unblack, reblack, stays, nowBlack []int64
	expired := 0
	for _, id := range tokenIDs(f.after) {
		s := st.tokens[id]
		if wasBlack[id] || !s.blacklisted {
			continue
		}
		nowBlack = append(nowBlack, id)
		switch {
		case s.expired:
			expired++
			stays = append(stays, id)
		case !st.uo.RestoreTokens:
			stays = append(stays, id)
		default:
			unblack = append(unblack, id)
		}
	}
	for id := range wasBlack {
		if s, ok := st.tokens[id]; ok && !s.blacklisted && !s.expired {
			reblack = append(reblack, id)
		}
	}
	if len(stays) > expired {
		st.notes = appendOnce(st.notes, "tokens the run blacklisted stay blacklisted: pass --restore-tokens to restore them")
	}
	if expired > 0 {
		st.notes = appendOnce(st.notes, "expired tokens stay blacklisted")
	}
	if len(unblack) == 0 && len(reblack) == 0 {
		return
	}
	sort.Slice(reblack, func(i, j int) bool { return reblack[i] < reblack[j] })
	before["blacklisted_tokens"] = nonNilIDs(nowBlack)
	after["blacklisted_tokens"] = nonNilIDs(append(stays, reblack...))
	w.unblacklist = append(w.unblacklist, unblack...)
	w.blacklist = append(w.blacklist, reblack...)
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

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
