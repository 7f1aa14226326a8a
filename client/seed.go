package client

import (
	"context"
	"errors"
)

// SeedOptions say how much demo data to make.
type SeedOptions struct {
	Users    int
	Seed     int64
	Progress func(done int64) // may be nil
}

// SeedStats counts what Seed created.
type SeedStats struct {
	Users, Companies, Wallets, AuthLogs, Tokens, Transfers int64
}

// Seed fills an empty database with realistic demo data.
func (c *Client) Seed(ctx context.Context, o SeedOptions) (SeedStats, error) {
	return SeedStats{}, errors.New("seed: not implemented yet")
}

// HasUsers reports whether any user exists.
func (c *Client) HasUsers(ctx context.Context) (bool, error) {
	var has bool
	err := c.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rbac_user)`).Scan(&has)
	return has, err
}
