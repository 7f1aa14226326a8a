// Package yamlfile reads the YAML files people write for b2badmin (audit
// policies, access files) so that every problem is reported at once, each
// as FILE:LINE: message with the YAML library's own line numbers.
package yamlfile

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

// Error is one problem of a file: FILE:LINE: message.
type Error struct {
	File string
	Line int // 0 when the problem has no line (a file too large to read)
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem of an invalid file, in line order (never empty).
// Callers map it to exit 4 and print one line per problem.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual problems.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Parser carries the file name into every error and collects them: a
// reviewer fixing a file wants every problem in one run, not one per run.
type Parser struct {
	File string
	What string // "a policy", "an access file": for messages
	Errs Errors
}

// Errf records a problem at node n (line 0 when n is nil).
func (ps *Parser) Errf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	ps.Errs = append(ps.Errs, &Error{File: ps.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Done returns the problems found, in line order, or nil.
func (ps *Parser) Done() error {
	if len(ps.Errs) == 0 {
		return nil
	}
	sort.SliceStable(ps.Errs, func(i, j int) bool { return ps.Errs[i].Line < ps.Errs[j].Line })
	return ps.Errs
}

// Document decodes data as one YAML document and returns its root node,
// nil when the file is empty (empty names what it should have held). A
// syntax error stops the YAML library, so it is the one problem reported.
func (ps *Parser) Document(data []byte, empty string) (*yaml.Node, error) {
	if !utf8.Valid(data) {
		return nil, Errors{{File: ps.File, Line: firstInvalidLine(data), Msg: "not valid UTF-8"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: ps.File, Line: 1, Msg: empty}}
		}
		return nil, Errors{ps.yamlError(err, data)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		ps.Errf(at, "more than one YAML document; %s is one document", ps.What)
	} else if !errors.Is(err, io.EOF) {
		ps.Errs = append(ps.Errs, ps.yamlError(err, data))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, Errors{{File: ps.File, Line: 1, Msg: empty}}
		}
		root = root.Content[0]
	}
	if IsNull(root) {
		ps.Errf(root, "%s", empty)
		return nil, ps.Done()
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns the library's "yaml: line N: msg" into FILE:N: msg. For
// the few messages that carry no line, the line is found in the text.
func (ps *Parser) yamlError(err error, data []byte) *Error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: ps.File, Line: 1, Msg: msg}
	}
	line := 0
	if m[1] != "" {
		line, _ = strconv.Atoi(m[1])
	} else {
		line = locate(m[2], data)
	}
	return &Error{File: ps.File, Line: line, Msg: "invalid YAML: " + m[2]}
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

// IsNull reports a YAML null (a key with nothing after it).
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// OK refuses node kinds these files never use, anchors and aliases
// included: the files are reviewed by people, and aliases hide what a key
// holds. It reports whether n may be read.
func (ps *Parser) OK(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		ps.Errf(n, "YAML anchors and aliases are not allowed in %s", ps.What)
		return false
	}
	return true
}

// Mapping walks a mapping node, reporting unknown (when known is not nil)
// and repeated keys and going on with the others. A null node (a key with
// nothing after it) is an empty mapping.
func (ps *Parser) Mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) {
	if !ps.OK(n) || IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		ps.Errf(n, "%s: want a mapping, got %s", what, KindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !ps.OK(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			ps.Errf(k, "%s: keys must be plain words", what)
			continue
		}
		key := k.Value
		if known != nil && !contains(known, key) {
			ps.Errf(k, "%s: unknown key %q (want %s)", what, key, strings.Join(known, ", "))
			continue
		}
		canon := strings.ToLower(strings.TrimSpace(key))
		if line, dup := seen[canon]; dup {
			ps.Errf(k, "%s: key %q repeated (first on line %d)", what, key, line)
			continue
		}
		seen[canon] = k.Line
		if ps.OK(v) {
			fn(key, k, v)
		}
	}
}

// Strings reads a list of plain strings (a null node is an empty list).
func (ps *Parser) Strings(n *yaml.Node, what string) []*yaml.Node {
	if !ps.OK(n) || IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		ps.Errf(n, "%s: want a list, got %s", what, KindName(n))
		return nil
	}
	var out []*yaml.Node
	for _, item := range n.Content {
		if !ps.OK(item) {
			continue
		}
		if item.Kind != yaml.ScalarNode || IsNull(item) {
			ps.Errf(item, "%s: want a word, got %s", what, KindName(item))
			continue
		}
		out = append(out, item)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// KindName names a node's kind for messages.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}
