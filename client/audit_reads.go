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

// The reads an audit makes: the grants stream, the users of a baseline
// that no longer hold anything, the exceptions' users.

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

// holds reports whether u holds the permission identifier id.
func (u *UserGrants) holds(id string) bool {
	for _, p := range u.Perms {
		if p.ID == id {
			return true
		}
	}
	return false
}

func (c *Client) countUsers(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.QueryRow(ctx, `SELECT count(*) FROM rbac_user`).Scan(&n)
	return n, err
}

type userNow struct {
	email, typ string
	groups     []string
}

// usersNow reads the email, type and groups (sorted) of the baseline rows'
// users, in one query; users that no longer exist are absent.
func (c *Client) usersNow(ctx context.Context, rs []baselineRow) (map[int64]userNow, error) {
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		if len(ids) == 0 || ids[len(ids)-1] != r.userID {
			ids = append(ids, r.userID)
		}
	}
	const q = `
SELECT u.id, u.email, u.type,
       ARRAY(SELECT g.name FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = u.id)
FROM rbac_user u WHERE u.id = ANY($1)`
	rows, err := c.db.Query(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]userNow, len(ids))
	var id int64
	var u userNow
	_, err = pgx.ForEachRow(rows, []any{&id, &u.email, &u.typ, &u.groups}, func() error {
		sort.Strings(u.groups)
		out[id] = u
		u.groups = nil
		return nil
	})
	return out, err
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
