package client

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/policy"
)

// UserGrants is one user with extra permissions, as the grants stream yields it.
type UserGrants struct {
	UserID int64
	Email  string
	Type   string
	Groups []string  // group names, sorted
	Perms  []PermRef // sorted by identifier
}

// EachUserGrants streams every user holding an extra permission, by
// ascending user id, in ONE query over rbac_user_user_permissions joined to
// the users and their groups: no per-user round trip, memory flat in the
// number of users. fn must not keep u past its call.
func (c *Client) EachUserGrants(ctx context.Context, fn func(u *UserGrants) error) error {
	t, err := c.permTable(ctx, c.db)
	if err != nil {
		return err
	}
	groups, err := groupNamesByID(ctx, c.db)
	if err != nil {
		return err
	}
	// Permissions are aggregated per user straight off the (user_id,
	// permission_id) unique index; groups come from the per-user index.
	const q = `
SELECT u.id, u.email, u.type, p.perms,
       ARRAY(SELECT ug.group_id FROM rbac_user_groups ug WHERE ug.user_id = u.id)
FROM (SELECT user_id, array_agg(permission_id) AS perms
      FROM rbac_user_user_permissions GROUP BY user_id) p
JOIN rbac_user u ON u.id = p.user_id
ORDER BY u.id`
	rows, err := c.db.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	var u UserGrants
	var permIDs, groupIDs []int32
	for rows.Next() {
		permIDs, groupIDs = permIDs[:0], groupIDs[:0]
		if err := rows.Scan(&u.UserID, &u.Email, &u.Type, &permIDs, &groupIDs); err != nil {
			return err
		}
		u.Perms = u.Perms[:0]
		for _, id := range permIDs {
			u.Perms = append(u.Perms, t.ref(id))
		}
		sortRefs(u.Perms)
		u.Groups = u.Groups[:0]
		for _, id := range groupIDs {
			u.Groups = append(u.Groups, groups[id])
		}
		sort.Strings(u.Groups)
		if err := fn(&u); err != nil {
			return err
		}
	}
	return rows.Err()
}

func groupNamesByID(ctx context.Context, db DBTX) (map[int32]string, error) {
	rows, err := db.Query(ctx, `SELECT id, name FROM auth_group`)
	if err != nil {
		return nil, err
	}
	out := map[int32]string{}
	var id int32
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { out[id] = name; return nil })
	return out, err
}

// Finding is one grant the policy does not allow (or, with a baseline, one
// grant added or removed since it).
type Finding struct {
	UserID     int64    `json:"user_id"`
	Email      string   `json:"email"`
	Groups     []string `json:"groups"`
	Type       string   `json:"type"`
	Permission string   `json:"permission"`
	Label      string   `json:"label"`
	Rule       string   `json:"rule"`        // e.g. deny "auth.*"; "" for a removed grant
	PolicyLine int      `json:"policy_line"` // line of the deny rule, 0 otherwise
	Change     string   `json:"change"`      // "added" or "removed" with a baseline, else ""
}

// AuditOptions tune an audit run.
type AuditOptions struct {
	AsOf     time.Time // the day exceptions are judged on (UTC); zero = now
	Baseline *Baseline // when set, report only changes since it
	// Warn receives notes (expired exceptions, unknown exception users).
	Warn func(msg string)
}

// AuditStats count what an audit saw.
type AuditStats struct {
	Users, Grants, Findings, Excused, Removed int64
}

// Audit checks every user's extra permissions against p, calling emit for
// each finding in user-id order. A grant is a finding when a deny pattern
// matches it or no allow of the user's groups or type covers it; a live
// exception for the user covering the permission excuses it, whichever
// rule it breaks (an exception is a named, dated, reasoned sign-off).
func (c *Client) Audit(ctx context.Context, p *policy.Policy, o AuditOptions, emit func(*Finding) error) (AuditStats, error) {
	var st AuditStats
	if o.AsOf.IsZero() {
		o.AsOf = time.Now()
	}
	warn := o.Warn
	if warn == nil {
		warn = func(string) {}
	}
	excuses, err := c.liveExceptions(ctx, p, o.AsOf, warn)
	if err != nil {
		return st, err
	}
	check := func(u *UserGrants, pr PermRef) *Finding {
		f := &Finding{UserID: u.UserID, Email: u.Email, Groups: u.Groups, Type: u.Type, Permission: pr.ID, Label: pr.Label}
		if r := p.DenyRule(pr.Index); r != nil {
			f.Rule, f.PolicyLine = fmt.Sprintf("deny %q", r.Glob), r.Line
		} else if !p.Allowed(pr.Index, u.Groups, u.Type) {
			f.Rule = fmt.Sprintf("not allowed for groups [%s] / type %s", strings.Join(u.Groups, ", "), u.Type)
		} else {
			return nil
		}
		for _, e := range excuses[u.UserID] {
			if e.Covers(pr.Index) {
				st.Excused++
				return nil
			}
		}
		return f
	}
	b := o.Baseline
	removed := func(r baselineRow, u *UserGrants) error {
		st.Removed++
		f := &Finding{UserID: r.userID, Email: r.email, Groups: []string{}, Permission: r.perm, Change: "removed"}
		if u != nil {
			f.Groups, f.Type = u.Groups, u.Type
		}
		if i, ok := labelOf(r.perm); ok {
			f.Label = i
		}
		return emit(f)
	}
	err = c.EachUserGrants(ctx, func(u *UserGrants) error {
		st.Users++
		st.Grants += int64(len(u.Perms))
		var before map[string]baselineRow
		if b != nil {
			// Baseline users below this one hold nothing any more.
			for {
				r, ok, err := b.peek()
				if err != nil {
					return err
				}
				if !ok || r.userID >= u.UserID {
					break
				}
				b.next()
				if err := removed(r, nil); err != nil {
					return err
				}
			}
			rs, err := b.takeUser(u.UserID)
			if err != nil {
				return err
			}
			before = make(map[string]baselineRow, len(rs))
			for _, r := range rs {
				before[r.perm] = r
			}
		}
		for _, pr := range u.Perms {
			if b != nil {
				if _, had := before[pr.ID]; had {
					delete(before, pr.ID)
					continue
				}
			}
			if f := check(u, pr); f != nil {
				if b != nil {
					f.Change = "added"
				}
				st.Findings++
				if err := emit(f); err != nil {
					return err
				}
			}
		}
		if len(before) > 0 {
			gone := make([]string, 0, len(before))
			for k := range before {
				gone = append(gone, k)
			}
			sort.Strings(gone)
			for _, k := range gone {
				if err := removed(before[k], u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	for b != nil {
		r, ok, err := b.peek()
		if err != nil {
			return st, err
		}
		if !ok {
			break
		}
		b.next()
		if err := removed(r, nil); err != nil {
			return st, err
		}
	}
	return st, nil
}

// liveExceptions resolves the exceptions' users (ID, email or UUID) in one
// query and keeps those still live on asOf. An exception naming no user or
// already expired excuses nothing; both are worth a note, not a failure.
func (c *Client) liveExceptions(ctx context.Context, p *policy.Policy, asOf time.Time, warn func(string)) (map[int64][]*policy.Exception, error) {
	out := map[int64][]*policy.Exception{}
	if len(p.Exceptions) == 0 {
		return out, nil
	}
	// Each kind of reference goes to its own index (pkey, lower(email), uuid).
	var ids []int64
	var emails, uuids []string
	for _, e := range p.Exceptions {
		k := strings.ToLower(e.User)
		switch {
		case isDigits(k):
			if n, err := strconv.ParseInt(k, 10, 64); err == nil {
				ids = append(ids, n)
			}
		case looksLikeUUID(k):
			uuids = append(uuids, k)
		default:
			emails = append(emails, k)
		}
	}
	const q = `
SELECT id, id::text, lower(email), uuid::text FROM rbac_user
WHERE id = ANY($1) OR lower(email) = ANY($2) OR uuid = ANY($3::uuid[])`
	rows, err := c.db.Query(ctx, q, ids, emails, uuids)
	if err != nil {
		return nil, err
	}
	byKey := map[string]int64{}
	var id int64
	var idText, email, uuid string
	if _, err := pgx.ForEachRow(rows, []any{&id, &idText, &email, &uuid}, func() error {
		byKey[idText], byKey[email], byKey[uuid] = id, id, id
		return nil
	}); err != nil {
		return nil, err
	}
	for _, e := range p.Exceptions {
		k := strings.ToLower(e.User)
		if isDigits(k) {
			if n, err := strconv.ParseInt(k, 10, 64); err == nil {
				k = strconv.FormatInt(n, 10)
			}
		}
		uid, ok := byKey[k]
		switch {
		case !ok:
			warn(fmt.Sprintf("%s:%d: exception for %s: no such user; it excuses nothing", p.File, e.Line, e.User))
		case !e.Live(asOf):
			warn(fmt.Sprintf("%s:%d: exception for %s expired on %s; it excuses nothing", p.File, e.Line, e.User, e.Expires.Format("2006-01-02")))
		default:
			out[uid] = append(out[uid], e)
		}
	}
	return out, nil
}
