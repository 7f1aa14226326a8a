package client

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// GroupCount is one group with its number of members.
type GroupCount struct {
	ID      int32
	Name    string
	Members int64
	Active  int64 // members whose account is active
}

// GroupCounts lists every group with member counts, by name. One pass over
// the membership table, grouped; no query per group.
func (c *Client) GroupCounts(ctx context.Context) ([]GroupCount, error) {
	const q = `
SELECT g.id, g.name, count(u.id), count(u.id) FILTER (WHERE u.is_active)
FROM auth_group g
LEFT JOIN rbac_user_groups ug ON ug.group_id = g.id
LEFT JOIN rbac_user u ON u.id = ug.user_id
GROUP BY g.id, g.name
ORDER BY g.name`
	rows, err := c.db.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []GroupCount
	var g GroupCount
	_, err = pgx.ForEachRow(rows, []any{&g.ID, &g.Name, &g.Members, &g.Active}, func() error {
		out = append(out, g)
		return nil
	})
	return out, err
}
