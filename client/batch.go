package client

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// UnknownUsers checks many user references at once, for a batch's
// pre-check: it returns, for every reference that names no user, why
// (a NotFound error, or a Refused one for a malformed reference). One
// query, however many references; an empty map means all exist.
func UnknownUsers(ctx context.Context, db DBTX, refs []string) (map[string]error, error) {
	bad := map[string]error{}
	var ids []int64
	var emails, uuids []string
	for _, r := range refs {
		k := strings.ToLower(strings.TrimSpace(r))
		switch {
		case k == "":
			bad[r] = Refused("empty user reference")
		case isDigits(k):
			id, err := strconv.ParseInt(k, 10, 64)
			if err != nil || id <= 0 {
				bad[r] = Refused("invalid user id %q", r)
				continue
			}
			ids = append(ids, id)
		case looksLikeUUID(k):
			uuids = append(uuids, k)
		case strings.Contains(k, "@"):
			emails = append(emails, k)
		default:
			bad[r] = Refused("invalid user reference %q: want an ID, an email or a UUID", r)
		}
	}
	if len(ids)+len(emails)+len(uuids) == 0 {
		return bad, nil
	}
	const q = `
SELECT id::text, lower(email), uuid::text FROM rbac_user
WHERE id = ANY($1) OR lower(email) = ANY($2) OR uuid = ANY($3::uuid[])`
	rows, err := db.Query(ctx, q, ids, emails, uuids)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	var id, email, uuid string
	if _, err := pgx.ForEachRow(rows, []any{&id, &email, &uuid}, func() error {
		found[id], found[email], found[uuid] = true, true, true
		return nil
	}); err != nil {
		return nil, err
	}
	for _, r := range refs {
		if _, done := bad[r]; done {
			continue
		}
		k := strings.ToLower(strings.TrimSpace(r))
		if isDigits(k) {
			n, _ := strconv.ParseInt(k, 10, 64)
			k = strconv.FormatInt(n, 10)
		}
		if !found[k] {
			bad[r] = NotFound("user %s", r)
		}
	}
	return bad, nil
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

// BatchChanges lists what line of a batch run has written to the operation
// log, in order. Inside the batch's own transaction it sees the uncommitted
// rows, which is how a dry run shows its changes.
func BatchChanges(ctx context.Context, db DBTX, batchID string, line int) ([]BatchChange, error) {
	const q = `
SELECT coalesce(l.batch_line, 0), l.action, l.target_user_id, u.email, l.before::text, l.after::text
FROM api_operationlog l LEFT JOIN rbac_user u ON u.id = l.target_user_id
WHERE l.run_id = $1::uuid AND l.batch_line = $2
ORDER BY l.id`
	rows, err := db.Query(ctx, q, batchID, line)
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
