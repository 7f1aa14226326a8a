package client

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CheckUsers checks many user references at once, for a batch's
// pre-check: it returns the id each existing one names and, for every
// reference that names no user, why (a NotFound error, or a Refused one
// for a malformed reference). One query, however many references.
func CheckUsers(ctx context.Context, db DBTX, refs []string) (map[string]int64, map[string]error, error) {
	bad := map[string]error{}
	var good []string
	for _, r := range refs {
		if _, err := parseRefs([]string{r}); err != nil {
			bad[r] = err
			continue
		}
		good = append(good, r)
	}
	ids := map[string]int64{}
	if len(good) == 0 {
		return ids, bad, nil
	}
	byRef, err := findRefs(ctx, db, good)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range good {
		if u, ok := byRef[refKey(r)]; ok {
			ids[r] = u.ID
		} else {
			bad[r] = NotFound("user %s", r)
		}
	}
	return ids, bad, nil
}

// BatchChange is one logged change of a batch run, for `batch --dry-run`.
type BatchChange struct {
	Line   int             `json:"line"`
	Action string          `json:"action"`
	UserID *int64          `json:"user_id"`
	Email  *string         `json:"email"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// BatchChanges lists what lines first to last of a batch run have written
// to the operation log, in line order. Inside the batch's own transaction
// it sees the uncommitted rows, which is how a dry run shows its changes.
func BatchChanges(ctx context.Context, db DBTX, batchID string, first, last int) ([]BatchChange, error) {
	const q = `
SELECT coalesce(l.batch_line, 0), l.action, l.target_user_id, u.email, l.before::text, l.after::text
FROM api_operationlog l LEFT JOIN rbac_user u ON u.id = l.target_user_id
WHERE l.run_id = $1::uuid AND l.batch_line BETWEEN $2 AND $3
ORDER BY l.batch_line, l.id`
	rows, err := db.Query(ctx, q, batchID, first, last)
	if err != nil {
		return nil, err
	}
	var out []BatchChange
	var c BatchChange
	var before, after string
	_, err = pgx.ForEachRow(rows, []any{&c.Line, &c.Action, &c.UserID, &c.Email, &before, &after}, func() error {
		c.Before, c.After = json.RawMessage(before), json.RawMessage(after)
		out = append(out, c)
		c = BatchChange{}
		return nil
	})
	return out, err
}

// UserEmailsWithPrefix lists up to limit emails starting with prefix
// (case-insensitively), for shell completion.
func UserEmailsWithPrefix(ctx context.Context, db DBTX, prefix string, limit int) ([]string, error) {
	const q = `
SELECT email FROM rbac_user
WHERE lower(email) LIKE $1 || '%' ESCAPE '\'
ORDER BY lower(email) LIMIT $2`
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(prefix))
	rows, err := db.Query(ctx, q, esc, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
