package client

import (
	"context"

	"github.com/jackc/pgx/v5"
)

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
