package client

import (
	"encoding/json"

	"github.com/jackc/pgx/v5"
)

// reads are the current values the run's fields need, behind the lock.
func (st *undoState) reads() []followUp {
	var out []followUp
	if st.needs["groups"] {
		out = append(out, followUp{
			sql: func(targets func(string) string, _ func(any) string) string {
				return `SELECT ug.user_id, g.name FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ` + targets("ug.user_id")
			},
			read: func(rows pgx.Rows) error {
				var uid int64
				var name string
				_, err := pgx.ForEachRow(rows, []any{&uid, &name}, func() error { st.groups[uid] = append(st.groups[uid], name); return nil })
				return err
			},
		})
	}
	if st.needs["permissions"] {
		out = append(out, followUp{
			sql: func(targets func(string) string, _ func(any) string) string {
				return `SELECT user_id, permission_id FROM rbac_user_user_permissions WHERE ` + targets("user_id")
			},
			read: func(rows pgx.Rows) error {
				var uid int64
				var pid int32
				_, err := pgx.ForEachRow(rows, []any{&uid, &pid}, func() error { st.perms[uid] = append(st.perms[uid], pid); return nil })
				return err
			},
		})
	}
	if st.needs["two_factor_devices"] {
		out = append(out, readDevices(st.devices))
	}
	if st.needs["commission_plan"] {
		out = append(out, followUp{
			sql: func(targets func(string) string, _ func(any) string) string {
				return `
SELECT DISTINCT ON (uc.user_id, c.operation, c.currency) uc.user_id, c.operation, c.currency, c.percent::text,
       c.fixed_fee::text, c.min_fee::text, c.max_fee::text
FROM commissions_usercommission uc JOIN commissions_commission c ON c.id = uc.commission_id
WHERE ` + targets("uc.user_id") + ` ORDER BY uc.user_id, c.operation, c.currency, c.id`
			},
			read: func(rows pgx.Rows) error {
				var uid int64
				var p planValues
				_, err := pgx.ForEachRow(rows, []any{&uid, &p.Operation, &p.Currency, &p.Percent, &p.FixedFee, &p.MinFee, &p.MaxFee}, func() error {
					if st.plans[uid] == nil {
						st.plans[uid] = map[string]*planValues{}
					}
					cp := p
					cp.MinFee, cp.MaxFee = clonePtr(p.MinFee), clonePtr(p.MaxFee)
					st.plans[uid]["commission_plan:"+p.Operation+":"+p.Currency] = &cp
					return nil
				})
				return err
			},
		})
	}
	if st.needs["blacklisted_tokens"] {
		var toks []int64
		for _, u := range st.users {
			for _, f := range u.fields {
				if f.name == "blacklisted_tokens" {
					toks = append(toks, tokenIDs(f.before)...)
					toks = append(toks, tokenIDs(f.after)...)
				}
			}
		}
		out = append(out, followUp{
			sql: func(_ func(string) string, arg func(any) string) string {
				return `SELECT o.id, b.id IS NOT NULL, o.expires_at <= now() FROM token_blacklist_outstandingtoken o
LEFT JOIN token_blacklist_blacklistedtoken b ON b.token_id = o.id WHERE o.id = ANY(` + arg(toks) + `)`
			},
			read: func(rows pgx.Rows) error {
				var id int64
				var s tokenState
				_, err := pgx.ForEachRow(rows, []any{&id, &s.blacklisted, &s.expired}, func() error { st.tokens[id] = s; return nil })
				return err
			},
		})
	}
	if st.needs["revoke"] {
		out = append(out, st.rv.read())
	}
	if st.needs["email"] {
		out = append(out, st.emailHolders())
	}
	return out
}

// emailHolders reads, for each email the run replaced (as logged), its
// lower-case form and who holds it now, both by the server's lower(), as
// the unique index compares them: giving an address back while another
// user keeps it would fail on that index.
func (st *undoState) emailHolders() followUp {
	st.emails = map[string]emailNow{}
	var emails []string
	for _, u := range st.users {
		for _, f := range u.fields {
			if s, ok := jsonValue(f.before).(string); ok && f.name == "email" {
				emails = append(emails, s)
			}
		}
	}
	return followUp{
		sql: func(_ func(string) string, arg func(any) string) string {
			return `SELECT e, lower(e), coalesce(u.id, 0) FROM unnest(` + arg(emails) + `::text[]) AS e
LEFT JOIN rbac_user u ON lower(u.email) = lower(e)`
		},
		read: func(rows pgx.Rows) error {
			var email string
			var now emailNow
			_, err := pgx.ForEachRow(rows, []any{&email, &now.lower, &now.holder}, func() error { st.emails[email] = now; return nil })
			return err
		},
	}
}

// emailNow is an address as the unique index sees it, and its holder (0:
// nobody).
type emailNow struct {
	lower  string
	holder int64
}

func tokenIDs(raw json.RawMessage) []int64 {
	var ids []int64
	_ = json.Unmarshal(raw, &ids)
	return ids
}
