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
func (c *Client) GrantPerms(ctx context.Context, refs []string, perms []catalog.Permission, dryRun bool, a Audit) (PermOutcome, error) {
	return c.changePerms(ctx, refs, perms, true, dryRun, a)
}

// RevokePerms takes the permissions from users who hold them.
func (c *Client) RevokePerms(ctx context.Context, refs []string, perms []catalog.Permission, dryRun bool, a Audit) (PermOutcome, error) {
	return c.changePerms(ctx, refs, perms, false, dryRun, a)
}

// changePerms runs in one transaction: lock the users (so concurrent
// admins serialise per user and every before/after is exact), read what
// they hold, write only the difference in one set-based statement, and log
// one row per changed user with the permission lists before and after.
func (c *Client) changePerms(ctx context.Context, refs []string, perms []catalog.Permission, grant, dryRun bool, a Audit) (PermOutcome, error) {
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
		// Find and lock the users and read their grants in one round trip
		// (a dry run locks too: it runs the same statements, then rolls back).
		held := map[int64][]int32{}
		var uid int64
		var pid int32
		readHeld := func(rows pgx.Rows) error {
			_, err := pgx.ForEachRow(rows, []any{&uid, &pid}, func() error { held[uid] = append(held[uid], pid); return nil })
			return err
		}
		const heldOfRefs = `
SELECT u.id, up.permission_id FROM rbac_user u JOIN rbac_user_user_permissions up ON up.user_id = u.id
WHERE u.id = ANY($1) OR lower(u.email) = ANY($2) OR u.uuid = ANY($3::uuid[])`
		users, _, err := resolveAndLock(ctx, tx, refs, &followUp{heldOfRefs, readHeld})
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
