package client

import (
	"strings"
	"testing"
)

// A baseline saved by a spreadsheet starts with a byte-order mark: its
// first column is still found, whichever it is (on main a first column
// "rule" behind a BOM was not, and the report read as an export).
func TestBaselineHeaderBehindBOM(t *testing.T) {
	for _, c := range []struct {
		header string
		report bool
	}{
		{"\ufeffuser_id,email,permission\n", false},
		{"\ufeffrule,user_id,email,permission\n", true},
		{"user_id,email,permission,rule\n", true},
	} {
		b, err := OpenBaseline(strings.NewReader(c.header), "b.csv", BaselinePerms)
		if err != nil || b.Report != c.report || b.iUser < 0 || b.iKey < 0 {
			t.Errorf("%q: %v, report %v (want %v), user column %d", c.header, err, b != nil && b.Report, c.report, func() int {
				if b == nil {
					return -2
				}
				return b.iUser
			}())
		}
	}
	// Only the first cell may carry one: elsewhere U+FEFF is data.
	if _, err := OpenBaseline(strings.NewReader("email,\ufeffuser_id,permission\n"), "b.csv", BaselinePerms); err == nil {
		t.Error("a BOM inside the header named a column")
	}
}
