package commands

import (
	"strings"

	"github.com/b2badmin/b2badmin/client"
	"github.com/b2badmin/b2badmin/output"
)

// detailBlock is one section of `users show` as people read it: labelled
// fields and lists. The same blocks feed the table and CSV/TSV renderers;
// JSON encodes client.UserDetails directly.
type detailBlock struct {
	key, title string
	pairs      []detailPair
	lists      []detailList
}

type detailPair struct {
	k, label string
	v        any
}

type detailList struct {
	key, title string
	cols       output.Columns
	rows       [][]any
}

func cols(pairs ...string) output.Columns {
	var out output.Columns
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, output.Column{Key: pairs[i], Header: pairs[i+1], Default: true})
	}
	return out
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func detailBlocks(d *client.UserDetails) []detailBlock {
	var out []detailBlock
	if in := d.Info; in != nil {
		perms := make([][]any, len(in.ExtraPermissions))
		for i, p := range in.ExtraPermissions {
			perms[i] = []any{p.ID, p.Label}
		}
		groups := make([][]any, len(in.Groups))
		for i, g := range in.Groups {
			groups[i] = []any{g.Name, g.Member}
		}
		pairs := []detailPair{
			{"id", "ID", d.ID}, {"email", "Email", in.Email}, {"first_name", "First name", in.FirstName},
			{"last_name", "Last name", in.LastName}, {"phone", "Phone", in.Phone},
			{"ip_white_list", "IP white list", in.IPWhiteList}, {"language", "Preferred language", in.Language},
			{"is_active", "Active", in.IsActive},
		}
		// Only a user whose groups break a rule gets the line: it is a flag.
		if len(in.GroupRuleViolations) > 0 {
			var problems []string
			for _, v := range in.GroupRuleViolations {
				problems = append(problems, v.Message+" ("+v.Rule+")")
			}
			pairs = append(pairs, detailPair{"group_rule_violations", "Group rules", "BROKEN: " + strings.Join(problems, "; ")})
		}
		out = append(out, detailBlock{key: client.SectionInfo, title: "Info", pairs: pairs, lists: []detailList{
			{key: "groups", title: "User groups", cols: cols("name", "Group", "member", "Member"), rows: groups},
			{key: "extra_permissions", title: "Extra permissions", cols: cols("id", "Identifier", "label", "Permission"), rows: perms},
		}})
	}
	if t := d.TwoFactor; t != nil {
		devs := make([][]any, len(t.Devices))
		for i, v := range t.Devices {
			devs[i] = []any{v.ID, v.Kind, v.Name, v.Confirmed, deref(v.Email), v.CreatedAt, v.LastUsedAt}
		}
		out = append(out, detailBlock{key: client.SectionTwoFactor, title: "2FA", pairs: []detailPair{{"enabled", "2FA enabled", t.Enabled},
			{"last_used_at", "Last used at", deref(t.LastUsedAt)}},
			lists: []detailList{{key: "devices", title: "Devices", rows: devs, cols: cols("id", "ID", "kind", "Kind", "name", "Name",
				"confirmed", "Confirmed", "email", "Email", "created_at", "Created at", "last_used_at", "Last used at")}}})
	}
	if a := d.Additional; a != nil {
		ws := make([][]any, len(a.Wallets))
		for i, w := range a.Wallets {
			ws[i] = []any{w.ID, w.Name, w.Currency, w.Kind, w.Address, w.CreatedAt}
		}
		out = append(out, detailBlock{key: client.SectionAdditional, title: "Additional", pairs: []detailPair{
			{"id", "Identifier", a.ID}, {"two_factor", "2FA", a.TwoFactor}, {"uuid", "UUID", a.UUID}, {"last_login", "Last login", a.LastLogin},
			{"password_usable", "Password usable", a.PasswordUsable}, {"is_company_owner", "Company owner", a.IsCompanyOwner},
			{"company", "Company", deref(a.Company)}, {"company_id", "Company ID", deref(a.CompanyID)}, {"type", "Type", a.Type},
			{"date_joined", "Joined at", a.DateJoined}, {"phone", "Phone number", a.Phone}, {"last_name", "Last name", a.LastName},
			{"first_name", "First name", a.FirstName}, {"communication_language", "Communication language", a.CommunicationLanguage},
			{"email", "Email", a.Email},
		}, lists: []detailList{{key: "wallets", title: "Wallets", rows: ws, cols: cols("id", "ID", "name", "Name",
			"currency", "Currency", "kind", "Kind", "address", "Address", "created_at", "Created at")}}})
	}
	if d.Sessions != nil {
		rows := make([][]any, len(*d.Sessions))
		for i, s := range *d.Sessions {
			rows[i] = sessionRow(s)
		}
		out = append(out, detailBlock{key: client.SectionSessions, title: "API sessions list", lists: []detailList{{key: "sessions",
			title: "Latest sessions", rows: rows, cols: sessionColumns.All()}}})
	}
	if d.Tokens != nil {
		rows := make([][]any, len(*d.Tokens))
		for i, t := range *d.Tokens {
			rows[i] = tokenRow(t)
		}
		out = append(out, detailBlock{key: client.SectionTokens, title: "List of sent tokens", lists: []detailList{{key: "tokens",
			title: "Latest tokens", rows: rows, cols: tokenColumns.All()}}})
	}
	if c := d.Commissions; c != nil {
		rows := make([][]any, len(c.Plans))
		for i, p := range c.Plans {
			rows[i] = []any{p.ID, p.Operation, p.Currency, p.Percent, p.FixedFee, deref(p.MinFee), deref(p.MaxFee), p.UpdatedAt}
		}
		turnover := func(t *client.Turnover) any {
			if t == nil {
				return nil
			}
			return t.AmountUSD
		}
		out = append(out, detailBlock{key: client.SectionCommissions, title: "Commissions", pairs: []detailPair{
			{"company", "Company", deref(c.Company)},
			{"current_month_turnover", "Company current turnover (USD, this month)", turnover(c.CurrentTurnover)},
			{"last_month_turnover", "Company last month turnover (USD)", turnover(c.LastTurnover)},
		}, lists: []detailList{{key: "plans", title: "Personal commission plans", rows: rows, cols: cols("id", "ID", "operation", "Operation",
			"currency", "Currency", "percent", "Percent", "fixed_fee", "Fixed fee", "min_fee", "Min fee", "max_fee", "Max fee", "updated_at", "Updated at")}}})
	}
	return out
}
