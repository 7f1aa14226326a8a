package client

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// MonthRange is a calendar month in UTC as a half-open range [From, To).
type MonthRange struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// MonthOf is the UTC calendar month containing t.
func MonthOf(t time.Time) MonthRange {
	t = t.UTC()
	from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return MonthRange{From: from, To: from.AddDate(0, 1, 0)}
}

// Previous is the month before m.
func (m MonthRange) Previous() MonthRange {
	return MonthRange{From: m.From.AddDate(0, -1, 0), To: m.From}
}

// Label is the month as YYYY-MM.
func (m MonthRange) Label() string { return m.From.Format("2006-01") }

// Turnover is a company's transfer volume over a month. Amounts are decimal
// strings straight from PostgreSQL's numeric, so no cent is lost to floats.
type Turnover struct {
	Month     string `json:"month"`
	From      string `json:"from"`
	To        string `json:"to"`
	AmountUSD string `json:"amount_usd"`
	Transfers int64  `json:"transfers"`
}

// CommissionPlan is one personal commission plan of a user.
type CommissionPlan struct {
	ID        int64     `json:"id"` // commissions_commission.id
	Operation string    `json:"operation"`
	Currency  string    `json:"currency"`
	Percent   string    `json:"percent"`
	FixedFee  string    `json:"fixed_fee"`
	MinFee    *string   `json:"min_fee"`
	MaxFee    *string   `json:"max_fee"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CommissionSummary is the Commissions tab of one user.
type CommissionSummary struct {
	UserID          int64            `json:"user_id"`
	Email           string           `json:"email"`
	CompanyID       *int64           `json:"company_id"`
	Company         *string          `json:"company"`
	CurrentTurnover *Turnover        `json:"current_month_turnover"` // nil without a company
	LastTurnover    *Turnover        `json:"last_month_turnover"`
	Plans           []CommissionPlan `json:"plans"`
}

// CommissionSummary computes the user's company turnover for the month
// containing asOf ("current", month to date: transfers are never dated in
// the future, so the whole month's range is the month to date, and it
// matches `commissions transfers --month` exactly) and the month before,
// plus the user's personal plans.
func (c *Client) CommissionSummary(ctx context.Context, u UserRef, asOf time.Time) (CommissionSummary, error) {
	s := CommissionSummary{UserID: u.ID, Email: u.Email, Plans: []CommissionPlan{}}
	err := c.db.QueryRow(ctx, `
SELECT u.email, u.company_id, co.name FROM rbac_user u LEFT JOIN rbac_company co ON co.id = u.company_id
WHERE u.id = $1`, u.ID).Scan(&s.Email, &s.CompanyID, &s.Company)
	if err == pgx.ErrNoRows {
		return s, NotFound("user %s", u.Ref)
	}
	if err != nil {
		return s, err
	}
	if s.CompanyID != nil {
		cur := MonthOf(asOf)
		last := cur.Previous()
		// Both sums in one pass over the index range of the two months.
		const q = `
SELECT coalesce(sum(amount_usd) FILTER (WHERE created_at >= $3), 0)::text,
       count(*) FILTER (WHERE created_at >= $3),
       coalesce(sum(amount_usd) FILTER (WHERE created_at < $3), 0)::text,
       count(*) FILTER (WHERE created_at < $3)
FROM api_transfer
WHERE company_id = $1 AND created_at >= $2 AND created_at < $4`
		ct := &Turnover{Month: cur.Label(), From: rfc(cur.From), To: rfc(cur.To)}
		lt := &Turnover{Month: last.Label(), From: rfc(last.From), To: rfc(last.To)}
		if err := c.db.QueryRow(ctx, q, *s.CompanyID, last.From, cur.From, cur.To).
			Scan(&ct.AmountUSD, &ct.Transfers, &lt.AmountUSD, &lt.Transfers); err != nil {
			return s, err
		}
		s.CurrentTurnover, s.LastTurnover = ct, lt
	}
	plans, err := c.CommissionPlans(ctx, u.ID)
	if err != nil {
		return s, err
	}
	s.Plans = plans
	return s, nil
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

const selectPlans = `
SELECT c.id, c.operation, c.currency, c.percent::text, c.fixed_fee::text, c.min_fee::text, c.max_fee::text,
       c.created_at, c.updated_at
FROM commissions_usercommission uc JOIN commissions_commission c ON c.id = uc.commission_id
WHERE uc.user_id = $1`

// CommissionPlans lists the user's personal plans by operation and currency.
func (c *Client) CommissionPlans(ctx context.Context, userID int64) ([]CommissionPlan, error) {
	rows, err := c.db.Query(ctx, selectPlans+` ORDER BY c.operation, c.currency, c.id`, userID)
	if err != nil {
		return nil, err
	}
	return collectPlans(rows)
}

func collectPlans(rows pgx.Rows) ([]CommissionPlan, error) {
	out := []CommissionPlan{}
	var p CommissionPlan
	_, err := pgx.ForEachRow(rows, []any{&p.ID, &p.Operation, &p.Currency, &p.Percent, &p.FixedFee, &p.MinFee, &p.MaxFee, &p.CreatedAt, &p.UpdatedAt},
		func() error {
			p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
			out = append(out, p)
			p.MinFee, p.MaxFee = nil, nil
			return nil
		})
	return out, err
}

// Transfer is one row of api_transfer.
type Transfer struct {
	ID        int64
	CompanyID int64
	UserID    *int64
	AmountUSD string
	Currency  string
	CreatedAt time.Time
}

// CompanyTransfers streams the transfers of the user's company in month m,
// oldest first. A user without a company has none (the second result says
// whether the user has a company).
func (c *Client) CompanyTransfers(ctx context.Context, userID int64, m MonthRange, fn func(Transfer) error) (bool, error) {
	var companyID *int64
	if err := c.db.QueryRow(ctx, `SELECT company_id FROM rbac_user WHERE id = $1`, userID).Scan(&companyID); err != nil {
		if err == pgx.ErrNoRows {
			return false, NotFound("user %d", userID)
		}
		return false, err
	}
	if companyID == nil {
		return false, nil
	}
	const q = `
SELECT id, company_id, user_id, amount_usd::text, currency, created_at
FROM api_transfer
WHERE company_id = $1 AND created_at >= $2 AND created_at < $3
ORDER BY created_at, id`
	rows, err := c.db.Query(ctx, q, *companyID, m.From, m.To)
	if err != nil {
		return true, err
	}
	var t Transfer
	_, err = pgx.ForEachRow(rows, []any{&t.ID, &t.CompanyID, &t.UserID, &t.AmountUSD, &t.Currency, &t.CreatedAt},
		func() error { return fn(t) })
	return true, err
}
