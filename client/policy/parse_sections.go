package policy

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/client/yamlfile"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

// globs reads a list of permission globs; each must match something. Bad
// items are reported and left out.
func (ps *parser) globs(n *yaml.Node, what string) []Rule {
	if yamlfile.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		ps.Errf(n, "%s: want a list of permission patterns, e.g. [\"api.view_*\"], got %s", what, yamlfile.KindName(n))
		return nil
	}
	var out []Rule
	for _, g := range n.Content {
		if !ps.OK(g) {
			continue
		}
		if g.Kind != yaml.ScalarNode || yamlfile.IsNull(g) {
			ps.Errf(g, "%s: want a permission pattern (a string), got %s", what, yamlfile.KindName(g))
			continue
		}
		glob := strings.TrimSpace(g.Value)
		var idx []int
		var err error
		if permref.IsGlob(glob) {
			idx, err = permref.Glob(glob)
		} else {
			var i int
			i, err = permref.Lookup(glob)
			idx = []int{i}
		}
		if err != nil {
			ps.Errf(g, "%s: %v", what, err)
			continue
		}
		out = append(out, Rule{Glob: glob, Line: g.Line, Perms: idx})
	}
	return out
}

// allowBlock reads `{allow: [...]}` under a group or a type. A block with
// nothing in it is a mistake, usually of indentation (the allow line
// outdented to become a sibling key), so it is refused rather than read as
// "allows nothing"; `allow: []` says that explicitly.
func (ps *parser) allowBlock(k, v *yaml.Node, what string) []Rule {
	if yamlfile.IsNull(v) || (v.Kind == yaml.MappingNode && len(v.Content) == 0) {
		ps.Errf(k, "%s: empty; want allow: [patterns] (allow: [] to allow nothing)", what)
		return nil
	}
	var rules []Rule
	ps.Mapping(v, what, []string{"allow"}, func(_ string, _, av *yaml.Node) {
		rules = ps.globs(av, what+".allow")
	})
	return rules
}

func (ps *parser) groups(n *yaml.Node, p *Policy) {
	ps.Mapping(n, "groups", nil, func(key string, k, v *yaml.Node) {
		g, ok := catalog.LookupGroup(key)
		if !ok {
			ps.Errf(k, "groups: %s", catalog.UnknownGroup(key))
			// Its body is still checked: every problem at once.
			ps.allowBlock(k, v, fmt.Sprintf("groups.%q", key))
			return
		}
		p.Groups[g.Name] = ps.allowBlock(k, v, fmt.Sprintf("groups.%q", g.Name))
		p.GroupLines[g.Name] = k.Line
	})
}

func (ps *parser) types(n *yaml.Node, p *Policy) {
	ps.Mapping(n, "types", nil, func(key string, k, v *yaml.Node) {
		t := strings.ToLower(strings.TrimSpace(key))
		if t != catalog.TypeEnterprise && t != catalog.TypeMerchant {
			ps.Errf(k, "types: unknown user type %q (types: %s)", key, strings.Join(catalog.Types, ", "))
			ps.allowBlock(k, v, "types."+t)
			return
		}
		p.Types[t] = ps.allowBlock(k, v, "types."+t)
		p.TypeLines[t] = k.Line
	})
}

func (ps *parser) exceptions(n *yaml.Node, p *Policy) {
	if yamlfile.IsNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		ps.Errf(n, "exceptions: want a list of {user, allow, reason, expires}, got %s", yamlfile.KindName(n))
		return
	}
	for _, en := range n.Content {
		if !ps.OK(en) {
			continue
		}
		if yamlfile.IsNull(en) || en.Kind != yaml.MappingNode {
			ps.Errf(en, "exceptions: want a mapping with user, allow, reason, expires, got %s", yamlfile.KindName(en))
			continue
		}
		e := &Exception{Line: en.Line}
		allowErrs := 0
		ps.Mapping(en, "exception", []string{"user", "allow", "reason", "expires"}, func(key string, _, v *yaml.Node) {
			if key == "allow" {
				before := len(ps.Errs)
				e.Allow = ps.globs(v, "exception allow")
				allowErrs = len(ps.Errs) - before
				return
			}
			if v.Kind != yaml.ScalarNode || yamlfile.IsNull(v) {
				ps.Errf(v, "exception: %s: want a value, got %s", key, yamlfile.KindName(v))
				return
			}
			val := strings.TrimSpace(v.Value)
			switch key {
			case "user":
				if val == "" || len(val) > 254 {
					ps.Errf(v, "exception: user: want an ID, an email or a UUID")
					return
				}
				e.User = val
			case "reason":
				if val == "" {
					ps.Errf(v, "exception: reason is empty (e.g. a ticket number)")
				}
				e.Reason = val
			case "expires":
				d, err := time.Parse("2006-01-02", val)
				if err != nil {
					ps.Errf(v, "exception: expires: invalid date %q (want YYYY-MM-DD)", val)
					return
				}
				e.Expires = d
			}
		})
		// A field present but invalid was reported above; a missing one is here.
		who := e.User
		if who == "" {
			who = "it"
		}
		if !hasKey(en, "user") {
			ps.Errf(en, "exception: missing user (an ID, an email or a UUID)")
		}
		switch {
		case !hasKey(en, "allow"):
			ps.Errf(en, "exception for %s: missing allow (the permissions it excuses)", who)
		case len(e.Allow) == 0 && allowErrs == 0:
			ps.Errf(en, "exception for %s: allow is empty (name the permissions it excuses)", who)
		}
		if !hasKey(en, "reason") {
			ps.Errf(en, "exception for %s: missing reason (e.g. a ticket number)", who)
		}
		if !hasKey(en, "expires") {
			ps.Errf(en, "exception for %s: missing expires (YYYY-MM-DD)", who)
		}
		p.Exceptions = append(p.Exceptions, e)
	}
}

// hasKey reports whether mapping node n has the key.
func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			return true
		}
	}
	return false
}
