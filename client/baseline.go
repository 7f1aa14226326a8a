package client

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

// Baseline is an earlier state an audit compares with, read as a CSV
// stream: the audit merges it with its own stream by user id, so neither
// side is held in memory. Rows must come in ascending user_id order, as
// `perms export` and the audits' -o csv write them.
//
// Two kinds are read, told apart by the header:
//   - a report, the -o csv of an earlier audit (it has a rule column):
//     every row was a finding then;
//   - for perms audit, a `perms export` snapshot of grants: a row says the
//     grant was held then, not whether it was a finding.
//
// A report's rows marked resolved (information rows of a run that had a
// baseline itself) are skipped: they were not findings.
type Baseline struct {
	name   string
	keyCol string
	r      *csv.Reader
	// Report: the file is an audit report (see above).
	Report bool

	iUser, iEmail, iKey, iRule, iLine, iChange int

	line          int
	lastUser      int64
	cur           baselineRow
	hasCur, atEOF bool
}

type baselineRow struct {
	userID int64
	email  string
	key    string // the permission, or the group rule
	rule   string // a report's rule column
	line   int    // a report's policy_line column (0 when empty)
}

// Baseline key columns: what identifies a finding of each audit within a user.
const (
	BaselinePerms  = "permission"
	BaselineGroups = "rule"
)

// OpenBaseline checks the header of a baseline for an audit whose findings
// are keyed by keyCol (BaselinePerms or BaselineGroups); name is used in
// errors.
func OpenBaseline(r io.Reader, name, keyCol string) (*Baseline, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, with a clearer message
	b := &Baseline{name: name, keyCol: keyCol, r: cr, iUser: -1, iEmail: -1, iKey: -1, iRule: -1, iLine: -1, iChange: -1}
	h, err := cr.Read()
	b.line = 1
	if errors.Is(err, io.EOF) {
		return nil, Refused("baseline %s: empty file (want the CSV of an earlier audit%s)", name, map[bool]string{true: " or of b2badmin perms export", false: ""}[keyCol == BaselinePerms])
	}
	if err != nil {
		return nil, b.bad(err)
	}
	for i, c := range h {
		if i == 0 {
			c = TrimBOM(c) // the file's first bytes
		}
		switch strings.TrimSpace(c) {
		case "user_id":
			b.iUser = i
		case "email":
			b.iEmail = i
		case keyCol:
			b.iKey = i
		case "policy_line":
			b.iLine = i
		case "change":
			b.iChange = i
		}
		if strings.TrimSpace(c) == "rule" {
			b.iRule = i
		}
	}
	b.Report = b.iRule >= 0
	if b.iUser < 0 || b.iKey < 0 {
		return nil, Refused("baseline %s:1: header must name user_id and %s (as an audit's -o csv writes%s)", name, keyCol,
			map[bool]string{true: ", or b2badmin perms export", false: ""}[keyCol == BaselinePerms])
	}
	return b, nil
}

func (b *Baseline) bad(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Refused("baseline %s:%d: %v", b.name, pe.Line, pe.Err)
	}
	return Refused("baseline %s:%d: %v", b.name, b.line, err)
}

// peek returns the next row without consuming it.
func (b *Baseline) peek() (baselineRow, bool, error) {
	if b.hasCur {
		return b.cur, true, nil
	}
	for !b.atEOF {
		rec, err := b.r.Read()
		if errors.Is(err, io.EOF) {
			b.atEOF = true
			break
		}
		if err != nil {
			return baselineRow{}, false, b.bad(err)
		}
		b.line, _ = b.r.FieldPos(0)
		need := max(b.iUser, b.iKey, b.iEmail, b.iRule, b.iLine, b.iChange)
		if len(rec) <= need {
			return baselineRow{}, false, Refused("baseline %s:%d: want %d fields, got %d", b.name, b.line, need+1, len(rec))
		}
		if b.iChange >= 0 {
			if ch := strings.TrimSpace(rec[b.iChange]); ch == ChangeResolved || ch == "removed" {
				continue
			}
		}
		id, err := strconv.ParseInt(strings.TrimSpace(rec[b.iUser]), 10, 64)
		if err != nil || id <= 0 {
			return baselineRow{}, false, Refused("baseline %s:%d: invalid user_id %q", b.name, b.line, rec[b.iUser])
		}
		if id < b.lastUser {
			return baselineRow{}, false, Refused("baseline %s:%d: user_id %d after %d: rows must be in ascending user_id order (as b2badmin writes them)", b.name, b.line, id, b.lastUser)
		}
		b.lastUser = id
		row := baselineRow{userID: id, key: strings.TrimSpace(rec[b.iKey])}
		if b.iEmail >= 0 {
			row.email = rec[b.iEmail]
		}
		if b.iRule >= 0 {
			row.rule = rec[b.iRule]
		}
		if b.iLine >= 0 {
			row.line, _ = strconv.Atoi(strings.TrimSpace(rec[b.iLine]))
		}
		b.cur, b.hasCur = row, true
		return row, true, nil
	}
	return baselineRow{}, false, nil
}

func (b *Baseline) next() { b.hasCur = false }

// BaselineCounts are the findings of a run against a baseline.
type BaselineCounts struct {
	Unchanged, New, Resolved int64
}

func (c *BaselineCounts) count(change string) {
	switch change {
	case ChangeUnchanged:
		c.Unchanged++
	case ChangeNew:
		c.New++
	case ChangeResolved:
		c.Resolved++
	}
}

// userBaseline is one user's rows of a baseline by key, as an audit
// compares them with that user's findings now. It is nil without a
// baseline.
type userBaseline map[string]baselineRow

// forUser consumes the baseline up to user id, which must come in
// ascending order: rows of users below id go to gone (the audit's stream
// no longer has those users); the rows of id are returned. A nil baseline
// returns nil.
func (b *Baseline) forUser(id int64, gone func(baselineRow)) (userBaseline, error) {
	if b == nil {
		return nil, nil
	}
	if err := b.before(id, gone); err != nil {
		return nil, err
	}
	ub := userBaseline{}
	for {
		r, ok, err := b.peek()
		if err != nil {
			return nil, err
		}
		if !ok || r.userID != id {
			return ub, nil
		}
		ub[r.key] = r
		b.next()
	}
}

// drain hands the rows of every user past the stream's last to gone.
func (b *Baseline) drain(gone func(baselineRow)) error {
	if b == nil {
		return nil
	}
	return b.before(math.MaxInt64, gone)
}

func (b *Baseline) before(id int64, gone func(baselineRow)) error {
	for {
		r, ok, err := b.peek()
		if err != nil {
			return err
		}
		if !ok || r.userID >= id {
			return nil
		}
		b.next()
		gone(r)
	}
}

// mark says how a finding keyed key compares with the user's baseline
// rows: unchanged (and the row is used up) or new; "" without a baseline.
func (ub userBaseline) mark(key string) string {
	if ub == nil {
		return ""
	}
	if _, had := ub[key]; had {
		delete(ub, key)
		return ChangeUnchanged
	}
	return ChangeNew
}

// rest hands the rows no finding used up to fn, in key order.
func (ub userBaseline) rest(fn func(baselineRow)) {
	keys := make([]string, 0, len(ub))
	for k := range ub {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(ub[k])
	}
}

// labelOf returns the seed label of an identifier, when the catalog knows it.
func labelOf(id string) (string, bool) {
	i, ok := permref.Index(id)
	if !ok {
		return "", false
	}
	return catalog.Permissions()[i].Label, true
}
