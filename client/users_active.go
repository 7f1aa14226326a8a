package client

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// SetActive activates or deactivates users. Set-based whatever their
// number: one statement locks them, one flips them, one writes the log.
// Deactivation also revokes their API access: every outstanding refresh
// token is blacklisted (simplejwt's blacklist; access tokens stop working
// because is_active is false) and, unless keepSessions, their Django
// sessions are deleted. Each user's log row names the token ids and the
// number of sessions. Users already in the wanted state are reported and
// get no log row.
func (c *Client) SetActive(ctx context.Context, a Audit, t Targets, active, keepSessions bool, o ChangeOptions) (ChangeResult, error) {
	action := "users.deactivate"
	if active {
		action = "users.activate"
	}
	var rv revocation
	spec := changeSpec{action: action, targets: t}
	if !active {
		spec.reads = []followUp{rv.read()}
	}
	spec.plan = func(p *planner) error {
		var ids []int64
		for _, u := range p.users {
			if u.IsActive == active {
				p.same(u)
				continue
			}
			p.change(u, map[string]any{"is_active": !active}, map[string]any{"is_active": active})
			ids = append(ids, u.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		p.writes.exec(`UPDATE rbac_user SET is_active = $2 WHERE id = ANY($1)`, ids, active)
		if !active {
			rv.plan(p, ids, keepSessions)
		}
		return nil
	}
	return c.runChange(ctx, a, o, spec)
}

// revocation is the API-access part of a deactivation, shared by
// `users deactivate` and `users update --active false`.
type revocation struct {
	tokens map[int64][]int64 // outstanding, not yet blacklisted refresh tokens by user
}

// read finds the users' refresh tokens not yet blacklisted.
func (r *revocation) read() followUp {
	r.tokens = map[int64][]int64{}
	return followUp{
		sql: func(ids string, _ func(any) string) string {
			return `
SELECT t.user_id, array_agg(t.id ORDER BY t.id) FROM token_blacklist_outstandingtoken t
WHERE t.user_id IN (` + ids + `)
  AND NOT EXISTS (SELECT 1 FROM token_blacklist_blacklistedtoken b WHERE b.token_id = t.id)
GROUP BY t.user_id`
		},
		read: func(rows pgx.Rows) error {
			var uid int64
			var toks []int64
			_, err := pgx.ForEachRow(rows, []any{&uid, &toks}, func() error {
				r.tokens[uid] = append([]int64(nil), toks...)
				return nil
			})
			return err
		},
	}
}

// plan blacklists the tokens of the deactivated users (ids, in id order,
// each with a change already recorded) and deletes their sessions.
func (r *revocation) plan(p *planner, ids []int64, keepSessions bool) {
	var all []int64
	for _, id := range ids {
		toks := r.tokens[id]
		if len(toks) == 0 {
			continue
		}
		ch := p.changeOf(id)
		ch.Before["blacklisted_tokens"], ch.After["blacklisted_tokens"] = []int64{}, toks
		all = append(all, toks...)
	}
	if len(all) > 0 {
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		const blacklist = `
INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at)
SELECT id, now() FROM unnest($1::bigint[]) AS t(id)
ON CONFLICT (token_id) DO NOTHING`
		p.writes.exec(blacklist, all)
		p.totals.TokensBlacklisted += int64(len(all))
	}
	if keepSessions {
		return
	}
	p.loses("deleted Django sessions")
	p.effect(func(ctx context.Context, tx DBTX) error {
		perUser, err := deleteSessions(ctx, tx, ids)
		if err != nil {
			return fmt.Errorf("deleting sessions: %w", err)
		}
		for id, n := range perUser {
			if ch := p.changeOf(id); ch != nil && n > 0 {
				ch.Before["sessions"], ch.After["sessions"] = n, 0
				p.totals.SessionsDeleted += n
			}
		}
		return nil
	})
}
