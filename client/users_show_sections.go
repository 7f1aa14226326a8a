package client

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// showTwoFA lists the user's django-otp devices. The key and token
// columns are deliberately not selected.
func (c *Client) showTwoFA(ctx context.Context, id int64) (*UserTwoFA, error) {
	const q = `
SELECT 'totp', name, confirmed, NULL::text, created_at, last_used_at FROM otp_totp_totpdevice WHERE user_id = $1
UNION ALL
SELECT 'email', name, confirmed, email, created_at, last_used_at FROM otp_email_emaildevice WHERE user_id = $1
ORDER BY 1, 2`
	rows, err := c.db.Query(ctx, q, id)
	if err != nil {
		return nil, err
	}
	t := &UserTwoFA{Devices: []TwoFADevice{}}
	var d TwoFADevice
	_, err = pgx.ForEachRow(rows, []any{&d.Kind, &d.Name, &d.Confirmed, &d.Email, &d.CreatedAt, &d.LastUsedAt}, func() error {
		d.CreatedAt, d.LastUsedAt = utcPtr(d.CreatedAt), utcPtr(d.LastUsedAt)
		t.Devices = append(t.Devices, d)
		t.Enabled = t.Enabled || d.Confirmed
		// Fresh pointers for the next row: the appended copy keeps these.
		d.Email, d.CreatedAt, d.LastUsedAt = nil, nil, nil
		return nil
	})
	return t, err
}

func (c *Client) showWallets(ctx context.Context, id int64) ([]Wallet, error) {
	const q = `SELECT id, name, currency, kind, address, created_at FROM api_wallet WHERE owner_id = $1 ORDER BY id`
	rows, err := c.db.Query(ctx, q, id)
	if err != nil {
		return nil, err
	}
	out := []Wallet{}
	var w Wallet
	_, err = pgx.ForEachRow(rows, []any{&w.ID, &w.Name, &w.Currency, &w.Kind, &w.Address, &w.CreatedAt}, func() error {
		w.CreatedAt = utc(w.CreatedAt)
		out = append(out, w)
		return nil
	})
	return out, err
}

// showSessions is the latest part of the API sessions list.
func (c *Client) showSessions(ctx context.Context, id int64, limit int) ([]AuthSession, error) {
	const q = `
SELECT user_id, host(ip), created_at, result, device_type, geolocation
FROM rbac_authlog WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`
	rows, err := c.db.Query(ctx, q, id, limit)
	if err != nil {
		return nil, err
	}
	out := []AuthSession{}
	var s AuthSession
	_, err = pgx.ForEachRow(rows, []any{&s.UserID, &s.IP, &s.Time, &s.Result, &s.DeviceType, &s.Geolocation}, func() error {
		s.Time = utc(s.Time)
		out = append(out, s)
		return nil
	})
	return out, err
}

// showTokens is the latest part of the list of sent tokens. Masking
// happens here, so an unrevealed token never reaches a renderer.
func (c *Client) showTokens(ctx context.Context, id int64, limit int, reveal bool) ([]ShownToken, error) {
	const q = `
SELECT t.sent_at, t.destination, t.token, s.name
FROM rbac_authtoken t JOIN rbac_tokenstatus s ON s.id = t.status_id
WHERE t.user_id = $1 ORDER BY t.sent_at DESC, t.id DESC LIMIT $2`
	rows, err := c.db.Query(ctx, q, id, limit)
	if err != nil {
		return nil, err
	}
	out := []ShownToken{}
	var t ShownToken
	_, err = pgx.ForEachRow(rows, []any{&t.SentAt, &t.Destination, &t.Token, &t.Status}, func() error {
		t.SentAt = utc(t.SentAt)
		if !reveal {
			t.Token = MaskToken(t.Token)
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// MonthBounds are the UTC calendar months around now: the start of last
// month, the start of this month.
func MonthBounds(now time.Time) (lastStart, thisStart time.Time) {
	now = now.UTC()
	thisStart = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return thisStart.AddDate(0, -1, 0), thisStart
}

// showCommissions fills turnover (the company's transfers this calendar
// month to date and last calendar month, UTC) and the personal plans.
func (c *Client) showCommissions(ctx context.Context, id int64, cm *UserCommissions, now time.Time) error {
	if cm.CompanyID != nil {
		lastStart, thisStart := MonthBounds(now)
		const q = `
SELECT coalesce(sum(amount_usd) FILTER (WHERE created_at >= $3), 0)::text,
       coalesce(sum(amount_usd) FILTER (WHERE created_at < $3), 0)::text
FROM api_transfer WHERE company_id = $1 AND created_at >= $2 AND created_at <= $4`
		var cur, last string
		if err := c.db.QueryRow(ctx, q, *cm.CompanyID, lastStart, thisStart, now).Scan(&cur, &last); err != nil {
			return err
		}
		cm.CurrentMonthTurnover, cm.LastMonthTurnover = &cur, &last
	}
	const q = `
SELECT c.id, c.operation, c.currency, c.percent::text, c.fixed_fee::text, c.min_fee::text, c.max_fee::text,
       c.created_at, c.updated_at
FROM commissions_usercommission uc JOIN commissions_commission c ON c.id = uc.commission_id
WHERE uc.user_id = $1 ORDER BY c.operation, c.currency, c.id`
	rows, err := c.db.Query(ctx, q, id)
	if err != nil {
		return err
	}
	var p CommissionPlan
	_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.Operation, &p.Currency, &p.Percent, &p.FixedFee, &p.MinFee, &p.MaxFee, &p.CreatedAt, &p.UpdatedAt}, func() error {
		p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
		cm.Plans = append(cm.Plans, p)
		p.MinFee, p.MaxFee = nil, nil
		return nil
	})
	return err
}
