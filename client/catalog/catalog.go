// Package catalog is the reference data b2badmin owns: the ten user groups
// and the 401 extra permissions of the back office's Users page. It needs no
// database, so completion and validation can use it offline.
package catalog

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/b2badmin/b2badmin/internal/suggest"
)

// permissionsTSV lists one permission per line, in the seed list's order:
// app_label, model, codename, label (the exact text the Users page shows).
//
//go:embed permissions.tsv
var permissionsTSV string

// Permission is one grantable extra permission.
type Permission struct {
	AppLabel string `json:"app_label"`
	Model    string `json:"model"`
	Codename string `json:"codename"`
	Label    string `json:"label"`
}

// ID is the stable Django-style identifier, app_label.codename.
func (p Permission) ID() string { return p.AppLabel + "." + p.Codename }

// Name is the permission's own name, the last part of its label.
func (p Permission) Name() string { return p.Label[strings.LastIndex(p.Label, " | ")+3:] }

// Stale reports a content type whose model class no longer exists: Django
// then shows only "<model> | <name>", as on ten models of the seed list.
func (p Permission) Stale() bool { return strings.Count(p.Label, " | ") == 1 }

var permissions = mustParse(permissionsTSV)

// Permissions returns the catalog in the seed's order. Callers must not modify it.
func Permissions() []Permission { return permissions }

func mustParse(text string) []Permission {
	var out []Permission
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			panic(fmt.Sprintf("catalog: permissions.tsv line %d: want 4 fields, got %d", i+1, len(f)))
		}
		out = append(out, Permission{AppLabel: f[0], Model: f[1], Codename: f[2], Label: f[3]})
	}
	return out
}

// Group names of the back office, in the seed's order.
const (
	GroupAPI                = "API"
	GroupEmailNotVerified   = "Email not verified"
	GroupEnterpriseOwner    = "Enterprise owner"
	GroupEnterpriseStaff    = "Enterprise staff"
	GroupKYCNotVerified     = "KYC not verified"
	GroupLegalMerchantOwner = "Legal merchant owner"
	GroupLegalMerchantStaff = "Legal merchant staff"
	GroupMerchantOwner      = "Merchant owner"
	GroupMerchantStaff      = "Merchant staff"
	GroupPhoneNotVerified   = "Phone not verified"
)

// User types.
const (
	TypeEnterprise = "enterprise"
	TypeMerchant   = "merchant"
)

// Types lists the user types.
var Types = []string{TypeEnterprise, TypeMerchant}

// Group is one user group and the rules attached to it.
type Group struct {
	Name string
	// Role groups are mutually exclusive: a user holds at most one.
	Role bool
	// RequiredType is the user type a role group needs ("" = any).
	RequiredType string
	// NeedsCompany: the seed says API users "should be linked to a company".
	NeedsCompany bool
}

// Status reports a status group (Email/Phone/KYC not verified): where a
// user stands in verification, not what the user may do.
func (g Group) Status() bool { return !g.Role && !g.NeedsCompany }

var groups = []Group{
	{Name: GroupAPI, NeedsCompany: true},
	{Name: GroupEmailNotVerified},
	{Name: GroupEnterpriseOwner, Role: true, RequiredType: TypeEnterprise},
	{Name: GroupEnterpriseStaff, Role: true, RequiredType: TypeEnterprise},
	{Name: GroupKYCNotVerified},
	{Name: GroupLegalMerchantOwner, Role: true, RequiredType: TypeMerchant},
	{Name: GroupLegalMerchantStaff, Role: true, RequiredType: TypeMerchant},
	{Name: GroupMerchantOwner, Role: true, RequiredType: TypeMerchant},
	{Name: GroupMerchantStaff, Role: true, RequiredType: TypeMerchant},
	{Name: GroupPhoneNotVerified},
}

// Groups returns the ten groups in the seed's order.
func Groups() []Group { return groups }

// LookupGroup finds a group by name, case-insensitively.
func LookupGroup(name string) (Group, bool) {
	for _, g := range groups {
		if strings.EqualFold(g.Name, strings.TrimSpace(name)) {
			return g, true
		}
	}
	return Group{}, false
}

// UnknownGroup is the one message for a name that is no group, wherever
// a group is named (arguments, filters, the batch pre-check): the closest
// groups when the name looks like a typo, else every group.
func UnknownGroup(name string) string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	if len(name) > 80 {
		name = name[:77] + "..."
	}
	name = strings.ToValidUTF8(name, "?")
	if s := suggest.Phrase(name, names, func(s string) string { return fmt.Sprintf("%q", s) }); s != "" {
		return fmt.Sprintf("unknown group %q%s", name, s)
	}
	return fmt.Sprintf("unknown group %q (groups: %s)", name, strings.Join(names, ", "))
}

// Languages the back office's UI and messages support (ISO 639-1).
var Languages = []string{"en", "de", "es", "fr", "it", "ja", "ko", "pt", "ru", "tr", "uk", "zh"}

// ValidLanguage reports whether code is a supported language.
func ValidLanguage(code string) bool {
	for _, l := range Languages {
		if l == code {
			return true
		}
	}
	return false
}
