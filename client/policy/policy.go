// Package policy reads the audit policy file of `perms audit` (SPEC §3):
// deny globs nobody may hold, allow globs per group and per user type, and
// dated, reasoned per-user exceptions. It parses through yaml.Node so that
// every problem is reported as FILE:LINE, and compiles each rule to the set
// of catalog permissions it covers, so that evaluating a grant is a few
// slice lookups. It needs no database.
package policy

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/yamlfile"
)

// Error is one problem of a policy file: FILE:LINE: message.
type Error = yamlfile.Error

// Errors is every problem of an invalid policy file, in line order (never
// empty). Callers map it to exit 4 and print one line per problem.
type Errors = yamlfile.Errors

// ReadError is a policy file that could not be read at all (missing,
// unreadable, a directory): an I/O failure, exit 1, not an invalid policy.
type ReadError struct {
	File string
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("%s: cannot read policy: %v", e.File, e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// Rule is one glob of the file, with the catalog entries it matches.
type Rule struct {
	Glob  string
	Line  int
	Perms []int // catalog indexes
}

// Exception excuses one user's grants matching Allow until Expires (inclusive, UTC).
type Exception struct {
	User    string // ID, email or UUID, as written
	Allow   []Rule
	Reason  string
	Expires time.Time // midnight UTC of the last day it applies
	Line    int

	allowed []bool
}

// Live reports whether the exception still applies on the day of asOf (UTC):
// an exception expiring 2027-01-31 excuses through the whole of that day.
func (e *Exception) Live(asOf time.Time) bool {
	d := asOf.UTC()
	today := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	return !e.Expires.Before(today)
}

// Covers reports whether the exception's globs match catalog entry i.
func (e *Exception) Covers(i int) bool { return i >= 0 && i < len(e.allowed) && e.allowed[i] }

// Policy is a parsed, compiled policy file.
type Policy struct {
	File       string
	Deny       []Rule
	Groups     map[string][]Rule // canonical group name → allow rules
	Types      map[string][]Rule // user type → allow rules
	Exceptions []*Exception

	// Where things are written, for reports that point into the file.
	GroupLines map[string]int // canonical group name → line of its key
	TypeLines  map[string]int
	GroupsLine int // line of the groups: key (0 = absent)
	TypesLine  int

	denyBy     []*Rule           // catalog index → first deny rule matching it
	groupAllow map[string][]bool // canonical group name → catalog index → allowed
	typeAllow  map[string][]bool
}

// maxFileSize bounds what Load reads; a real policy is a few kilobytes.
const maxFileSize = 4 << 20

// Load reads and parses a policy file. A file that cannot be read is a
// *ReadError; an invalid one is Errors.
func Load(file string) (*Policy, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, &ReadError{File: file, Err: unwrapPathError(err)}
	}
	if st.IsDir() {
		return nil, &ReadError{File: file, Err: errors.New("is a directory, not a policy file")}
	}
	if st.Size() > maxFileSize {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("policy file larger than %d bytes", maxFileSize)}}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ReadError{File: file, Err: unwrapPathError(err)}
	}
	return Parse(file, data)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// DenyRule returns the first deny rule matching catalog entry i, or nil.
func (p *Policy) DenyRule(i int) *Rule {
	if i < 0 || i >= len(p.denyBy) {
		return nil
	}
	return p.denyBy[i]
}

// Allowed reports whether an allow of one of the groups or of the type
// covers catalog entry i. groups are canonical names (as in auth_group).
func (p *Policy) Allowed(i int, groups []string, typ string) bool {
	if i < 0 || i >= len(p.denyBy) {
		return false // not in the catalog: no pattern can have named it
	}
	for _, g := range groups {
		if a := p.groupAllow[g]; a != nil && a[i] {
			return true
		}
	}
	if a := p.typeAllow[typ]; a != nil && a[i] {
		return true
	}
	return false
}

// compile precomputes, per catalog entry, the deny rule and the allow sets.
func (p *Policy) compile() {
	n := len(catalog.Permissions())
	p.denyBy = make([]*Rule, n)
	for ri := range p.Deny {
		r := &p.Deny[ri]
		for _, i := range r.Perms {
			if p.denyBy[i] == nil {
				p.denyBy[i] = r
			}
		}
	}
	set := func(rules []Rule) []bool {
		s := make([]bool, n)
		for _, r := range rules {
			for _, i := range r.Perms {
				s[i] = true
			}
		}
		return s
	}
	p.groupAllow = map[string][]bool{}
	for g, rules := range p.Groups {
		p.groupAllow[g] = set(rules)
	}
	p.typeAllow = map[string][]bool{}
	for t, rules := range p.Types {
		p.typeAllow[t] = set(rules)
	}
	for _, e := range p.Exceptions {
		e.allowed = set(e.Allow)
	}
}
