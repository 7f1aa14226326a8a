package client

import (
	"context"
	"sort"
	"time"

	"github.com/b2badmin/b2badmin/client/permref"
	"github.com/b2badmin/b2badmin/client/policy"
)

// Finding is one grant the policy does not allow. With a baseline it is
// also marked unchanged or new, and a finding of the baseline that is one
// no longer comes back with Change "resolved" (information, not a finding).
type Finding struct {
	UserID     int64
	Email      string
	Groups     []string
	Type       string
	Permission string
	Label      string
	RuleID     string // "deny:<pattern>" or "not-allowed" (policy.NotAllowed)
	Rule       string // e.g. deny "auth.*"
	PolicyLine int    // the line of the rule that decided; 0 when unknown
	Change     string // "" without a baseline; ChangeUnchanged, ChangeNew or ChangeResolved
}

// How a finding compares with the baseline.
const (
	ChangeUnchanged = "unchanged"
	ChangeNew       = "new"
	ChangeResolved  = "resolved"
)

// AuditOptions tune an audit run.
type AuditOptions struct {
	AsOf     time.Time // the day exceptions are judged on (UTC); zero = now
	Baseline *Baseline // when set, findings are compared with it
	// Warn receives notes (expired exceptions, unknown exception users).
	Warn func(msg string)
	// Pass, when set, is called for each user holding extra permissions
	// none of which is a finding (reports that list passing tests use it).
	// It must not keep u past its call.
	Pass func(u *UserGrants) error
}

// AuditStats count what an audit saw.
type AuditStats struct {
	Users    int64 // every user of the database: the audit covers them all
	Holders  int64 // users holding extra permissions, the ones with something to check
	Grants   int64
	Findings int64 // current findings (with a baseline: Unchanged + New)
	Excused  int64
	BaselineCounts
}

// Audit checks every user's extra permissions against p, calling emit for
// each finding in user-id order, then (with a baseline) for each resolved
// one in user-id order. A grant is a finding when a deny pattern matches
// it or no allow of the user's groups or type covers it; a live exception
// for the user covering the permission excuses it, whichever rule it
// breaks (an exception is a named, dated, reasoned sign-off).
//
// With a baseline, a finding whose (user, permission) the baseline has is
// unchanged, else new. Resolved: with a report baseline, each of its
// findings that is not a finding now; with a perms export snapshot, each
// grant it has that is no longer held and that the policy would flag on
// the user as they are now (the snapshot does not say whether it was a
// finding then; a grant still held and allowed now is not counted).
func (c *Client) Audit(ctx context.Context, p *policy.Policy, o AuditOptions, emit func(*Finding) error) (AuditStats, error) {
	var st AuditStats
	if o.AsOf.IsZero() {
		o.AsOf = time.Now()
	}
	warn := o.Warn
	if warn == nil {
		warn = func(string) {}
	}
	var err error
	if st.Users, err = c.countUsers(ctx); err != nil {
		return st, err
	}
	excuses, err := c.liveExceptions(ctx, p, o.AsOf, warn)
	if err != nil {
		return st, err
	}
	// judge is the policy's verdict on user uid holding catalog entry i,
	// nil when allowed or excused.
	judge := func(uid int64, groups []string, typ string, i int) (*policy.Verdict, bool) {
		v := p.Check(i, groups, typ)
		if v == nil {
			return nil, false
		}
		for _, e := range excuses[uid] {
			if e.Covers(i) {
				return nil, true
			}
		}
		return v, false
	}
	b := o.Baseline
	var resolved []*Finding  // emitted after the current findings
	var absent []baselineRow // snapshot grants of users holding nothing now
	// gone handles a baseline row that is not a finding now; u is the user
	// as the stream has them, nil when they hold no extra permission.
	gone := func(r baselineRow, u *UserGrants) {
		switch {
		case b.Report:
			f := &Finding{UserID: r.userID, Email: r.email, Groups: []string{}, Permission: r.key,
				RuleID: policy.RuleID(r.rule), Rule: r.rule, PolicyLine: r.line, Change: ChangeResolved}
			if u != nil {
				f.Email, f.Groups, f.Type = u.Email, append([]string{}, u.Groups...), u.Type
			}
			f.Label, _ = labelOf(r.key)
			resolved = append(resolved, f)
		case u == nil:
			absent = append(absent, r)
		case !u.holds(r.key):
			if f := resolvedGrant(r, u.Email, u.Groups, u.Type, judge); f != nil {
				resolved = append(resolved, f)
			}
		}
	}
	goneNow := func(r baselineRow) { gone(r, nil) }
	err = c.EachUserGrants(ctx, func(u *UserGrants) error {
		st.Holders++
		st.Grants += int64(len(u.Perms))
		before, err := b.forUser(u.UserID, goneNow)
		if err != nil {
			return err
		}
		clean := true
		for _, pr := range u.Perms {
			v, excused := judge(u.UserID, u.Groups, u.Type, pr.Index)
			if excused {
				st.Excused++
			}
			if v == nil {
				continue
			}
			clean = false
			f := &Finding{UserID: u.UserID, Email: u.Email, Groups: u.Groups, Type: u.Type, Permission: pr.ID, Label: pr.Label,
				RuleID: v.RuleID, Rule: v.Text, PolicyLine: v.Line, Change: before.mark(pr.ID)}
			st.count(f.Change)
			st.Findings++
			if err := emit(f); err != nil {
				return err
			}
		}
		before.rest(func(r baselineRow) { gone(r, u) })
		if clean && o.Pass != nil {
			return o.Pass(u)
		}
		return nil
	})
	if err == nil {
		err = b.drain(goneNow)
	}
	if err != nil {
		return st, err
	}
	if len(absent) > 0 {
		now, err := c.usersNow(ctx, absent)
		if err != nil {
			return st, err
		}
		for _, r := range absent {
			u := now[r.userID] // zero when the user is gone: nothing allows a deleted user anything
			email := u.email
			if email == "" {
				email = r.email
			}
			if f := resolvedGrant(r, email, u.groups, u.typ, judge); f != nil {
				resolved = append(resolved, f)
			}
		}
	}
	sort.SliceStable(resolved, func(i, j int) bool {
		if resolved[i].UserID != resolved[j].UserID {
			return resolved[i].UserID < resolved[j].UserID
		}
		return resolved[i].Permission < resolved[j].Permission
	})
	for _, f := range resolved {
		st.count(f.Change)
		if err := emit(f); err != nil {
			return st, err
		}
	}
	return st, nil
}

// resolvedGrant judges a snapshot grant no longer held: resolved when the
// policy would flag it on the user as they are now.
func resolvedGrant(r baselineRow, email string, groups []string, typ string,
	judge func(int64, []string, string, int) (*policy.Verdict, bool)) *Finding {
	i, known := permref.Index(r.key)
	if !known {
		i = -1 // not in the catalog: no allow can name it
	}
	v, _ := judge(r.userID, groups, typ, i)
	if v == nil {
		return nil
	}
	f := &Finding{UserID: r.userID, Email: email, Groups: append([]string{}, groups...), Type: typ, Permission: r.key,
		RuleID: v.RuleID, Rule: v.Text, PolicyLine: v.Line, Change: ChangeResolved}
	f.Label, _ = labelOf(r.key)
	return f
}
