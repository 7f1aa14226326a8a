package accessfile

import (
	"bytes"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// An access file's names read back as the very strings written, in YAML
// 1.1 as in 1.2: a company or group named No, 0x1F, 1_000 or = must not
// come back as a boolean, a number or a syntax error.
func TestWriterNamesReadBackAsStrings(t *testing.T) {
	tricky := []string{"No", "yes", "ON", "off", "y", "n", "~", "null", "true", "0x1F", "0o17", "1_000", "12:30",
		"1e3", ".inf", "=", "<<", "007", "2024-05-01", "-x", "?x", "a?", "a ?b", "a b", "Merchant owner", "api.view_wallet", "KYC not verified"}
	var b bytes.Buffer
	w, err := NewWriter(&b, []string{"test"}, &Scope{Company: "1_000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(User{Email: "ann@example.com", Groups: tricky, Perms: tricky}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scope map[string]any `yaml:"scope"`
		Users map[string]struct {
			Groups []any `yaml:"groups"`
			Perms  []any `yaml:"permissions"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Scope["company"] != "1_000" {
		t.Errorf("scope company read back as %#v", doc.Scope["company"])
	}
	u := doc.Users["ann@example.com"]
	for i, want := range tricky {
		if i >= len(u.Groups) || u.Groups[i] != want || i >= len(u.Perms) || u.Perms[i] != want {
			t.Fatalf("name %d: wrote %q, read back %#v / %#v\n%s", i, want, u.Groups, u.Perms, b.String())
		}
	}
	// YAML 1.2 (yaml.v3) reads YAML 1.1's types as strings anyway: the
	// ones only 1.1 types must be quoted in the file itself.
	var root yaml.Node
	if err := yaml.Unmarshal(b.Bytes(), &root); err != nil {
		t.Fatal(err)
	}
	quoted := map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.Style == yaml.DoubleQuotedStyle {
			quoted[n.Value] = true
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	for _, s := range []string{"No", "yes", "y", "n", "1_000", "12:30", "=", "<<", "0o17"} {
		if !quoted[s] {
			t.Errorf("%q written plain: a YAML 1.1 parser would not read it as a string\n%s", s, b.String())
		}
	}
	for _, s := range []string{"Merchant owner", "api.view_wallet", "KYC not verified"} {
		if quoted[s] {
			t.Errorf("%q quoted: plain reads back the same", s)
		}
	}
}

// A header is comment lines whatever it holds: a filter value with a line
// break must not become YAML of the file (a scope that --prune obeys).
func TestWriterHeaderStaysComment(t *testing.T) {
	for _, brk := range []string{"\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029"} {
		var b bytes.Buffer
		h := "access export --email nobody" + brk + "scope: {group: API}" + brk + "#\x07\x00"
		w, err := NewWriter(&b, []string{h}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("break %q: %v\n%q", brk, err, b.String())
		}
		if _, injected := doc["scope"]; injected || len(doc) != 1 {
			t.Fatalf("break %q: the header became YAML: %v\n%q", brk, doc, b.String())
		}
		for _, line := range strings.SplitAfter(strings.TrimSuffix(b.String(), "users: {}\n"), "\n") {
			if line != "" && !strings.HasPrefix(line, "# ") {
				t.Fatalf("break %q: line %q is not a comment", brk, line)
			}
		}
	}
}
