package client

import (
	"context"
	"errors"
	"sort"

	"github.com/jackc/pgx/v5"
)

// errWriteDryRun rolls back a transaction that computed its changes and must
// not keep them; the caller turns it back into success.
var errWriteDryRun = errors.New("dry run: rolled back")

// lockedUser is a user row as read under a row lock, for computing the
// before/after of a change.
type lockedUser struct {
	ID          int64
	Email       string
	FirstName   string
	LastName    string
	Phone       string
	IPWhiteList string
	Language    string
	CommLang    string
	IsActive    bool
	Type        string
	CompanyID   *int64
	Usable      bool // the password is usable (not "!…")
}

// resolveAndLockUsers is ResolveUsers plus a row lock in one round trip:
// the rows named by refs are found and locked (in id order) by one
// statement. A batch line is mostly round trips, so this one counts.
func resolveAndLockUsers(ctx context.Context, tx DBTX, refs []string) ([]UserRef, []lockedUser, error) {
	return resolveAndLock(ctx, tx, refs, nil)
}

// followUp is a query pipelined behind the lock, over the same user
// arguments ($1 ids, $2 lower-case emails, $3 uuids): the server runs it
// after the lock is held, with a fresh snapshot, in the same round trip.
type followUp struct {
	sql  string
	read func(pgx.Rows) error
}

// resolveLockAndGroups is resolveAndLockUsers plus the users' current groups.
func resolveLockAndGroups(ctx context.Context, tx DBTX, refs []string) ([]UserRef, []lockedUser, map[int64][]string, error) {
	const groupsOfRefs = `
SELECT u.id, g.name FROM rbac_user u
JOIN rbac_user_groups ug ON ug.user_id = u.id JOIN auth_group g ON g.id = ug.group_id
WHERE u.id = ANY($1) OR lower(u.email) = ANY($2) OR u.uuid = ANY($3::uuid[])`
	groups := map[int64][]string{}
	var uid int64
	var name string
	read := func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&uid, &name}, func() error { groups[uid] = append(groups[uid], name); return nil })
		return err
	}
	users, locked, err := resolveAndLock(ctx, tx, refs, &followUp{groupsOfRefs, read})
	return users, locked, groups, err
}

func resolveAndLock(ctx context.Context, tx DBTX, refs []string, follow *followUp) ([]UserRef, []lockedUser, error) {
	keys, err := parseRefs(refs)
	if err != nil {
		return nil, nil, err
	}
	const q = `
SELECT id, email, first_name, last_name, phone, ip_white_list, language, communication_language,
       is_active, type, company_id, left(password, 1) <> '!', id::text AS id_text, lower(email) AS email_key, uuid::text AS uuid_text
FROM rbac_user WHERE id = ANY($1) OR lower(email) = ANY($2) OR uuid = ANY($3::uuid[])
ORDER BY id FOR UPDATE`
	b := &pgx.Batch{}
	b.Queue(q, keys.ids, keys.emails, keys.uuids)
	if follow != nil {
		b.Queue(follow.sql, keys.ids, keys.emails, keys.uuids)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, nil, err
	}
	byRef := map[string]UserRef{}
	lockedByID := map[int64]lockedUser{}
	var u lockedUser
	var idText, lowerEmail, uuidText string
	_, err = pgx.ForEachRow(rows, []any{&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Phone, &u.IPWhiteList,
		&u.Language, &u.CommLang, &u.IsActive, &u.Type, &u.CompanyID, &u.Usable, &idText, &lowerEmail, &uuidText}, func() error {
		c := u
		if u.CompanyID != nil {
			id := *u.CompanyID
			c.CompanyID = &id
		}
		lockedByID[c.ID] = c
		ref := UserRef{ID: c.ID, Email: c.Email}
		byRef[idText], byRef[lowerEmail], byRef[uuidText] = ref, ref, ref
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if follow != nil {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, err
		}
		if err := follow.read(rows); err != nil {
			return nil, nil, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, nil, err
	}
	users, err := matchRefs(refs, byRef)
	if err != nil {
		return nil, nil, err
	}
	// Locked rows in id order, only those the arguments named.
	locked := make([]lockedUser, 0, len(users))
	for _, r := range users {
		locked = append(locked, lockedByID[r.ID])
	}
	sort.Slice(locked, func(i, j int) bool { return locked[i].ID < locked[j].ID })
	return users, locked, nil
}

// change runs fn in a transaction. A dry run runs exactly the same
// statements (so constraint violations show up too) and then rolls back.
func (c *Client) change(ctx context.Context, dryRun bool, fn func(tx pgx.Tx) error) error {
	err := c.inTx(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if dryRun {
			return errWriteDryRun
		}
		return nil
	})
	if errors.Is(err, errWriteDryRun) {
		return nil
	}
	return err
}
