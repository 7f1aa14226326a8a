// Package accessfile writes access files (client/access reads them): a
// header of comments, the scope, then each user's role and API groups and
// extra permissions, one user at a time. Like package output it knows
// nothing of the database: the caller hands over what to write. Names are
// written plain only where YAML 1.1 and 1.2 read them back as the same
// strings (output.YAMLPlain), else double-quoted.
package accessfile

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/b2badmin/b2badmin/output"
)

// Scope is the users a file speaks for (empty fields: not narrowed).
type Scope struct {
	Group   string
	Type    string
	Company string // a name or an ID
}

// User is one user's access as written.
type User struct {
	Email  string
	Groups []string
	Perms  []string
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
