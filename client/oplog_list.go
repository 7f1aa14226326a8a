package client

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// LogFilter selects operation-log rows; zero fields do not filter.
type LogFilter struct {
	UserID *int64
	Actor  string // exact
	Action string // exact ("users.deactivate") or without the noun ("deactivate")
	Since  *time.Time
	Until  *time.Time // exclusive
	Limit  int        // 0 = all
	Oldest bool       // oldest first (default newest first)
}

// The two orders are two constants: an ORDER BY direction cannot be a
// parameter, and building SQL from flags is how injections start.
const (
	logSelect = `
SELECT l.id, l.created_at, l.actor, l.action, l.target_user_id, u.email, l.before, l.after,
       l.reason, l.command, l.batch_id::text, l.batch_file, l.batch_line
FROM api_operationlog l LEFT JOIN rbac_user u ON u.id = l.target_user_id
WHERE ($1::bigint IS NULL OR l.target_user_id = $1)
  AND ($2 = '' OR l.actor = $2)
  AND ($3 = '' OR l.action = $3 OR split_part(l.action, '.', 2) = $3)
  AND ($4::timestamptz IS NULL OR l.created_at >= $4)
  AND ($5::timestamptz IS NULL OR l.created_at < $5)`
	logNewest = logSelect + `
ORDER BY l.created_at DESC, l.id DESC LIMIT $6`
	logOldest = logSelect + `
ORDER BY l.created_at, l.id LIMIT $6`
)

// ListLog streams matching log rows to fn, so a long log never sits in memory.
func (c *Client) ListLog(ctx context.Context, f LogFilter, fn func(LogEntry) error) error {
	q := logNewest
	if f.Oldest {
		q = logOldest
	}
	var limit any
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := c.db.Query(ctx, q, f.UserID, f.Actor, f.Action, f.Since, f.Until, limit)
	if err != nil {
		return err
	}
	var e LogEntry
	var email *string
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.CreatedAt, &e.Actor, &e.Action, &e.UserID, &email,
		&e.Before, &e.After, &e.Reason, &e.Command, &e.BatchID, &e.BatchFile, &e.BatchLine}, func() error {
		// pgx may reuse scan targets between rows: hand fn its own copies.
		out := e
		out.Email = clonePtr(email)
		out.UserID = clonePtr(e.UserID)
		out.BatchID = clonePtr(e.BatchID)
		out.BatchLine = clonePtr(e.BatchLine)
		out.Before = append([]byte(nil), e.Before...)
		out.After = append([]byte(nil), e.After...)
		return fn(out)
	})
	return err
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
