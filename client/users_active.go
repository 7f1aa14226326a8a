package client

import (
	"context"
	"sort"

	"github.com/jackc/pgx/v5"
)

// ActiveResult says what SetActive did (or, in a dry run, would do).
type ActiveResult struct {
	Changed   []Change  // one per user whose is_active flipped
	Unchanged []UserRef // already in the wanted state: reported, not logged
	Access    AccessRevoked
}

// SetActive activates or deactivates many users at once. Everything is
// set-based: one statement each to resolve, lock, update, log, blacklist
// tokens and delete sessions, whatever the number of users. All or
// nothing: an unknown user among many fails the whole command (exit 3)
// before anything is written.
func (c *Client) SetActive(ctx context.Context, a Audit, refs []string, active, keepSessions, dryRun bool) (ActiveResult, error) {
	var res ActiveResult
	action := "users.deactivate"
	if active {
		action = "users.activate"
	}
	err := c.change(ctx, dryRun, func(tx pgx.Tx) error {
		users, err := ResolveUsers(ctx, tx, refs)
		if err != nil {
			return err
		}
		ids := IDs(users)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		// Lock in id order (no deadlock between overlapping bulk changes)
		// and read the state under the lock, so "already active" is true.
		const lock = `SELECT id, email, is_active FROM rbac_user WHERE id = ANY($1) ORDER BY id FOR UPDATE`
		rows, err := tx.Query(ctx, lock, ids)
		if err != nil {
			return err
		}
		var toChange []int64
		var id int64
		var email string
		var isActive bool
		_, err = pgx.ForEachRow(rows, []any{&id, &email, &isActive}, func() error {
			if isActive == active {
				res.Unchanged = append(res.Unchanged, UserRef{ID: id, Email: email})
				return nil
			}
			toChange = append(toChange, id)
			res.Changed = append(res.Changed, Change{UserID: id, Email: email,
				Before: map[string]any{"is_active": isActive}, After: map[string]any{"is_active": active}})
			return nil
		})
		if err != nil {
			return err
		}
		if len(toChange) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE rbac_user SET is_active = $2 WHERE id = ANY($1)`, toChange, active); err != nil {
			return err
		}
		if !active {
			if res.Access, err = revokeAccess(ctx, tx, toChange, keepSessions); err != nil {
				return err
			}
		}
		return writeOperationLog(ctx, tx, a, action, res.Changed)
	})
	return res, err
}
