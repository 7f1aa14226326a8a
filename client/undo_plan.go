package client

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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
	emails  map[string]emailNow       // the emails the undo may give back, as logged

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
	var backs []emailBack
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
		if e, ok := after["email"].(string); ok {
			backs = append(backs, emailBack{u.ID, e})
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
	if w.emailTrades, err = st.emailsFree(backs); err != nil {
		return err
	}
	st.skipped = conflicts
	if len(lost) > 0 && !st.uo.Partial {
		return &PartialError{Lost: summarize(lost)}
	}
	for _, l := range summarize(lost) {
		p.loses(l)
	}
	if sessions > 0 {
		what := "Django sessions"
		if sessions == 1 {
			what = "Django session"
		}
		st.notes = append(st.notes, fmt.Sprintf("%d %s the run deleted cannot come back: those users log in again", sessions, what))
	}
	return w.send(p, st)
}

// emailBack is an email the undo gives back to a user.
type emailBack struct {
	user  int64
	email string
}

// emailsFree refuses an undo that would give one address to two users,
// or give an address back while another user keeps it. A holder the same
// undo moves to another address frees it (a rename or a swap undone);
// trades says whether any does, so that the writes go through
// placeholders.
func (st *undoState) emailsFree(backs []emailBack) (trades bool, err error) {
	backTo := map[int64]string{} // user: the lower-case address it gets back
	by := map[string]int64{}
	var taken []string
	for _, b := range backs {
		l := st.emails[b.email].lower
		if other, twice := by[l]; twice {
			taken = append(taken, fmt.Sprintf("%s to users %d and %d at once", b.email, other, b.user))
		}
		by[l], backTo[b.user] = b.user, l
	}
	for _, b := range backs {
		now := st.emails[b.email]
		if now.holder == 0 || now.holder == b.user {
			continue
		}
		if l, moving := backTo[now.holder]; moving && l != now.lower {
			trades = true
			continue
		}
		taken = append(taken, fmt.Sprintf("%s to user %d (user %d uses it now)", b.email, b.user, now.holder))
	}
	if len(taken) == 0 {
		return trades, nil
	}
	return false, Refused("refused: undo would give back email%s %s; emails are unique (case-insensitively), nothing was undone",
		map[bool]string{true: "", false: "s"}[len(taken) == 1], strings.Join(summarize(taken), ", "))
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
