package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// The group rules of SPEC §2 by stable identifier: changes that would break
// one are refused, and `groups audit` reports users whose data (written by
// the web back office or a psql session) already breaks one. The
// identifiers are what reports carry (SARIF ruleId, a baseline's rule
// column), so they never change.
const (
	RuleOneRoleGroup  = "one-role-group"
	RuleRoleGroupType = "role-group-type"
	RuleAPICompany    = "api-needs-company"
)

// GroupRule is one rule over a user's groups.
type GroupRule struct {
	ID   string
	Text string
}

var groupRules = []GroupRule{
	{RuleOneRoleGroup, "A user holds at most one role group (Enterprise owner/staff, Legal merchant owner/staff, Merchant owner/staff)"},
	{RuleRoleGroupType, "Enterprise owner/staff need a user of type enterprise; (Legal) merchant owner/staff need type merchant"},
	{RuleAPICompany, "A user in API is linked to a company"},
}

// GroupRules lists the rules in a fixed order.
func GroupRules() []GroupRule { return groupRules }

// Violation is one rule a user's groups break, with the groups involved
// (in the seed's order) and a sentence saying how.
type Violation struct {
	Rule    string   `json:"rule"`
	Groups  []string `json:"groups"`
	Message string   `json:"message"`
}

// CheckGroups returns the rules broken by a user of type typ, linked to a
// company or not, holding the groups names (canonical, any order; names the
// catalog does not know are ignored). It returns nil when none is broken,
// without allocating: `groups audit` calls it once per user.
func CheckGroups(typ string, hasCompany bool, names []string) []Violation {
	var roles, wrongType int
	var api bool
	var seen uint64 // by seed position: a name given twice counts once
	for _, name := range names {
		i, ok := groupIndex(name)
		if !ok || seen&(1<<i) != 0 {
			continue
		}
		seen |= 1 << i
		g := &groups[i]
		if g.Role {
			roles++
		}
		if g.RequiredType != "" && g.RequiredType != typ {
			wrongType++
		}
		api = api || g.NeedsCompany
	}
	if roles < 2 && wrongType == 0 && (!api || hasCompany) {
		return nil
	}
	var out []Violation
	ordered := InSeedOrder(names)
	if roles > 1 {
		var rs []string
		for _, n := range ordered {
			if g, _ := groupOf(n); g.Role {
				rs = append(rs, n)
			}
		}
		out = append(out, Violation{Rule: RuleOneRoleGroup, Groups: rs,
			Message: fmt.Sprintf("holds %d role groups (%s); at most one is allowed", len(rs), strings.Join(rs, ", "))})
	}
	if wrongType > 0 {
		var gs, needs []string
		for _, n := range ordered {
			if g, _ := groupOf(n); g.RequiredType != "" && g.RequiredType != typ {
				gs = append(gs, n)
				needs = append(needs, fmt.Sprintf("%s needs type %s", n, g.RequiredType))
			}
		}
		out = append(out, Violation{Rule: RuleRoleGroupType, Groups: gs,
			Message: fmt.Sprintf("is of type %s, but %s", typ, strings.Join(needs, ", "))})
	}
	if api && !hasCompany {
		out = append(out, Violation{Rule: RuleAPICompany, Groups: []string{GroupAPI},
			Message: "is in API but linked to no company"})
	}
	return out
}

// groupRank is each group's position in the seed's order, by canonical name.
var groupRank = func() map[string]int {
	m := make(map[string]int, len(groups))
	for i, g := range groups {
		m[g.Name] = i
	}
	return m
}()

// groupIndex finds a group's seed position by its canonical name (one map
// lookup: the common case, names read from auth_group), else
// case-insensitively.
func groupIndex(name string) (int, bool) {
	if i, ok := groupRank[name]; ok {
		return i, true
	}
	for i, g := range groups {
		if strings.EqualFold(g.Name, strings.TrimSpace(name)) {
			return i, true
		}
	}
	return 0, false
}

func groupOf(name string) (Group, bool) {
	i, ok := groupIndex(name)
	return groups[i], ok
}

// InSeedOrder returns the canonical names of the known groups among names,
// without duplicates, in the seed's order (how the back office lists them).
func InSeedOrder(names []string) []string {
	out := make([]string, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		if g, ok := groupOf(n); ok && !seen[g.Name] {
			seen[g.Name] = true
			out = append(out, g.Name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return groupRank[out[i]] < groupRank[out[j]] })
	return out
}
