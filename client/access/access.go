// Package access reads access files (output/accessfile writes them): the intended role and
// API groups and extra permissions of users, kept in a reviewed file and
// applied with `b2badmin access apply`. Status groups (Email/Phone/KYC not
// verified) are verification state, not access: a file never names them,
// and applying one leaves them as they are.
package access

import (
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
	"github.com/b2badmin/b2badmin/client/yamlfile"
)

// File is an access file.
type File struct {
	Path  string
	Scope *Scope
	Users []User // in file order
}

// Scope selects the users a file speaks for: with --prune, users in scope
// but not in the file lose their access.
type Scope struct {
	Group   string // canonical group name
	Type    string // enterprise or merchant
	Company string // company name (exact, case-insensitive) or ID
	Line    int
}

// User is one user's intended access.
type User struct {
	Email  string   // as written (matched case-insensitively)
	Line   int      // of the email key, for errors about the user
	Groups []string // role groups and API, canonical, seed order
	Perms  []string // permission identifiers, sorted
}

const emptyFile = "access file is empty (want keys scope, users)"

// Parse reads an access file: every problem at once, each FILE:LINE.
// Groups and permissions are checked against the catalog here; whether the
// users exist is checked against the database by the caller.
func Parse(path string, data []byte) (*File, error) {
	ps := &yamlfile.Parser{File: path, What: "an access file"}
	root, err := ps.Document(data, emptyFile)
	if root == nil {
		return nil, err
	}
	f := &File{Path: path}
	ps.Mapping(root, "access file", []string{"scope", "users"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "scope":
			f.Scope = scope(ps, k, v)
		case "users":
			f.Users = users(ps, v)
		}
	})
	// With its problems, the file as far as it was read: its users can
	// still be looked up, so that every problem is reported at once.
	return f, ps.Done()
}

func scope(ps *yamlfile.Parser, k, v *yaml.Node) *Scope {
	s := &Scope{Line: k.Line}
	errsBefore := len(ps.Errs)
	ps.Mapping(v, "scope", []string{"group", "type", "company"}, func(key string, _, v *yaml.Node) {
		if v.Kind != yaml.ScalarNode || yamlfile.IsNull(v) {
			ps.Errf(v, "scope %s: want a word, got %s", key, yamlfile.KindName(v))
			return
		}
		switch key {
		case "group":
			g, ok := catalog.LookupGroup(v.Value)
			switch {
			case !ok:
				ps.Errf(v, "scope group: unknown group %q", v.Value)
			default:
				s.Group = g.Name
			}
		case "type":
			t := strings.ToLower(strings.TrimSpace(v.Value))
			if t != catalog.TypeEnterprise && t != catalog.TypeMerchant {
				ps.Errf(v, "scope type: want enterprise or merchant, got %q", v.Value)
			}
			s.Type = t
		case "company":
			s.Company = strings.TrimSpace(v.Value)
		}
	})
	if s.Group == "" && s.Type == "" && s.Company == "" && len(ps.Errs) == errsBefore {
		ps.Errf(k, "scope selects nobody in particular: give group, type or company")
	}
	return s
}

func users(ps *yamlfile.Parser, n *yaml.Node) []User {
	var out []User
	ps.Mapping(n, "users", nil, func(email string, k, v *yaml.Node) {
		u := User{Email: strings.TrimSpace(email), Line: k.Line, Groups: []string{}, Perms: []string{}}
		if !strings.Contains(u.Email, "@") {
			ps.Errf(k, "users: %q is not an email address (users are listed by email)", email)
			return
		}
		ps.Mapping(v, "user "+u.Email, []string{"groups", "permissions"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "groups":
				u.Groups = groups(ps, v, u.Email)
			case "permissions":
				u.Perms = perms(ps, v, u.Email)
			}
		})
		out = append(out, u)
	})
	return out
}

func groups(ps *yamlfile.Parser, n *yaml.Node, who string) []string {
	var names []string
	seen := map[string]bool{}
	for _, item := range ps.Strings(n, who+" groups") {
		g, ok := catalog.LookupGroup(item.Value)
		switch {
		case !ok:
			ps.Errf(item, "%s: unknown group %q", who, item.Value)
		case g.Status():
			ps.Errf(item, "%s: %q is a status group, not access: leave it out (applying a file never changes status groups)", who, g.Name)
		case seen[g.Name]:
			ps.Errf(item, "%s: group %q listed twice", who, g.Name)
		default:
			seen[g.Name] = true
			names = append(names, g.Name)
		}
	}
	return catalog.InSeedOrder(names)
}

func perms(ps *yamlfile.Parser, n *yaml.Node, who string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, item := range ps.Strings(n, who+" permissions") {
		if permref.IsGlob(item.Value) {
			ps.Errf(item, "%s: %q is a pattern: an access file names each permission (b2badmin perms list shows them)", who, item.Value)
			continue
		}
		i, err := permref.Lookup(item.Value)
		if err != nil {
			ps.Errf(item, "%s: %s", who, err.Error())
			continue
		}
		id := catalog.Permissions()[i].ID()
		if seen[id] {
			ps.Errf(item, "%s: permission %s listed twice", who, id)
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
