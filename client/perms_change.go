package client

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
)

// Results of one (user, permission) pair in a grant or revoke.
const (
	PermGranted     = "granted"
	PermRevoked     = "revoked"
	PermAlreadyHeld = "already held"
	PermNotHeld     = "not held"
	PermWouldGrant  = "would grant"
	PermWouldRevoke = "would revoke"
)

// PermResult is what happened to one permission of one user.
type PermResult struct {
	UserID     int64
	Email      string
	Permission string
	Label      string
	Result     string
}

// PermOutcome summarises a grant or revoke.
type PermOutcome struct {
	Results      []PermResult // user by user, permissions in the order asked
	UsersChanged int          // users whose permissions changed (or would)
	PairsChanged int          // (user, permission) rows added or removed (or would be)
}

// GrantPerms gives users the permissions they do not hold yet; held ones
// are reported "already held" and cost nothing, not even a log row.
func (c *Client) GrantPerms(ctx context.Context, users []UserRef, perms []catalog.Permission, dryRun bool, a Audit) (PermOutcome, error) {
	return c.changePerms(ctx, users, perms, true, dryRun, a)
}

// RevokePerms takes the permissions from users who hold them.
func (c *Client) RevokePerms(ctx context.Context, users []UserRef, perms []catalog.Permission, dryRun bool, a Audit) (PermOutcome, error) {
	return c.changePerms(ctx, users, perms, false, dryRun, a)
}

// changePerms runs in one transaction: lock the users (so concurrent
// admins serialise per user and every before/after is exact), read what
// they hold, write only the difference in one set-based statement, and log
// one row per changed user with the permission lists before and after.
func (c *Client) changePerms(ctx context.Context, users []UserRef, perms []catalog.Permission, grant, dryRun bool, a Audit) (PermOutcome, error) {
	var out PermOutcome
	err := c.inTx(ctx, func(tx pgx.Tx) error {
		t, err := c.permTable(ctx, tx)
		if err != nil {
			return err
		}
		want, err := t.dbIDs(perms)
		if err != nil {
			return err
		}
		ids := IDs(users)
		held, err := lockAndReadHeld(ctx, tx, ids, !dryRun)
		if err != nil {
			return err
		}
		var pairUsers []int64
		var pairPerms []int32
		var changes []Change
		for _, u := range users {
			h := held[u.ID]
			has := make(map[int32]bool, len(h))
			for _, p := range h {
				has[p] = true
			}
			after := map[int32]bool{}
			for p := range has {
				after[p] = true
			}
			changed := false
			for i, p := range want {
				r := PermResult{UserID: u.ID, Email: u.Email, Permission: perms[i].ID(), Label: perms[i].Label}
				switch {
				case grant && has[p]:
					r.Result = PermAlreadyHeld
				case !grant && !has[p]:
					r.Result = PermNotHeld
				default:
					r.Result = map[bool]string{true: PermGranted, false: PermRevoked}[grant]
					if dryRun {
						r.Result = map[bool]string{true: PermWouldGrant, false: PermWouldRevoke}[grant]
					}
					if grant {
						after[p] = true
					} else {
						delete(after, p)
					}
					pairUsers, pairPerms = append(pairUsers, u.ID), append(pairPerms, p)
					changed = true
				}
				out.Results = append(out.Results, r)
			}
			if changed {
				out.UsersChanged++
				changes = append(changes, Change{UserID: u.ID, Email: u.Email,
					Before: map[string]any{"permissions": t.idList(has)},
					After:  map[string]any{"permissions": t.idList(after)}})
			}
		}
		out.PairsChanged = len(pairUsers)
		if dryRun || len(pairUsers) == 0 {
			return nil
		}
		const insertPerms = `
INSERT INTO rbac_user_user_permissions (user_id, permission_id)
SELECT u, p FROM unnest($1::bigint[], $2::integer[]) AS t(u, p)
ON CONFLICT (user_id, permission_id) DO NOTHING
RETURNING user_id`
		const deletePerms = `
DELETE FROM rbac_user_user_permissions up
USING unnest($1::bigint[], $2::integer[]) AS t(u, p)
WHERE up.user_id = t.u AND up.permission_id = t.p
RETURNING up.user_id`
		q, action := insertPerms, "perms.grant"
		if !grant {
			q, action = deletePerms, "perms.revoke"
		}
		// The grant or revoke and its log rows go in one round trip.
		var w pipeline
		w.exec(q, pairUsers, pairPerms)
		if err := w.log(a, action, changes); err != nil {
			return err
		}
		br := tx.SendBatch(ctx, &w.b)
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return err
		}
		// The users are locked, so anything else means the data moved under us.
		if n := tag.RowsAffected(); n != int64(len(pairUsers)) {
			br.Close()
			return fmt.Errorf("%s: expected to change %d rows, changed %d; rolled back", action, len(pairUsers), n)
		}
		return br.Close()
	})
	if err != nil {
		return PermOutcome{}, err
	}
	return out, nil
}

// heldPerms reads the users' current permissions in one query.
// lockAndReadHeld locks the users (unless lock is false, for a dry run)
// and then reads their grants. Both statements go in one pipelined round
// trip; the server runs them in order, and under READ COMMITTED the read
// takes its snapshot after the lock is held, so it sees every grant a
// concurrent admin committed before us.
func lockAndReadHeld(ctx context.Context, tx DBTX, ids []int64, lock bool) (map[int64][]int32, error) {
	if !lock {
		return heldPerms(ctx, tx, ids)
	}
	const lockUsers = `SELECT id FROM rbac_user WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`
	b := &pgx.Batch{}
	b.Queue(lockUsers, ids)
	b.Queue(heldPermsSQL, ids)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	held, err := collectHeld(rows)
	if err != nil {
		return nil, err
	}
	return held, br.Close()
}

const heldPermsSQL = `SELECT user_id, permission_id FROM rbac_user_user_permissions WHERE user_id = ANY($1)`

func heldPerms(ctx context.Context, db DBTX, ids []int64) (map[int64][]int32, error) {
	rows, err := db.Query(ctx, heldPermsSQL, ids)
	if err != nil {
		return nil, err
	}
	return collectHeld(rows)
}

func collectHeld(rows pgx.Rows) (map[int64][]int32, error) {
	out := map[int64][]int32{}
	var u int64
	var p int32
	_, err := pgx.ForEachRow(rows, []any{&u, &p}, func() error {
		out[u] = append(out[u], p)
		return nil
	})
	return out, err
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
