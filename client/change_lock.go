package client

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
)

// lockedUser is a user row as read under its row lock.
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

func (u lockedUser) ref() UserRef { return UserRef{ID: u.ID, Email: u.Email} }

// lockTargets finds and locks the target users in id order with one
// statement, runs the follow-up reads behind it in the same round trip,
// and returns the users (id order) and, with SkipMissing, the references
// that named nobody.
func lockTargets(ctx context.Context, tx DBTX, t Targets, reads []followUp) ([]lockedUser, []string, error) {
	var b sqlBuilder
	var conds []string
	onlyIDs := false
	if len(t.Refs) > 0 {
		keys, err := parseRefs(t.Refs)
		if err != nil {
			return nil, nil, err
		}
		// Only the kinds of reference given: a change runs per batch line,
		// and planning a three-index OR costs more than running it.
		var kinds []string
		if len(keys.ids) > 0 {
			kinds = append(kinds, "u.id = ANY("+b.arg(keys.ids)+")")
		}
		if len(keys.emails) > 0 {
			kinds = append(kinds, "lower(u.email) = ANY("+b.arg(keys.emails)+")")
		}
		if len(keys.uuids) > 0 {
			kinds = append(kinds, "u.uuid = ANY("+b.arg(keys.uuids)+"::uuid[])")
		}
		conds = append(conds, strings.Join(kinds, " OR "))
		onlyIDs = len(kinds) == 1 && len(keys.ids) > 0
	}
	if t.Filter != nil && (len(t.Refs) == 0 || t.Union) {
		if fc := b.userConds(*t.Filter); len(fc) > 0 {
			conds = append(conds, strings.Join(fc, "\n  AND "))
		}
	}
	cond := "(" + strings.Join(conds, ")\n   OR (") + ")"
	from := "rbac_user u"
	if t.Filter != nil && t.Filter.needsCompanyJoin() {
		from += " LEFT JOIN rbac_company c ON c.id = u.company_id"
	}
	lockSQL := `
SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.ip_white_list, u.language, u.communication_language,
       u.is_active, u.type, u.company_id, left(u.password, 1) <> '!', u.id::text, lower(u.email), u.uuid::text
FROM ` + from + `
WHERE ` + cond + `
ORDER BY u.id FOR UPDATE OF u`
	named := false
	targets := func(col string) string {
		named = true
		if onlyIDs && len(conds) == 1 {
			// Ids need not be found again: one that names nobody reads
			// nothing (and a plain = ANY plans fastest, per batch line).
			return col + " = ANY($1::bigint[])"
		}
		return col + " IN (SELECT u.id FROM " + from + " WHERE " + cond + ")"
	}
	batch := &pgx.Batch{}
	batch.Queue(lockSQL, b.args...)
	for _, r := range reads {
		named = false
		rb := sqlBuilder{args: append([]any(nil), b.args...)}
		q := r.sql(targets, rb.arg)
		if !named {
			// A read that does not name the targets gets only its own
			// parameters (PostgreSQL cannot type an unused one).
			rb = sqlBuilder{}
			q = r.sql(targets, rb.arg)
		}
		batch.Queue(q, rb.args...)
	}
	br := tx.SendBatch(ctx, batch)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, nil, err
	}
	var users []lockedUser
	byRef := map[string]UserRef{}
	var u lockedUser
	var idText, lowerEmail, uuidText string
	_, err = pgx.ForEachRow(rows, []any{&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Phone, &u.IPWhiteList,
		&u.Language, &u.CommLang, &u.IsActive, &u.Type, &u.CompanyID, &u.Usable, &idText, &lowerEmail, &uuidText}, func() error {
		cp := u
		if u.CompanyID != nil {
			id := *u.CompanyID
			cp.CompanyID = &id
		}
		users = append(users, cp)
		if len(t.Refs) > 0 {
			ref := UserRef{ID: cp.ID, Email: cp.Email}
			byRef[idText], byRef[lowerEmail], byRef[uuidText] = ref, ref, ref
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, r := range reads {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, err
		}
		if err := r.read(rows); err != nil {
			return nil, nil, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, nil, err
	}
	var missing []string
	if len(t.Refs) > 0 {
		if _, err := matchRefs(t.Refs, byRef); err != nil {
			if !t.SkipMissing || !errors.Is(err, ErrNotFound) {
				return nil, nil, err
			}
			missing = missingRefs(t.Refs, byRef)
		}
	}
	return users, missing, nil
}

// lockedSet is the locked users' ids as a set: follow-up reads ignore rows
// of other users (a selector re-evaluated by a follow-up can match a user
// the lock did not).
func lockedSet(users []lockedUser) map[int64]bool {
	m := make(map[int64]bool, len(users))
	for _, u := range users {
		m[u.ID] = true
	}
	return m
}
