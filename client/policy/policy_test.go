package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

func idx(t *testing.T, id string) int {
	t.Helper()
	i, err := permref.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestExamplePolicyParses(t *testing.T) {
	for _, f := range []string{"../../examples/policy.yaml", "../../examples/policy-clean.yaml"} {
		p, err := Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f == "../../examples/policy.yaml" {
			if len(p.Deny) != 5 || len(p.Groups) != 4 || len(p.Types) != 2 || len(p.Exceptions) != 1 {
				t.Fatalf("%s parsed as %d deny, %d groups, %d types, %d exceptions", f, len(p.Deny), len(p.Groups), len(p.Types), len(p.Exceptions))
			}
		}
	}
}

func TestSemantics(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`
deny: ["auth.*"]
groups:
  merchant OWNER:          # group names ignore case
    allow: ["api.view_*", "kyc.view_*"]
  API:
    allow: ["api.*_deposit"]
types:
  enterprise:
    allow: [api.view_wallet]
exceptions:
  - user: alice@example.com
    allow: ["api.charge_wallet", "auth.view_group"]
    reason: OPS-1
    expires: 2027-01-31
`))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.DenyRule(idx(t, "auth.add_group")); r == nil || r.Glob != "auth.*" || r.Line != 2 {
		t.Fatalf("deny rule for auth.add_group = %+v", r)
	}
	if p.DenyRule(idx(t, "api.view_wallet")) != nil {
		t.Fatal("api.view_wallet denied")
	}
	cases := []struct {
		perm   string
		groups []string
		typ    string
		want   bool
	}{
		{"api.view_wallet", nil, "enterprise", true},
		{"api.view_wallet", nil, "merchant", false},
		{"api.view_deposit", []string{catalog.GroupMerchantOwner}, "merchant", true},
		{"api.add_deposit", []string{catalog.GroupMerchantOwner}, "merchant", false},
		{"api.add_deposit", []string{catalog.GroupMerchantOwner, catalog.GroupAPI}, "merchant", true},
		{"kyc.view_kycuser", []string{catalog.GroupMerchantStaff}, "merchant", false},
	}
	for _, c := range cases {
		if got := p.Allowed(idx(t, c.perm), c.groups, c.typ); got != c.want {
			t.Errorf("Allowed(%s, %v, %s) = %v, want %v", c.perm, c.groups, c.typ, got, c.want)
		}
	}
	e := p.Exceptions[0]
	if !e.Covers(idx(t, "api.charge_wallet")) || e.Covers(idx(t, "api.view_wallet")) {
		t.Fatal("exception coverage wrong")
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	if !e.Live(day("2027-01-31T23:59:59Z")) || e.Live(day("2027-02-01T00:00:00Z")) || !e.Live(day("2026-01-01T00:00:00Z")) {
		t.Fatal("expiry must be inclusive of the expires day, UTC")
	}
}

// Every malformation names its file and line.
func TestMalformed(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		want       string
	}{
		{"unknown top key", "deny: []\ndenny: [auth.*]\n", 2, `unknown key "denny"`},
		{"unknown group", "groups:\n  API:\n    allow: [api.view_wallet]\n  Merchant ownr:\n    allow: []\n", 4, `unknown group "Merchant ownr"`},
		{"unknown type", "types:\n  reseller:\n    allow: [api.view_wallet]\n", 2, `unknown user type "reseller"`},
		{"glob matches nothing", "deny:\n  - auth.*\n  - nothing.*\n", 3, `matches no permission`},
		{"unknown identifier", "types:\n  merchant:\n    allow:\n      - api.view_walet\n", 4, `did you mean api.view_wallet`},
		{"bad glob", "deny: ['api.[']\n", 1, "invalid permission pattern"},
		{"bad expiry", "exceptions:\n  - user: a@b.c\n    allow: [api.view_wallet]\n    reason: X\n    expires: 2027-02-30\n", 5, "invalid date"},
		{"missing reason", "exceptions:\n  - user: a@b.c\n    allow: [api.view_wallet]\n    expires: 2027-02-01\n", 2, "missing reason"},
		{"missing expires", "exceptions:\n  - user: a@b.c\n    allow: [api.view_wallet]\n    reason: X\n", 2, "missing expires"},
		{"missing user", "exceptions:\n  - allow: [api.view_wallet]\n    reason: X\n    expires: 2027-02-01\n", 2, "missing user"},
		{"unknown exception key", "exceptions:\n  - user: a@b.c\n    until: 2027-01-01\n", 3, `unknown key "until"`},
		{"unknown allow key", "groups:\n  API:\n    alow: [api.view_wallet]\n", 3, `unknown key "alow"`},
		{"deny not a list", "deny: auth.*\n", 1, "want a list"},
		{"repeated group", "groups:\n  API: {allow: []}\n  api: {allow: []}\n", 3, "repeated"},
		{"yaml syntax", "deny:\n  - auth.*\ngroups:\n  API:\n    allow: [a\n  b: c\n", 4, "invalid YAML"},
		{"tab indent", "deny:\n\t- auth.*\n", 2, "invalid YAML"},
		{"empty", "", 1, "empty"},
		{"comments only", "# nothing\n", 1, "empty"},
		{"top is a list", "- auth.*\n", 1, "want a mapping"},
		{"alias", "x: &a [auth.*]\n", 1, ""},
		{"two documents", "deny: []\n---\ndeny: []\n", 3, "more than one YAML document"},
		{"invalid utf8", "deny: []\n# \xff\n", 2, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("pol.yaml", []byte(c.text))
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("want Errors, got %T %v", err, err)
			}
			found := false
			for _, e := range es {
				if !strings.HasPrefix(e.Error(), "pol.yaml:") || e.File != "pol.yaml" {
					t.Fatalf("error %q does not start with FILE:LINE", e)
				}
				found = found || (e.Line == c.line && strings.Contains(e.Msg, c.want))
			}
			if !found {
				t.Fatalf("got %q, want a problem on line %d containing %q", err.Error(), c.line, c.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe != es[0] {
				t.Fatalf("errors.As does not reach the first problem")
			}
		})
	}
}

// Every problem of a file is reported in one go, in line order, each with
// the line the YAML library gives its node.
func TestAllProblemsAtOnce(t *testing.T) {
	text := `deny:
  - "auth.*"
  - "nothing.*"
groups:
  "Merchant ownr":
    allow: ["api.view_*"]
  API:
types:
  reseller:
    allow: ["api.view_wallet"]
exceptions:
  - user: alice@example.com
    allow: ["api.charge_wallet"]
    reason: "OPS-1"
    expires: 31/01/2027
colour: blue
`
	_, err := Parse("p.yaml", []byte(text))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %T %v", err, err)
	}
	want := []string{
		`p.yaml:3: deny: `,
		`p.yaml:5: groups: unknown group "Merchant ownr"`,
		`p.yaml:7: groups."API": empty; want allow: [patterns]`,
		`p.yaml:9: types: unknown user type "reseller"`,
		`p.yaml:15: exception: expires: invalid date "31/01/2027"`,
		`p.yaml:16: policy: unknown key "colour"`,
	}
	if len(es) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(es[i].Error(), w) {
			t.Errorf("problem %d: %q, want prefix %q", i+1, es[i].Error(), w)
		}
	}
	if !strings.Contains(es[0].Msg, "matches no permission") {
		t.Errorf("deny problem: %q", es[0].Msg)
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != len(want) {
		t.Errorf("Error() has %d lines, want one per problem", got)
	}
}

// A group or type with nothing under it is refused (it is usually an
// outdented allow line); allow: [] is the explicit way to allow nothing.
func TestEmptyBody(t *testing.T) {
	for _, text := range []string{"groups:\n  API:\n", "groups:\n  API: {}\n", "groups:\n  API:\n  allow: [api.view_wallet]\n", "types:\n  merchant:\n"} {
		_, err := Parse("p.yaml", []byte(text))
		var es Errors
		if !errors.As(err, &es) || es[0].Line != 2 || !strings.Contains(es[0].Msg, "empty") {
			t.Errorf("%q: got %v, want line 2 empty", text, err)
		}
	}
	p, err := Parse("p.yaml", []byte("groups:\n  API:\n    allow: []\n"))
	if err != nil || p.Groups["API"] != nil || p.GroupLines["API"] != 2 {
		t.Fatalf("allow: [] is valid: %v %+v", err, p)
	}
}

// Line-less YAML library messages get the line of what they are about.
func TestYAMLErrorLines(t *testing.T) {
	cases := []struct {
		text string
		line int
	}{
		{"deny: []\ngroups:\n  API: {allow: [\"a\x01\"]}\n", 3},
		{"deny: []\ntypes: *nope\n", 2},
		{"deny: []\n\ntypes: {merchant: {allow: [\"\\q\"]}}\n", 3},
	}
	for _, c := range cases {
		_, err := Parse("p.yaml", []byte(c.text))
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 || es[0].Line != c.line || !strings.Contains(es[0].Msg, "invalid YAML") {
			t.Errorf("%q: got %v, want one invalid-YAML problem on line %d", c.text, err, c.line)
		}
	}
}

func TestVerdicts(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`deny: ["auth.*", "auth.*"]
groups:
  "Merchant owner":
    allow: ["api.view_*"]
types:
  enterprise:
    allow: ["api.view_wallet"]
`))
	if err != nil {
		t.Fatal(err)
	}
	v := p.Check(idx(t, "auth.view_group"), nil, catalog.TypeMerchant)
	if v == nil || v.RuleID != "deny:auth.*" || v.Line != 1 || v.Text != `deny "auth.*"` || RuleID(v.Text) != v.RuleID {
		t.Fatalf("deny verdict %+v", v)
	}
	if p.Check(idx(t, "api.view_wallet"), []string{catalog.GroupMerchantOwner}, catalog.TypeMerchant) != nil {
		t.Fatal("allowed by group")
	}
	cases := []struct {
		groups []string
		typ    string
		line   int
	}{
		{[]string{catalog.GroupAPI, catalog.GroupMerchantOwner}, catalog.TypeMerchant, 3}, // the first listed group's block
		{[]string{catalog.GroupAPI}, catalog.TypeEnterprise, 6},                           // the type's block
		{[]string{catalog.GroupAPI}, catalog.TypeMerchant, 2},                             // where a block would go
	}
	for _, c := range cases {
		v := p.Check(idx(t, "node.add_address"), c.groups, c.typ)
		if v == nil || v.RuleID != NotAllowed || v.Line != c.line || RuleID(v.Text) != NotAllowed {
			t.Errorf("%v/%s: %+v, want line %d", c.groups, c.typ, v, c.line)
		}
	}
	rules := p.Rules()
	if len(rules) != 2 || rules[0].ID != "deny:auth.*" || rules[0].Line != 1 || rules[1].ID != NotAllowed {
		t.Fatalf("rules %+v", rules)
	}
	if q, _ := Parse("q.yaml", []byte("deny: [auth.*]\n")); q.Check(idx(t, "api.view_wallet"), nil, "merchant").Line != 1 {
		t.Fatal("a policy listing no allow points at line 1")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var re *ReadError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("got %v", err)
	}
	dir := t.TempDir()
	if _, err := Load(dir); !errors.As(err, &re) {
		t.Fatalf("a directory: %v", err)
	}
	f := filepath.Join(dir, "p.yaml")
	os.WriteFile(f, []byte("deny: [auth.*]\n"), 0o600)
	if _, err := Load(f); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"deny: [auth.*]\n",
		"groups:\n  API:\n    allow: [api.view_*]\n",
		"exceptions:\n  - user: a@b.c\n    allow: [x]\n    reason: r\n    expires: 2027-01-01\n",
		"x: &a [*a]\n", "{", "- - -", "deny: !!binary aGVsbG8=\n", "types: {merchant: {allow: ['[']}}",
	}
	if b, err := os.ReadFile("../../examples/policy.yaml"); err == nil {
		seeds = append(seeds, string(b))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, e := range es {
				if e.Line < 0 || e.File != "fuzz.yaml" {
					t.Fatalf("problem %+v", e)
				}
			}
			return
		}
		// A valid policy evaluates every catalog entry without trouble.
		for i := range catalog.Permissions() {
			p.DenyRule(i)
			p.Allowed(i, []string{catalog.GroupAPI}, catalog.TypeMerchant)
		}
	})
}
