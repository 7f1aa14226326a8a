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
	Reveal bool       // tokens: in full, not masked
}

// AuthSession is one row of the API sessions list (a login attempt): the
// shape of `users sessions` and of the sessions section of `users show`.
type AuthSession struct {
	ID          int64     `json:"id"`
	UserID      int64     `json:"user_id"`
	IP          string    `json:"ip"`
	Time        time.Time `json:"time"`
	Result      string    `json:"result"`
	DeviceType  string    `json:"device_type"`
	Geolocation string    `json:"geolocation"`
}

// AuthLog streams the user's login attempts, newest first, to fn.
func (c *Client) AuthLog(ctx context.Context, userID int64, f ActivityFilter, fn func(AuthSession) error) error {
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
	var e AuthSession
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.UserID, &e.IP, &e.Time, &e.Result, &e.DeviceType, &e.Geolocation},
		func() error { e.Time = utc(e.Time); return fn(e) })
	return err
}

// SentToken is one row of the list of sent tokens: the shape of
// `users tokens` and of the tokens section of `users show`. Token is
// masked unless the filter asked to reveal it.
type SentToken struct {
	ID          int64     `json:"id"`
	UserID      int64     `json:"user_id"`
	SentAt      time.Time `json:"sent_at"`
	Destination string    `json:"destination"`
	Token       string    `json:"token"`
	Status      string    `json:"status"`
}

// SentTokens streams the tokens sent to the user, newest first, to fn.
// Masking happens here, so an unrevealed token never reaches a renderer.
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
		func() error {
			e.SentAt = utc(e.SentAt)
			if !f.Reveal {
				e.Token = MaskToken(e.Token)
			}
			return fn(e)
		})
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
