// Package access reads and writes access files: the intended role and
// API groups and extra permissions of users, kept in a reviewed file and
// applied with `b2badmin access apply`. Status groups (Email/Phone/KYC not
// verified) are verification state, not access: a file never names them,
// and applying one leaves them as they are.
package access

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
	"github.com/b2badmin/b2badmin/client/yamlfile"
	"github.com/b2badmin/b2badmin/output"
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

// Writer writes an access file, one user at a time, so that an export of
// every user stays flat in memory.
type Writer struct {
	w     *bufio.Writer
	users bool
	plain map[string]bool // quote's answers
}

// NewWriter starts a file with its header and scope (nil for none).
func NewWriter(w io.Writer, header []string, s *Scope) (*Writer, error) {
	aw := &Writer{w: bufio.NewWriter(w), plain: map[string]bool{}}
	for _, h := range header {
		for _, line := range commentLines(h) {
			fmt.Fprintf(aw.w, "# %s\n", line)
		}
	}
	if s != nil {
		aw.w.WriteString("scope:\n")
		if s.Group != "" {
			fmt.Fprintf(aw.w, "  group: %s\n", aw.quote(s.Group))
		}
		if s.Type != "" {
			fmt.Fprintf(aw.w, "  type: %s\n", aw.quote(s.Type))
		}
		if s.Company != "" {
			fmt.Fprintf(aw.w, "  company: %s\n", aw.quote(s.Company))
		}
	}
	return aw, nil
}

// commentLines is a header as comment lines: a line break of any kind
// YAML knows starts a new "# " line (else the text after it would be YAML:
// a filter value typed with a newline could inject a scope), and any other
// character YAML refuses in a stream is written as \uXXXX.
func commentLines(h string) []string {
	var lines []string
	var b strings.Builder
	for i, r := range h {
		switch {
		case r == '\r' && strings.HasPrefix(h[i+1:], "\n"):
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			lines = append(lines, b.String())
			b.Reset()
		case r == '\t' || unicode.IsPrint(r) && r != utf8.RuneError:
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return append(lines, b.String())
}

// Write adds one user.
func (aw *Writer) Write(u User) error {
	if !aw.users {
		aw.w.WriteString("users:\n")
		aw.users = true
	}
	fmt.Fprintf(aw.w, "  %s:\n    groups: %s\n    permissions: %s\n", aw.quote(u.Email), aw.flow(u.Groups), aw.flow(u.Perms))
	return nil
}

// Close ends the file (an empty users mapping when nobody was written).
func (aw *Writer) Close() error {
	if !aw.users {
		aw.w.WriteString("users: {}\n")
	}
	return aw.w.Flush()
}

// flow writes a list in YAML's flow style: [a, b].
func (aw *Writer) flow(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = aw.quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quote writes a scalar plain when YAML 1.1 and 1.2 read it back unchanged
// as a string (output.YAMLPlain, the rule -o yaml follows; flow lists also
// forbid ",[]{}" and "?", which ends a plain item there), else
// double-quoted. Group and permission names repeat
// from user to user: the answers are kept.
func (aw *Writer) quote(s string) string {
	if s == "" || strings.ContainsAny(s, ":#[]{},&*!|>'\"%@`\\\n\t?") || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	plain, ok := aw.plain[s]
	if !ok {
		plain = output.YAMLPlain(s)
		if len(aw.plain) < 10_000 {
			aw.plain[s] = plain
		}
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}
