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

// UpdateResult says what UpdateUser did (or, in a dry run, would do).
type UpdateResult struct {
	User   UserRef
	Change *Change // nil: nothing to change
	Access AccessRevoked
}

// UpdateUser applies u to one user: only the fields whose value changes
// are written and logged; when nothing changes nothing is written.
func (c *Client) UpdateUser(ctx context.Context, a Audit, ref string, u UserUpdate, dryRun bool) (UpdateResult, error) {
	u, err := u.Normalize()
	if err != nil {
		return UpdateResult{}, err
	}
	var res UpdateResult
	err = c.change(ctx, dryRun, func(tx pgx.Tx) error {
		users, locked, err := resolveAndLockUsers(ctx, tx, []string{ref})
		if err != nil {
			return err
		}
		res.User = users[0]
		cur := locked[0]
		ch := Change{UserID: cur.ID, Email: cur.Email, Before: map[string]any{}, After: map[string]any{}}
		// set keeps a field only when it really changes; the others go to
		// the UPDATE as NULL, which COALESCE turns into "leave as is".
		set := func(key string, p *string, old string) *string {
			if p == nil || *p == old {
				return nil
			}
			ch.Before[key], ch.After[key] = old, *p
			return p
		}
		email := set("email", u.Email, cur.Email)
		first := set("first_name", u.FirstName, cur.FirstName)
		last := set("last_name", u.LastName, cur.LastName)
		phone := set("phone", u.Phone, cur.Phone)
		ips := set("ip_white_list", u.IPWhiteList, cur.IPWhiteList)
		lang := set("language", u.Language, cur.Language)
		comm := set("communication_language", u.CommLang, cur.CommLang)
		var active *bool
		if u.Active != nil && *u.Active != cur.IsActive {
			active = u.Active
			ch.Before["is_active"], ch.After["is_active"] = cur.IsActive, *u.Active
		}
		if len(ch.After) == 0 {
			return nil
		}
		res.Change = &ch
		if email != nil {
			if err := checkEmailFree(ctx, tx, *email, cur.ID); err != nil {
				return err
			}
		}
		const update = `
UPDATE rbac_user SET
    email = COALESCE($2, email), first_name = COALESCE($3, first_name), last_name = COALESCE($4, last_name),
    phone = COALESCE($5, phone), ip_white_list = COALESCE($6, ip_white_list), language = COALESCE($7, language),
    communication_language = COALESCE($8, communication_language), is_active = COALESCE($9, is_active)
WHERE id = $1`
		var w pipeline
		w.exec(update, cur.ID, email, first, last, phone, ips, lang, comm, active)
		if err := w.log(a, "users.update", []Change{ch}); err != nil {
			return err
		}
		if err := w.send(ctx, tx); err != nil {
			return emailConflict(err, email)
		}
		if active != nil && !*active {
			if res.Access, err = revokeAccess(ctx, tx, []int64{cur.ID}, u.KeepSessions); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// checkEmailFree refuses an address another user holds, in any case.
func checkEmailFree(ctx context.Context, tx DBTX, email string, self int64) error {
	var other int64
	err := tx.QueryRow(ctx, `SELECT id FROM rbac_user WHERE lower(email) = lower($1) AND id <> $2`, email, self).Scan(&other)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return Refused("refused: email %s is already used by user %d (emails are unique, case-insensitively)", email, other)
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
