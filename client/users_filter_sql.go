package client

import (
	"strconv"
	"strings"
)

// sqlBuilder numbers parameters; values never enter the SQL text.
type sqlBuilder struct {
	args  []any
	conds int
	page  bool // the query reads one page (LIMIT): per-row probes beat whole-table reads
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *sqlBuilder) and(cond string) string {
	b.conds++
	if b.conds == 1 {
		return "\nWHERE " + cond
	}
	return "\n  AND " + cond
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// contains is an ILIKE pattern matching s anywhere, with the user's %, _
// and \ taken literally.
func contains(s string) string { return "%" + likeEscaper.Replace(s) + "%" }

func (b *sqlBuilder) userWhere(f UserFilter) string {
	var w string
	for _, c := range b.userConds(f) {
		w += b.and(c)
	}
	return w
}

// needsCompanyJoin reports whether the filter reads the company's name
// (rbac_company c must then be joined).
func (f *UserFilter) needsCompanyJoin() bool { return f.CompanyID == nil && f.Company != "" }

// userConds are the filter's conditions over rbac_user u (and rbac_company
// c when needsCompanyJoin), to be combined with AND.
func (b *sqlBuilder) userConds(f UserFilter) []string {
	var w []string
	if len(f.IDs) > 0 {
		w = append(w, "u.id = ANY("+b.arg(f.IDs)+")")
	}
	if f.Email != "" {
		w = append(w, `u.email ILIKE `+b.arg(contains(f.Email))+` ESCAPE '\'`)
	}
	if f.FirstName != "" {
		w = append(w, `u.first_name ILIKE `+b.arg(contains(f.FirstName))+` ESCAPE '\'`)
	}
	if f.LastName != "" {
		w = append(w, `u.last_name ILIKE `+b.arg(contains(f.LastName))+` ESCAPE '\'`)
	}
	if len(f.Groups) > 0 {
		lower := make([]string, len(f.Groups))
		for i, g := range f.Groups {
			lower[i] = strings.ToLower(g)
		}
		// The group IDs become one array (an InitPlan), so the membership
		// index is read as an ordered semi-join beside the users' primary key.
		w = append(w, `u.id IN (SELECT ug.user_id FROM rbac_user_groups ug
        WHERE ug.group_id = ANY(ARRAY(SELECT id FROM auth_group WHERE lower(name) = ANY(`+b.arg(lower)+`))))`)
	}
	if f.JoinedFrom != nil {
		w = append(w, "u.date_joined >= "+b.arg(*f.JoinedFrom))
	}
	if f.JoinedBefore != nil {
		w = append(w, "u.date_joined < "+b.arg(*f.JoinedBefore))
	}
	if f.CompanyID != nil {
		w = append(w, "u.company_id = "+b.arg(*f.CompanyID))
	} else if f.Company != "" {
		w = append(w, `c.name ILIKE `+b.arg(contains(f.Company))+` ESCAPE '\'`)
	}
	if f.Active != nil {
		w = append(w, "u.is_active = "+b.arg(*f.Active))
	}
	if f.Type != "" {
		w = append(w, "u.type = "+b.arg(f.Type))
	}
	// NULL (never logged in) is neither before nor after any time.
	if f.LastLoginBefore != nil {
		w = append(w, "u.last_login < "+b.arg(*f.LastLoginBefore))
	}
	if f.LastLoginAfter != nil {
		w = append(w, "u.last_login >= "+b.arg(*f.LastLoginAfter))
	}
	if f.NeverLoggedIn {
		w = append(w, "u.last_login IS NULL")
	}
	if f.TwoFA != nil {
		// A page probes the device indexes for its few rows (twoFAPageSQL);
		// a whole scan reads the device tables once (a hashed semi-join).
		has := `u.id IN (SELECT d.user_id FROM otp_totp_totpdevice d WHERE d.confirmed
        UNION ALL SELECT d.user_id FROM otp_email_emaildevice d WHERE d.confirmed)`
		if b.page {
			has = twoFAPageSQL
		}
		if !*f.TwoFA {
			has = "NOT " + has
		}
		w = append(w, has)
	}
	if len(f.Perms) > 0 {
		// The identifiers become permission ids once (an InitPlan), so the
		// grants are read through their permission_id index.
		w = append(w, `u.id IN (SELECT up.user_id FROM rbac_user_user_permissions up
        WHERE up.permission_id = ANY(ARRAY(SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
                                           WHERE ct.app_label || '.' || p.codename = ANY(`+b.arg(f.Perms)+`))))`)
	}
	if f.NoPerms {
		w = append(w, `NOT EXISTS (SELECT 1 FROM rbac_user_user_permissions up WHERE up.user_id = u.id)`)
	}
	if f.NoGroup {
		w = append(w, `NOT EXISTS (SELECT 1 FROM rbac_user_groups ug WHERE ug.user_id = u.id)`)
	}
	if len(f.NotGroups) > 0 {
		w = append(w, `NOT EXISTS (SELECT 1 FROM rbac_user_groups ug
        WHERE ug.user_id = u.id AND ug.group_id = ANY(ARRAY(SELECT id FROM auth_group WHERE lower(name) = ANY(`+b.arg(lowerAll(f.NotGroups))+`))))`)
	}
	if len(f.AllGroups) > 0 {
		names := lowerAll(f.AllGroups)
		w = append(w, `(SELECT count(*) FROM rbac_user_groups ug
        WHERE ug.user_id = u.id AND ug.group_id = ANY(ARRAY(SELECT id FROM auth_group WHERE lower(name) = ANY(`+b.arg(names)+`)))) = `+b.arg(int64(len(names))))
	}
	if f.CompanyOwner != nil {
		w = append(w, "u.is_company_owner = "+b.arg(*f.CompanyOwner))
	}
	if f.Language != "" {
		w = append(w, "u.language = "+b.arg(f.Language))
	}
	if f.Staff {
		w = append(w, "u.is_staff")
	}
	if f.Superuser {
		w = append(w, "u.is_superuser")
	}
	if f.EmailDomain != "" {
		w = append(w, `lower(u.email) LIKE `+b.arg("%@"+likeEscaper.Replace(strings.ToLower(f.EmailDomain)))+` ESCAPE '\'`)
	}
	return w
}

// lowerAll lower-cases names (deduplicated, in order).
func lowerAll(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		l := strings.ToLower(n)
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
