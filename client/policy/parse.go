package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// parser carries the file name into every error and collects them: a
// reviewer fixing a policy wants every problem of the file in one run, not
// one per run.
type parser struct {
	file string
	errs Errors
}

// errf records a problem at node n (line 0 when n is nil).
func (ps *parser) errf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	ps.errs = append(ps.errs, &Error{File: ps.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// done returns the problems found, in line order, or nil.
func (ps *parser) done() error {
	if len(ps.errs) == 0 {
		return nil
	}
	sort.SliceStable(ps.errs, func(i, j int) bool { return ps.errs[i].Line < ps.errs[j].Line })
	return ps.errs
}

const emptyPolicy = "policy is empty (want keys deny, groups, types, exceptions)"

// Parse parses policy text; file names it in errors. An invalid policy
// returns Errors: every problem found, each with its line.
func Parse(file string, data []byte) (*Policy, error) {
	ps := &parser{file: file}
	if !utf8.Valid(data) {
		return nil, Errors{{File: file, Line: firstInvalidLine(data), Msg: "not valid UTF-8"}}
	}
	// A syntax error stops the YAML library, so it is the one problem
	// reported; everything after it is unparsed.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Line: 1, Msg: emptyPolicy}}
		}
		return nil, Errors{ps.yamlError(err, data)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		ps.errf(at, "more than one YAML document; a policy is one document")
	} else if !errors.Is(err, io.EOF) {
		ps.errs = append(ps.errs, ps.yamlError(err, data))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, Errors{{File: file, Line: 1, Msg: emptyPolicy}}
		}
		root = root.Content[0]
	}
	if isNull(root) {
		ps.errf(root, emptyPolicy)
		return nil, ps.done()
	}
	p := &Policy{File: file, Groups: map[string][]Rule{}, Types: map[string][]Rule{},
		GroupLines: map[string]int{}, TypeLines: map[string]int{}}
	ps.mapping(root, "policy", []string{"deny", "groups", "types", "exceptions"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "deny":
			p.Deny = ps.globs(v, "deny")
		case "groups":
			p.GroupsLine = k.Line
			ps.groups(v, p)
		case "types":
			p.TypesLine = k.Line
			ps.types(v, p)
		case "exceptions":
			ps.exceptions(v, p)
		}
	})
	if err := ps.done(); err != nil {
		return nil, err
	}
	p.compile()
	return p, nil
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns the library's "yaml: line N: msg" into FILE:N: msg. For
// the few messages that carry no line, the line is found in the text.
func (ps *parser) yamlError(err error, data []byte) *Error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: ps.file, Line: 1, Msg: msg}
	}
	line := 0
	if m[1] != "" {
		line, _ = strconv.Atoi(m[1])
	} else {
		line = locate(m[2], data)
	}
	return &Error{File: ps.file, Line: line, Msg: "invalid YAML: " + m[2]}
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locate finds the line a line-less YAML error is about: the first control
// character, the first alias of an unknown anchor, the first backslash
// escape YAML does not define. Line 1 when none is found.
func locate(msg string, data []byte) int {
	lineOf := func(off int) int { return 1 + bytes.Count(data[:off], []byte{'\n'}) }
	switch {
	case strings.Contains(msg, "control characters"):
		for i, c := range data {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				return lineOf(i)
			}
		}
	case unknownAnchor.MatchString(msg):
		name := unknownAnchor.FindStringSubmatch(msg)[1]
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			return lineOf(i)
		}
	case strings.Contains(msg, "escape"):
		for i := 0; i+1 < len(data); i++ {
			if data[i] == '\\' {
				if !strings.ContainsRune("0abt\tnvfre \"/\\N_LPxuU", rune(data[i+1])) {
					return lineOf(i)
				}
				i++
			}
		}
	}
	return 1
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

// ok refuses node kinds a policy never uses, anchors and aliases
// included: a policy is reviewed by people, and aliases hide what a key
// holds. It reports whether n may be read.
func (ps *parser) ok(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		ps.errf(n, "YAML anchors and aliases are not allowed in a policy")
		return false
	}
	return true
}

// mapping walks a mapping node, reporting unknown and repeated keys and
// going on with the others. A null node (a key with nothing after it) is an
// empty mapping.
func (ps *parser) mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) {
	if !ps.ok(n) || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		ps.errf(n, "%s: want a mapping, got %s", what, kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !ps.ok(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			ps.errf(k, "%s: keys must be plain words", what)
			continue
		}
		key := k.Value
		if known != nil && !contains(known, key) {
			ps.errf(k, "%s: unknown key %q (want %s)", what, key, strings.Join(known, ", "))
			continue
		}
		canon := strings.ToLower(strings.TrimSpace(key))
		if line, dup := seen[canon]; dup {
			ps.errf(k, "%s: key %q repeated (first on line %d)", what, key, line)
			continue
		}
		seen[canon] = k.Line
		if ps.ok(v) {
			fn(key, k, v)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
