package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

// parser carries the file name into every error.
type parser struct{ file string }

func (ps *parser) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: ps.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// Parse parses policy text; file names it in errors.
func Parse(file string, data []byte) (*Policy, error) {
	ps := &parser{file: file}
	if !utf8.Valid(data) {
		return nil, &Error{File: file, Line: firstInvalidLine(data), Msg: "not valid UTF-8"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Line: 1, Msg: "policy is empty (want keys deny, groups, types, exceptions)"}
		}
		return nil, ps.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		return nil, ps.errf(at, "more than one YAML document; a policy is one document")
	} else if !errors.Is(err, io.EOF) {
		return nil, ps.yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, &Error{File: file, Line: 1, Msg: "policy is empty (want keys deny, groups, types, exceptions)"}
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return nil, ps.errf(root, "policy is empty (want keys deny, groups, types, exceptions)")
	}
	p := &Policy{File: file, Groups: map[string][]Rule{}, Types: map[string][]Rule{}}
	err := ps.mapping(root, "policy", []string{"deny", "groups", "types", "exceptions"}, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "deny":
			p.Deny, err = ps.globs(v, "deny")
		case "groups":
			err = ps.groups(v, p)
		case "types":
			err = ps.types(v, p)
		case "exceptions":
			err = ps.exceptions(v, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	p.compile()
	return p, nil
}

// yamlError turns the library's "yaml: line N: msg" into FILE:N: msg.
func (ps *parser) yamlError(err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: ps.file, Line: 1, Msg: msg}
	}
	line := 1
	if m[1] != "" {
		line, _ = strconv.Atoi(m[1])
	}
	return &Error{File: ps.file, Line: line, Msg: "invalid YAML: " + m[2]}
}

func firstInvalidLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// check refuses node kinds a policy never uses, anchors and aliases
// included: a policy is reviewed by people, and aliases hide what a key holds.
func (ps *parser) check(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return ps.errf(n, "YAML anchors and aliases are not allowed in a policy")
	}
	return nil
}

// mapping walks a mapping node, refusing unknown and repeated keys. A null
// node (a key with nothing after it) is an empty mapping.
func (ps *parser) mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node) error) error {
	if err := ps.check(n); err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return ps.errf(n, "%s: want a mapping, got %s", what, kindName(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := ps.check(k); err != nil {
			return err
		}
		if err := ps.check(v); err != nil {
			return err
		}
		if k.Kind != yaml.ScalarNode {
			return ps.errf(k, "%s: keys must be plain words", what)
		}
		key := k.Value
		if known != nil {
			ok := false
			for _, kn := range known {
				if kn == key {
					ok = true
				}
			}
			if !ok {
				return ps.errf(k, "%s: unknown key %q (want %s)", what, key, strings.Join(known, ", "))
			}
		}
		canon := strings.ToLower(strings.TrimSpace(key))
		if line, dup := seen[canon]; dup {
			return ps.errf(k, "%s: key %q repeated (first on line %d)", what, key, line)
		}
		seen[canon] = k.Line
		if err := fn(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

// globs reads a list of permission globs; each must match something.
func (ps *parser) globs(n *yaml.Node, what string) ([]Rule, error) {
	if err := ps.check(n); err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, ps.errf(n, "%s: want a list of permission patterns, e.g. [\"api.view_*\"], got %s", what, kindName(n))
	}
	var out []Rule
	for _, g := range n.Content {
		if err := ps.check(g); err != nil {
			return nil, err
		}
		if g.Kind != yaml.ScalarNode || isNull(g) {
			return nil, ps.errf(g, "%s: want a permission pattern (a string), got %s", what, kindName(g))
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
			return nil, ps.errf(g, "%s: %v", what, err)
		}
		out = append(out, Rule{Glob: glob, Line: g.Line, Perms: idx})
	}
	return out, nil
}

// allowBlock reads `{allow: [...]}` under a group or a type.
func (ps *parser) allowBlock(v *yaml.Node, what string) ([]Rule, error) {
	var rules []Rule
	err := ps.mapping(v, what, []string{"allow"}, func(_ string, _, av *yaml.Node) error {
		var err error
		rules, err = ps.globs(av, what+".allow")
		return err
	})
	return rules, err
}

func (ps *parser) groups(n *yaml.Node, p *Policy) error {
	return ps.mapping(n, "groups", nil, func(key string, k, v *yaml.Node) error {
		g, ok := catalog.LookupGroup(key)
		if !ok {
			return ps.errf(k, "groups: unknown group %q (groups: %s)", key, groupNames())
		}
		rules, err := ps.allowBlock(v, fmt.Sprintf("groups.%q", g.Name))
		if err != nil {
			return err
		}
		p.Groups[g.Name] = rules
		return nil
	})
}

func (ps *parser) types(n *yaml.Node, p *Policy) error {
	return ps.mapping(n, "types", nil, func(key string, k, v *yaml.Node) error {
		t := strings.ToLower(strings.TrimSpace(key))
		if t != catalog.TypeEnterprise && t != catalog.TypeMerchant {
			return ps.errf(k, "types: unknown user type %q (types: %s)", key, strings.Join(catalog.Types, ", "))
		}
		rules, err := ps.allowBlock(v, "types."+t)
		if err != nil {
			return err
		}
		p.Types[t] = rules
		return nil
	})
}

func (ps *parser) exceptions(n *yaml.Node, p *Policy) error {
	if err := ps.check(n); err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return ps.errf(n, "exceptions: want a list of {user, allow, reason, expires}, got %s", kindName(n))
	}
	for _, en := range n.Content {
		e := &Exception{Line: en.Line}
		var hasAllow, hasExpires bool
		if isNull(en) || en.Kind != yaml.MappingNode {
			return ps.errf(en, "exceptions: want a mapping with user, allow, reason, expires, got %s", kindName(en))
		}
		err := ps.mapping(en, "exception", []string{"user", "allow", "reason", "expires"}, func(key string, _, v *yaml.Node) error {
			if key == "allow" {
				var err error
				e.Allow, err = ps.globs(v, "exception allow")
				hasAllow = true
				return err
			}
			if v.Kind != yaml.ScalarNode || isNull(v) {
				return ps.errf(v, "exception: %s: want a value, got %s", key, kindName(v))
			}
			val := strings.TrimSpace(v.Value)
			switch key {
			case "user":
				if val == "" || len(val) > 254 {
					return ps.errf(v, "exception: user: want an ID, an email or a UUID")
				}
				e.User = val
			case "reason":
				e.Reason = val
			case "expires":
				d, err := time.Parse("2006-01-02", val)
				if err != nil {
					return ps.errf(v, "exception: expires: invalid date %q (want YYYY-MM-DD)", val)
				}
				e.Expires, hasExpires = d, true
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch {
		case e.User == "":
			return ps.errf(en, "exception: missing user (an ID, an email or a UUID)")
		case !hasAllow || len(e.Allow) == 0:
			return ps.errf(en, "exception for %s: missing allow (the permissions it excuses)", e.User)
		case e.Reason == "":
			return ps.errf(en, "exception for %s: missing reason (e.g. a ticket number)", e.User)
		case !hasExpires:
			return ps.errf(en, "exception for %s: missing expires (YYYY-MM-DD)", e.User)
		}
		p.Exceptions = append(p.Exceptions, e)
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}
