package client

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

// ResolvePerms turns PERM arguments (identifier, seed label or glob) into
// catalog entries; an unknown word or a glob matching nothing is refused
// (exit 4) with the closest identifiers suggested.
func ResolvePerms(words []string) ([]catalog.Permission, error) {
	ps, err := permref.Resolve(words)
	if err != nil {
		return nil, Refused("%s", err.Error())
	}
	return ps, nil
}

// PermRef is one extra permission as the tool shows it.
type PermRef struct {
	Index int    // catalog index, -1 for a row the catalog does not know
	ID    string // app_label.codename
	Label string // the seed's text
}

// permTable maps auth_permission ids to catalog entries, loaded once per
// command (401 rows) so that the big queries move integers only.
type permTable struct {
	byDB   []PermRef        // indexed by auth_permission.id; Index -1 and ID "" = no such row
	dbByID map[string]int32 // identifier → auth_permission.id
}

// refCache holds reference data shared by a client and its WithDB copies.
type refCache struct {
	mu     sync.Mutex
	perms  *permTable
	groups map[string]int32 // auth_group ids by name
}

// permTable returns the permission table, loading it on first use. A
// failed load is not cached, so a transaction that rolls back does not
// poison later calls.
func (c *Client) permTable(ctx context.Context, db DBTX) (*permTable, error) {
	if c.ref == nil {
		return loadPermTable(ctx, db)
	}
	// Not locked while loading: see groupIDs.
	c.ref.mu.Lock()
	t := c.ref.perms
	c.ref.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := loadPermTable(ctx, db)
	if err != nil {
		return nil, err
	}
	c.ref.mu.Lock()
	defer c.ref.mu.Unlock()
	c.ref.perms = t
	return t, nil
}

func loadPermTable(ctx context.Context, db DBTX) (*permTable, error) {
	const q = `
SELECT p.id, ct.app_label, p.codename, ct.model, p.name
FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id`
	rows, err := db.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	t := &permTable{dbByID: map[string]int32{}}
	var id int32
	var app, codename, model, name string
	all := catalog.Permissions()
	_, err = pgx.ForEachRow(rows, []any{&id, &app, &codename, &model, &name}, func() error {
		ref := PermRef{Index: -1, ID: app + "." + codename, Label: app + " | " + model + " | " + name}
		if i, ok := permref.Index(ref.ID); ok && all[i].ID() == ref.ID {
			ref.Index, ref.Label = i, all[i].Label
		}
		for int(id) >= len(t.byDB) {
			t.byDB = append(t.byDB, PermRef{Index: -1})
		}
		t.byDB[id] = ref
		t.dbByID[ref.ID] = id
		return nil
	})
	return t, err
}

// ref returns the permission of an auth_permission id.
func (t *permTable) ref(id int32) PermRef {
	if id >= 0 && int(id) < len(t.byDB) && t.byDB[id].ID != "" {
		return t.byDB[id]
	}
	return PermRef{Index: -1, ID: fmt.Sprintf("#%d", id)}
}

// dbIDs returns the auth_permission ids of catalog entries; a missing one
// means the database was not migrated by this version of the tool.
func (t *permTable) dbIDs(perms []catalog.Permission) ([]int32, error) {
	out := make([]int32, len(perms))
	for i, p := range perms {
		id, ok := t.dbByID[p.ID()]
		if !ok {
			return nil, fmt.Errorf("permission %s is missing from the database (run: b2badmin db migrate)", p.ID())
		}
		out[i] = id
	}
	return out, nil
}

// sortRefs orders permissions by identifier, byte-wise: the order of show,
// export and baselines, whatever the database's collation.
func sortRefs(rs []PermRef) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
}

// UserPerms returns a user's extra permissions, by identifier.
func (c *Client) UserPerms(ctx context.Context, u UserRef) ([]PermRef, error) {
	t, err := c.permTable(ctx, c.db)
	if err != nil {
		return nil, err
	}
	const q = `SELECT permission_id FROM rbac_user_user_permissions WHERE user_id = $1`
	rows, err := c.db.Query(ctx, q, u.ID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	out := make([]PermRef, len(ids))
	for i, id := range ids {
		out[i] = t.ref(id)
	}
	sortRefs(out)
	return out, nil
}
