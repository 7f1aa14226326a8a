package client

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The users list's text filters are substrings matched with ILIKE over
// every row: a 120 KB --email cost 8-28 s of server time on 20,000 users,
// and a value longer than the column it searches can match nothing. A
// NUL byte or invalid UTF-8 came back from PostgreSQL as a raw SQLSTATE.

// textFilters are the text filters and their columns' sizes.
func (f UserFilter) textFilters() []struct {
	flag, value string
	max         int
} {
	return []struct {
		flag, value string
		max         int
	}{
		{"--email", f.Email, 254},
		{"--first-name", f.FirstName, 150},
		{"--last-name", f.LastName, 150},
		{"--company", f.Company, 255},
	}
}

// maxFilterValues bounds the list filters (--id, --group): more values
// than this are an export's worth of IDs, which belong on stdin.
const maxFilterValues = 100_000

// Validate refuses a filter PostgreSQL would reject or could spend
// seconds on for nothing, before any SQL: every command that takes the
// users list filters (the list itself, and bulk commands using them as a
// selector) calls it. Its errors are malformed input: callers report them
// as usage errors (exit 2).
func (f UserFilter) Validate() error {
	for _, t := range f.textFilters() {
		if !utf8.ValidString(t.value) {
			return fmt.Errorf("invalid %s: not valid UTF-8", t.flag)
		}
		if strings.IndexByte(t.value, 0) >= 0 {
			return fmt.Errorf("invalid %s: holds a NUL byte", t.flag)
		}
		if n := utf8.RuneCountInString(t.value); n > t.max {
			return fmt.Errorf("invalid %s: %d characters, longer than any stored value (at most %d)", t.flag, n, t.max)
		}
	}
	if len(f.IDs) > maxFilterValues {
		return fmt.Errorf("invalid --id: %d values, at most %d (pipe a longer list of users on stdin)", len(f.IDs), maxFilterValues)
	}
	if len(f.Groups) > maxFilterValues {
		return fmt.Errorf("invalid --group: %d values, at most %d", len(f.Groups), maxFilterValues)
	}
	return nil
}
