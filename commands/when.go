package commands

import (
	"strconv"
	"strings"
	"time"
)

// One grammar for every time flag of every command:
//
//	YYYY-MM-DD    a whole UTC day; as an upper bound the day is included
//	RFC 3339      an instant, e.g. 2026-01-31T12:00:00Z
//	N{m,h,d,w}    an age: that long before now (90d, 12h, 2w, 30m)
//
// timeHelp is the sentence every such flag's help ends with.
const timeHelp = "YYYY-MM-DD (a whole UTC day), RFC 3339, or an age such as 90d, 12h, 2w, 30m"

// bound says which end of a range a time flag is. The time returned for an
// upper bound is always exclusive.
type bound int

const (
	lowerBound     bound = iota // at or after: a day means its first instant
	upperBound                  // before: a day means the instant after it ends
	upperInclusive              // at or before: a day counts whole, an instant too
)

// maxAge bounds ages, so that now minus the age stays a valid time.
const maxAge = 200 * 365 * 24 * time.Hour

var ageUnits = map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}

// parseTime reads a time flag; a malformed value is a usage error (exit 2).
// now is passed in so that every flag of one command shares one "now".
func parseTime(flag, s string, b bound, now time.Time) (time.Time, error) {
	v := strings.TrimSpace(s)
	bad := func() (time.Time, error) {
		return time.Time{}, usageErrorf("invalid %s %q: want %s", flag, clipText(s, 40), timeHelp)
	}
	if v == "" || len(v) > 40 {
		return bad()
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if b != lowerBound {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		t = t.UTC()
		if b == upperInclusive {
			// The instant just after, at the database's precision.
			t = t.Truncate(time.Microsecond).Add(time.Microsecond)
		}
		return t, nil
	}
	unit, ok := ageUnits[v[len(v)-1]]
	if !ok {
		return bad()
	}
	digits := v[:len(v)-1]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return bad()
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > int64(maxAge/unit) {
		return bad()
	}
	return now.Add(-time.Duration(n) * unit).UTC(), nil
}

// parseTimePtr is parseTime for an optional flag ("" = not given).
func parseTimePtr(flag, s string, b bound, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(flag, s, b, now)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// clipText shortens a value quoted back in a message.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
