package client

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// UserUpdate is a change to one user's Info tab; nil fields stay as they are.
type UserUpdate struct {
	Email        *string
	FirstName    *string
	LastName     *string
	Phone        *string
	IPWhiteList  *string
	Language     *string
	CommLang     *string
	Active       *bool
	KeepSessions bool // with Active=false: leave the user's Django sessions
}

// Normalize validates every given field and returns the update with the
// values as they will be stored. It needs no database, so bad input is
// refused (exit 4) before any connection is made.
func (u UserUpdate) Normalize() (UserUpdate, error) {
	norm := func(p *string, fn func(string) (string, error)) (*string, error) {
		if p == nil {
			return nil, nil
		}
		v, err := fn(*p)
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
	var err error
	out := u
	if out.Email, err = norm(u.Email, NormalizeEmail); err != nil {
		return u, err
	}
	if out.FirstName, err = norm(u.FirstName, func(s string) (string, error) { return NormalizeName("first name", s) }); err != nil {
		return u, err
	}
	if out.LastName, err = norm(u.LastName, func(s string) (string, error) { return NormalizeName("last name", s) }); err != nil {
		return u, err
	}
	if out.Phone, err = norm(u.Phone, NormalizePhone); err != nil {
		return u, err
	}
	if out.IPWhiteList, err = norm(u.IPWhiteList, NormalizeIPWhiteList); err != nil {
		return u, err
	}
	if out.Language, err = norm(u.Language, func(s string) (string, error) { return NormalizeLanguage("language", s) }); err != nil {
		return u, err
	}
	if out.CommLang, err = norm(u.CommLang, func(s string) (string, error) { return NormalizeLanguage("communication language", s) }); err != nil {
		return u, err
	}
	return out, nil
}

// UpdateUsers applies u to every target: only the fields whose value
// changes are written and logged, so a user already as asked is left
// alone (and reported). An email is unique: it can go to one user only.
// --active false revokes API access as `users deactivate` does.
func (c *Client) UpdateUsers(ctx context.Context, a Audit, t Targets, u UserUpdate, o ChangeOptions) (ChangeResult, error) {
	u, err := u.Normalize()
	if err != nil {
		return ChangeResult{}, err
	}
	if u.Email != nil && (len(t.Refs) != 1 || t.Filter != nil) {
		return ChangeResult{}, Refused("refused: --email can change one user only (emails are unique)")
	}
	var rv revocation
	spec := changeSpec{action: "users.update", targets: t}
	deactivates := u.Active != nil && !*u.Active
	if deactivates {
		spec.reads = append(spec.reads, rv.read())
	}
	// The user already holding the new address, if any, read with the lock.
	var holder *int64
	if u.Email != nil {
		spec.reads = append(spec.reads, followUp{
			sql: func(_ func(string) string, arg func(any) string) string {
				return `SELECT id FROM rbac_user WHERE lower(email) = lower(` + arg(*u.Email) + `)`
			},
			read: func(rows pgx.Rows) error {
				ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
				if len(ids) > 0 {
					holder = &ids[0]
				}
				return err
			},
		})
	}
	spec.plan = func(p *planner) error {
		if len(p.users) > 1 && u.Email != nil {
			return Refused("refused: --email can change one user only (emails are unique)")
		}
		var ids, deactivated []int64
		for _, cur := range p.users {
			before, after := map[string]any{}, map[string]any{}
			set := func(key string, v *string, old string) {
				if v != nil && *v != old {
					before[key], after[key] = old, *v
				}
			}
			set("email", u.Email, cur.Email)
			set("first_name", u.FirstName, cur.FirstName)
			set("last_name", u.LastName, cur.LastName)
			set("phone", u.Phone, cur.Phone)
			set("ip_white_list", u.IPWhiteList, cur.IPWhiteList)
			set("language", u.Language, cur.Language)
			set("communication_language", u.CommLang, cur.CommLang)
			if u.Active != nil && *u.Active != cur.IsActive {
				before["is_active"], after["is_active"] = cur.IsActive, *u.Active
				if !*u.Active {
					deactivated = append(deactivated, cur.ID)
				}
			}
			if len(after) == 0 {
				p.same(cur)
				continue
			}
			if _, ok := after["email"]; ok && holder != nil && *holder != cur.ID {
				return Refused("refused: email %s is already used by user %d (emails are unique, case-insensitively)", *u.Email, *holder)
			}
			p.change(cur, before, after)
			ids = append(ids, cur.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		// Every changed user gets the same values; a field it already had
		// is rewritten unchanged (and not logged). NULL keeps a column.
		const update = `
UPDATE rbac_user SET
    email = COALESCE($2, email), first_name = COALESCE($3, first_name), last_name = COALESCE($4, last_name),
    phone = COALESCE($5, phone), ip_white_list = COALESCE($6, ip_white_list), language = COALESCE($7, language),
    communication_language = COALESCE($8, communication_language), is_active = COALESCE($9, is_active)
WHERE id = ANY($1)`
		p.writes.exec(update, ids, u.Email, u.FirstName, u.LastName, u.Phone, u.IPWhiteList, u.Language, u.CommLang, u.Active)
		if len(deactivated) > 0 {
			rv.plan(p, deactivated, u.KeepSessions)
		}
		return nil
	}
	res, err := c.runChange(ctx, a, o, spec)
	return res, emailConflict(err, u.Email)
}

// emailConflict turns the unique-index violation of a concurrent insert
// (the race checkEmailFree cannot see) into the same refusal.
func emailConflict(err error, email *string) error {
	var pg *pgconn.PgError
	if email != nil && errors.As(err, &pg) && pg.Code == "23505" {
		return Refused("refused: email %s is already used by another user (emails are unique, case-insensitively)", *email)
	}
	return err
}
