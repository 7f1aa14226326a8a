package policy

import (
	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/client/yamlfile"
)

// parser is a policy's yamlfile.Parser (every problem reported at once,
// FILE:LINE each).
type parser struct{ yamlfile.Parser }

const emptyPolicy = "policy is empty (want keys deny, groups, types, exceptions)"

// Parse parses policy text; file names it in errors. An invalid policy
// returns Errors: every problem found, each with its line.
func Parse(file string, data []byte) (*Policy, error) {
	ps := &parser{yamlfile.Parser{File: file, What: "a policy"}}
	root, err := ps.Document(data, emptyPolicy)
	if root == nil {
		return nil, err
	}
	p := &Policy{File: file, Groups: map[string][]Rule{}, Types: map[string][]Rule{},
		GroupLines: map[string]int{}, TypeLines: map[string]int{}}
	ps.Mapping(root, "policy", []string{"deny", "groups", "types", "exceptions"}, func(key string, k, v *yaml.Node) {
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
	if err := ps.Done(); err != nil {
		return nil, err
	}
	p.compile()
	return p, nil
}
