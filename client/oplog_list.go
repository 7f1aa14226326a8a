package client

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Actions are the actions the operation log records, one per kind of
// change: runChange refuses any other, so that `log --action` can refuse
// a typo instead of finding nothing.
var Actions = []string{
	"users.update", "users.activate", "users.deactivate", "users.set-password",
	"users." + string(GroupsAdd), "users." + string(GroupsRemove), "users." + string(GroupsSet), "users." + string(GroupsRole),
	"perms.grant", "perms.revoke", "2fa.enable", "2fa.disable", "commissions.set", "access.apply", "undo",
}

// ActionNames are the names an action of the log goes by: in full
// ("users.deactivate") and by its verb ("deactivate"), as LogFilter.Action.
func ActionNames() []string {
	names := make([]string, 0, 2*len(Actions))
	for _, a := range Actions {
		_, verb, _ := strings.Cut(a, ".")
		names = append(names, a, verb)
	}
	return names
}

// IsAction reports whether s is one of ActionNames.
func IsAction(s string) bool { return s != "" && slices.Contains(ActionNames(), s) }

// LogFilter selects operation-log rows; zero fields do not filter.
type LogFilter struct {
	UserID *int64
	Actor  string // exact
	Action string // exact ("users.deactivate") or without the noun ("deactivate")
	Since  *time.Time
	Until  *time.Time // exclusive
	RunID  string     // the rows of one run
	Reason string     // case-insensitive substring of the reason
	Limit  int        // 0 = all
	Oldest bool       // oldest first (default newest first)
}

// The two orders are two constants: an ORDER BY direction cannot be a
// parameter, and building SQL from flags is how injections start.
const (
	logSelect = `
SELECT l.id, l.created_at, l.actor, l.action, l.target_user_id, u.email, l.before, l.after, l.detail,
       l.reason, l.command, l.run_id::text, l.batch_file, l.batch_line
FROM api_operationlog l LEFT JOIN rbac_user u ON u.id = l.target_user_id
WHERE ($1::bigint IS NULL OR l.target_user_id = $1)
  AND ($2 = '' OR l.actor = $2)
  AND ($3 = '' OR l.action = $3 OR split_part(l.action, '.', 2) = $3)
  AND ($4::timestamptz IS NULL OR l.created_at >= $4)
  AND ($5::timestamptz IS NULL OR l.created_at < $5)
  AND ($6::uuid IS NULL OR l.run_id = $6::uuid)
  AND ($7 = '' OR l.reason ILIKE '%' || $7 || '%' ESCAPE '\')`
	logNewest = logSelect + `
ORDER BY l.created_at DESC, l.id DESC LIMIT $8`
	logOldest = logSelect + `
ORDER BY l.created_at, l.id LIMIT $8`
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
	var run any
	if f.RunID != "" {
		run = f.RunID
	}
	rows, err := c.db.Query(ctx, q, f.UserID, f.Actor, f.Action, f.Since, f.Until, run, likeEscaper.Replace(f.Reason), limit)
	if err != nil {
		return err
	}
	var e LogEntry
	var email *string
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.CreatedAt, &e.Actor, &e.Action, &e.UserID, &email,
		&e.Before, &e.After, &e.Detail, &e.Reason, &e.Command, &e.RunID, &e.BatchFile, &e.BatchLine}, func() error {
		// pgx may reuse scan targets between rows: hand fn its own copies.
		out := e
		out.Email = clonePtr(email)
		out.UserID = clonePtr(e.UserID)
		out.RunID = clonePtr(e.RunID)
		out.BatchLine = clonePtr(e.BatchLine)
		out.Before = append([]byte(nil), e.Before...)
		out.After = append([]byte(nil), e.After...)
		out.Detail = append([]byte(nil), e.Detail...)
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
