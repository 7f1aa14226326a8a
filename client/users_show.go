package client

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/b2badmin/b2badmin/client/catalog"
)

// The sections of `users show`, in the order of the back office's tabs.
const (
	SectionInfo        = "info"
	SectionTwoFactor   = "two_factor"
	SectionAdditional  = "additional"
	SectionSessions    = "sessions"
	SectionTokens      = "tokens"
	SectionCommissions = "commissions"
)

// UserSections lists every section.
var UserSections = []string{SectionInfo, SectionTwoFactor, SectionAdditional, SectionSessions, SectionTokens, SectionCommissions}

// UserDetails is the user details page. A section left out of the request
// is nil and absent from JSON; a requested list is [] when empty. Each
// tab is the very read, and the very shape, of the command that shows it
// alone: two_factor is `2fa status`, sessions `users sessions`, tokens
// `users tokens`, commissions `commissions show`. This struct's JSON is a
// documented contract (docs/output.md).
type UserDetails struct {
	ID          int64              `json:"id"`
	Email       string             `json:"email"`
	Info        *UserInfo          `json:"info,omitempty"`
	TwoFactor   *TwoFAStatus       `json:"two_factor,omitempty"`
	Additional  *UserAdditional    `json:"additional,omitempty"`
	Sessions    *[]AuthSession     `json:"sessions,omitempty"`
	Tokens      *[]SentToken       `json:"tokens,omitempty"`
	Commissions *CommissionSummary `json:"commissions,omitempty"`
}

// UserInfo is the Info tab.
type UserInfo struct {
	Email            string            `json:"email"`
	FirstName        string            `json:"first_name"`
	LastName         string            `json:"last_name"`
	Phone            string            `json:"phone"`
	IPWhiteList      []string          `json:"ip_white_list"`
	ExtraPermissions []PermissionRef   `json:"extra_permissions"`
	Language         string            `json:"language"`
	IsActive         bool              `json:"is_active"`
	Groups           []GroupMembership `json:"groups"`
	// GroupRuleViolations: the group rules this user's groups break (a state
	// the web side or psql can create; `groups audit` lists every such user).
	GroupRuleViolations []catalog.Violation `json:"group_rule_violations"`
}

// PermissionRef is one extra permission: identifier and the seed's label.
type PermissionRef struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// GroupMembership is one of the ten groups and whether the user is in it.
type GroupMembership struct {
	Name   string `json:"name"`
	Member bool   `json:"member"`
}

// UserAdditional is the Additional tab's Info section.
type UserAdditional struct {
	ID                    int64      `json:"id"`
	TwoFactor             bool       `json:"two_factor"`
	UUID                  string     `json:"uuid"`
	LastLogin             *time.Time `json:"last_login"`
	PasswordUsable        bool       `json:"password_usable"`
	IsCompanyOwner        bool       `json:"is_company_owner"`
	Company               *string    `json:"company"`
	CompanyID             *int64     `json:"company_id"`
	Type                  string     `json:"type"`
	DateJoined            time.Time  `json:"date_joined"`
	Wallets               []Wallet   `json:"wallets"`
	Phone                 string     `json:"phone"`
	LastName              string     `json:"last_name"`
	FirstName             string     `json:"first_name"`
	CommunicationLanguage string     `json:"communication_language"`
	Email                 string     `json:"email"`
}

// Wallet is one wallet the user owns.
type Wallet struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Currency  string    `json:"currency"`
	Kind      string    `json:"kind"`
	Address   string    `json:"address"`
	CreatedAt time.Time `json:"created_at"`
}

// ShowOptions choose what ShowUser reads.
type ShowOptions struct {
	Sections []string // empty = all
	Reveal   bool     // print sent tokens in full
	Limit    int      // sessions and tokens shown (default 20)
	Now      time.Time
}

// ShowUser reads the user details page of ref (ID, email or UUID).
func (c *Client) ShowUser(ctx context.Context, ref string, o ShowOptions) (*UserDetails, error) {
	u, err := c.ResolveUsers(ctx, []string{ref})
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range o.Sections {
		want[s] = true
	}
	all := len(want) == 0
	if o.Limit <= 0 {
		o.Limit = 20
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	d := &UserDetails{ID: u[0].ID, Email: u[0].Email}
	id := u[0].ID
	if all || want[SectionInfo] || want[SectionAdditional] {
		if err := c.showMain(ctx, id, d, all || want[SectionInfo], all || want[SectionAdditional]); err != nil {
			return nil, err
		}
	}
	if all || want[SectionTwoFactor] {
		st, err := c.TwoFAStatuses(ctx, u)
		if err != nil {
			return nil, err
		}
		d.TwoFactor = &st[0]
	}
	latest := ActivityFilter{Limit: o.Limit, Reveal: o.Reveal}
	if all || want[SectionSessions] {
		s := []AuthSession{}
		if err := c.AuthLog(ctx, id, latest, func(e AuthSession) error { s = append(s, e); return nil }); err != nil {
			return nil, err
		}
		d.Sessions = &s
	}
	if all || want[SectionTokens] {
		t := []SentToken{}
		if err := c.SentTokens(ctx, id, latest, func(e SentToken) error { t = append(t, e); return nil }); err != nil {
			return nil, err
		}
		d.Tokens = &t
	}
	if all || want[SectionCommissions] {
		cs, err := c.CommissionSummary(ctx, u[0], o.Now)
		if err != nil {
			return nil, err
		}
		d.Commissions = &cs
	}
	return d, nil
}

// showMain reads the user row once for info, additional and the company
// of the commissions section. The password column is only compared in SQL:
// the hash never leaves the database.
func (c *Client) showMain(ctx context.Context, id int64, d *UserDetails, info, additional bool) error {
	const q = `
SELECT u.email, u.first_name, u.last_name, u.phone, u.ip_white_list, u.language, u.communication_language,
       u.is_active, u.uuid::text, u.last_login, (u.password <> '' AND left(u.password, 1) <> '!'),
       u.is_company_owner, c.name, u.company_id, u.type, u.date_joined,
       ARRAY(SELECT g.name FROM rbac_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = u.id),
       ARRAY(SELECT ct.app_label || '.' || p.codename FROM rbac_user_user_permissions up
             JOIN auth_permission p ON p.id = up.permission_id
             JOIN django_content_type ct ON ct.id = p.content_type_id
             WHERE up.user_id = u.id ORDER BY 1),
       EXISTS (SELECT 1 FROM otp_totp_totpdevice t WHERE t.user_id = u.id AND t.confirmed)
         OR EXISTS (SELECT 1 FROM otp_email_emaildevice e WHERE e.user_id = u.id AND e.confirmed)
FROM rbac_user u LEFT JOIN rbac_company c ON c.id = u.company_id
WHERE u.id = $1`
	var in UserInfo
	var ad UserAdditional
	var ips string
	var groups, perms []string
	err := c.db.QueryRow(ctx, q, id).Scan(&in.Email, &in.FirstName, &in.LastName, &in.Phone, &ips, &in.Language,
		&ad.CommunicationLanguage, &in.IsActive, &ad.UUID, &ad.LastLogin, &ad.PasswordUsable, &ad.IsCompanyOwner,
		&ad.Company, &ad.CompanyID, &ad.Type, &ad.DateJoined, &groups, &perms, &ad.TwoFactor)
	if errors.Is(err, pgx.ErrNoRows) {
		return NotFound("user %d", id)
	}
	if err != nil {
		return err
	}
	in.IPWhiteList = []string{}
	for _, ip := range strings.Split(ips, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			in.IPWhiteList = append(in.IPWhiteList, ip)
		}
	}
	labels := map[string]string{}
	for _, p := range catalog.Permissions() {
		labels[p.ID()] = p.Label
	}
	in.ExtraPermissions = []PermissionRef{}
	for _, p := range perms {
		l := labels[p]
		if l == "" {
			l = p
		}
		in.ExtraPermissions = append(in.ExtraPermissions, PermissionRef{ID: p, Label: l})
	}
	member := map[string]bool{}
	for _, g := range groups {
		member[g] = true
	}
	for _, g := range catalog.Groups() {
		in.Groups = append(in.Groups, GroupMembership{Name: g.Name, Member: member[g.Name]})
	}
	in.GroupRuleViolations = catalog.CheckGroups(ad.Type, ad.CompanyID != nil, groups)
	if in.GroupRuleViolations == nil {
		in.GroupRuleViolations = []catalog.Violation{}
	}
	if info {
		d.Info = &in
	}
	if additional {
		ad.ID, ad.Email, ad.FirstName, ad.LastName, ad.Phone = id, in.Email, in.FirstName, in.LastName, in.Phone
		ad.LastLogin, ad.DateJoined = utcPtr(ad.LastLogin), utc(ad.DateJoined)
		if ad.Wallets, err = c.showWallets(ctx, id); err != nil {
			return err
		}
		d.Additional = &ad
	}
	return nil
}

// utc is a time as the JSON contract shows it: UTC, whole seconds.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}
