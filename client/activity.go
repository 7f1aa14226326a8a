package client

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ActivityFilter narrows the API sessions list and the sent tokens list.
type ActivityFilter struct {
	Since  *time.Time // inclusive
	Result string     // sessions: "success", "failure" or "" (any)
	Status string     // tokens: a rbac_tokenstatus name or "" (any)
	Limit  int        // 0 = no limit
}

// AuthLogEntry is one row of the API sessions list (a login attempt).
type AuthLogEntry struct {
	ID          int64
	UserID      int64
	IP          string
	CreatedAt   time.Time
	Result      string
	DeviceType  string
	Geolocation string
}

// AuthLog streams the user's login attempts, newest first, to fn.
func (c *Client) AuthLog(ctx context.Context, userID int64, f ActivityFilter, fn func(AuthLogEntry) error) error {
	// ORDER BY created_at DESC, id DESC walks rbac_authlog_user_id_created_at_idx.
	const q = `
SELECT id, user_id, host(ip), created_at, result, device_type, geolocation
FROM rbac_authlog
WHERE user_id = $1
  AND ($2::timestamptz IS NULL OR created_at >= $2)
  AND ($3 = '' OR result = $3)
ORDER BY created_at DESC, id DESC
LIMIT $4`
	rows, err := c.db.Query(ctx, q, userID, f.Since, f.Result, limitArg(f.Limit))
	if err != nil {
		return err
	}
	var e AuthLogEntry
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.UserID, &e.IP, &e.CreatedAt, &e.Result, &e.DeviceType, &e.Geolocation},
		func() error { return fn(e) })
	return err
}

// SentToken is one row of the list of sent tokens. Token is the raw value;
// callers mask it unless the admin asked to reveal it.
type SentToken struct {
	ID          int64
	UserID      int64
	SentAt      time.Time
	Destination string
	Token       string
	Status      string
}

// SentTokens streams the tokens sent to the user, newest first, to fn.
func (c *Client) SentTokens(ctx context.Context, userID int64, f ActivityFilter, fn func(SentToken) error) error {
	const q = `
SELECT t.id, t.user_id, t.sent_at, t.destination, t.token, s.name
FROM rbac_authtoken t JOIN rbac_tokenstatus s ON s.id = t.status_id
WHERE t.user_id = $1
  AND ($2::timestamptz IS NULL OR t.sent_at >= $2)
  AND ($3 = '' OR s.name = $3)
ORDER BY t.sent_at DESC, t.id DESC
LIMIT $4`
	rows, err := c.db.Query(ctx, q, userID, f.Since, f.Status, limitArg(f.Limit))
	if err != nil {
		return err
	}
	var e SentToken
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.UserID, &e.SentAt, &e.Destination, &e.Token, &e.Status},
		func() error { return fn(e) })
	return err
}

// TokenStatuses lists the known sent-token statuses (rbac_tokenstatus).
func (c *Client) TokenStatuses(ctx context.Context) ([]string, error) {
	rows, err := c.db.Query(ctx, `SELECT name FROM rbac_tokenstatus ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// limitArg turns "0 = no limit" into SQL's LIMIT NULL (= no limit).
func limitArg(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// MaskToken hides a sent token unless the admin asked to reveal it. A long
// token keeps its last four characters ("••••1234") so it can be matched
// with what the user sees; a short one (most sent tokens are 6-digit codes)
// is hidden entirely, since four of six digits would leave 100 guesses.
func MaskToken(tok string) string {
	r := []rune(tok)
	if len(r) < minTokenLenForHint {
		return "••••"
	}
	return "••••" + string(r[len(r)-4:])
}

// minTokenLenForHint: below this length the last four characters are too
// large a share of the secret to print.
const minTokenLenForHint = 12
