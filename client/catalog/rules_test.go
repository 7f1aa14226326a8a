package catalog

import (
	"reflect"
	"testing"
)

func TestCheckGroups(t *testing.T) {
	cases := []struct {
		name       string
		typ        string
		hasCompany bool
		groups     []string
		want       []Violation
	}{
		{"clean owner", TypeMerchant, false, []string{GroupMerchantOwner, GroupKYCNotVerified}, nil},
		{"status groups combine freely", TypeEnterprise, false, []string{GroupEmailNotVerified, GroupPhoneNotVerified, GroupKYCNotVerified}, nil},
		{"API with a company", TypeEnterprise, true, []string{GroupAPI, GroupEnterpriseOwner}, nil},
		{"no groups", TypeMerchant, false, nil, nil},
		{"two role groups", TypeMerchant, true, []string{GroupMerchantStaff, GroupMerchantOwner}, []Violation{
			{RuleOneRoleGroup, []string{GroupMerchantOwner, GroupMerchantStaff}, "holds 2 role groups (Merchant owner, Merchant staff); at most one is allowed"}}},
		{"enterprise group on a merchant", TypeMerchant, false, []string{GroupEnterpriseOwner}, []Violation{
			{RuleRoleGroupType, []string{GroupEnterpriseOwner}, "is of type merchant, but Enterprise owner needs type enterprise"}}},
		{"legal merchant group on an enterprise", TypeEnterprise, false, []string{GroupLegalMerchantStaff}, []Violation{
			{RuleRoleGroupType, []string{GroupLegalMerchantStaff}, "is of type enterprise, but Legal merchant staff needs type merchant"}}},
		{"API without a company", TypeMerchant, false, []string{GroupAPI}, []Violation{
			{RuleAPICompany, []string{GroupAPI}, "is in API but linked to no company"}}},
		{"all three, names in any case and repeated", TypeMerchant, false, []string{"api", GroupMerchantOwner, "enterprise STAFF", GroupMerchantOwner}, []Violation{
			{RuleOneRoleGroup, []string{GroupEnterpriseStaff, GroupMerchantOwner}, "holds 2 role groups (Enterprise staff, Merchant owner); at most one is allowed"},
			{RuleRoleGroupType, []string{GroupEnterpriseStaff}, "is of type merchant, but Enterprise staff needs type enterprise"},
			{RuleAPICompany, []string{GroupAPI}, "is in API but linked to no company"}}},
		{"unknown names are ignored", TypeMerchant, false, []string{"Merchant", GroupMerchantOwner}, nil},
	}
	for _, c := range cases {
		if got := CheckGroups(c.typ, c.hasCompany, c.groups); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.name, got, c.want)
		}
	}
	ids := map[string]bool{}
	for _, r := range GroupRules() {
		ids[r.ID] = true
	}
	if len(ids) != 3 || !ids[RuleOneRoleGroup] || !ids[RuleRoleGroupType] || !ids[RuleAPICompany] {
		t.Fatalf("GroupRules: %v", GroupRules())
	}
}

func BenchmarkCheckGroupsClean(b *testing.B) {
	gs := []string{GroupMerchantOwner, GroupAPI, GroupKYCNotVerified}
	b.ReportAllocs()
	for b.Loop() {
		CheckGroups(TypeMerchant, true, gs)
	}
}
