package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// NotAllowed is the rule behind a grant that no allow of the user's groups
// or type covers (and no deny names).
const NotAllowed = "not-allowed"

// denyID is a deny rule's stable identifier in reports: SARIF's ruleId,
// and what a baseline's rule text maps back to.
func denyID(glob string) string { return "deny:" + glob }

// Verdict is why a grant is a finding: the rule that decided, in words,
// and the line of the file a reader should look at.
type Verdict struct {
	RuleID string // "deny:<pattern>" or NotAllowed
	Text   string // `deny "auth.*"`, or `not allowed for groups [API] / type merchant`
	Line   int
}

// Check judges catalog entry i held by a user in groups (canonical names)
// of type typ. It returns nil when the grant is allowed. Exceptions are
// the caller's business: they excuse a finding, they do not change it.
func (p *Policy) Check(i int, groups []string, typ string) *Verdict {
	if r := p.DenyRule(i); r != nil {
		return &Verdict{RuleID: denyID(r.Glob), Text: fmt.Sprintf("deny %q", r.Glob), Line: r.Line}
	}
	if p.Allowed(i, groups, typ) {
		return nil
	}
	return &Verdict{RuleID: NotAllowed, Line: p.AllowLine(groups, typ),
		Text: fmt.Sprintf("not allowed for groups [%s] / type %s", strings.Join(groups, ", "), typ)}
}

// AllowLine is where a grant no allow covers is decided: the allow block of
// the user's first group that the file lists, else that of the user's type,
// else the groups: or types: key (where such a block would go), else line 1.
func (p *Policy) AllowLine(groups []string, typ string) int {
	for _, g := range groups {
		if l := p.GroupLines[g]; l > 0 {
			return l
		}
	}
	for _, l := range []int{p.TypeLines[typ], p.GroupsLine, p.TypesLine} {
		if l > 0 {
			return l
		}
	}
	return 1
}

// RuleID maps the rule text of a finding (as a report writes it, e.g. in a
// baseline) back to its identifier.
func RuleID(text string) string {
	if g, ok := strings.CutPrefix(text, "deny "); ok {
		if u, err := strconv.Unquote(g); err == nil {
			g = u
		}
		return denyID(g)
	}
	return NotAllowed
}

// RuleInfo is one rule that can decide a finding, for reports that list
// their rules (SARIF).
type RuleInfo struct {
	ID   string
	Text string
	Line int // 0 when the rule is not one line of the file
}

// Rules lists the rules that can decide a finding: every deny pattern (a
// repeated one once: the first decides), then NotAllowed.
func (p *Policy) Rules() []RuleInfo {
	var out []RuleInfo
	seen := map[string]bool{}
	for _, r := range p.Deny {
		if id := denyID(r.Glob); !seen[id] {
			seen[id] = true
			out = append(out, RuleInfo{ID: id, Line: r.Line, Text: fmt.Sprintf("Nobody may hold an extra permission matching %q", r.Glob)})
		}
	}
	return append(out, RuleInfo{ID: NotAllowed, Text: "An extra permission must be allowed by one of the user's groups or by the user's type"})
}
