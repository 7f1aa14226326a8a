package client

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/b2badmin/b2badmin/client/catalog"
	"github.com/b2badmin/b2badmin/client/permref"
)

// Baseline reads a `perms export` snapshot (CSV with a header naming at
// least user_id, email and permission) as a stream: the audit merges it
// with the grants stream by user id, so neither side is held in memory.
// Rows must come in ascending user_id order, as export writes them.
type Baseline struct {
	name          string
	r             *csv.Reader
	iUser, iEmail int
	iPerm         int
	line          int
	lastUser      int64
	cur           baselineRow
	hasCur, atEOF bool
}

type baselineRow struct {
	userID int64
	email  string
	perm   string
}

// OpenBaseline checks the header of a snapshot; name is used in errors.
func OpenBaseline(r io.Reader, name string) (*Baseline, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	b := &Baseline{name: name, r: cr, iUser: -1, iEmail: -1, iPerm: -1}
	h, err := cr.Read()
	b.line = 1
	if errors.Is(err, io.EOF) {
		return nil, Refused("baseline %s: empty file (want the CSV written by b2badmin perms export)", name)
	}
	if err != nil {
		return nil, b.bad(err)
	}
	for i, c := range h {
		switch strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")) {
		case "user_id":
			b.iUser = i
		case "email":
			b.iEmail = i
		case "permission":
			b.iPerm = i
		}
	}
	if b.iUser < 0 || b.iPerm < 0 {
		return nil, Refused("baseline %s:1: header must name user_id and permission (as b2badmin perms export writes)", name)
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
	if b.atEOF {
		return baselineRow{}, false, nil
	}
	rec, err := b.r.Read()
	if errors.Is(err, io.EOF) {
		b.atEOF = true
		return baselineRow{}, false, nil
	}
	if err != nil {
		return baselineRow{}, false, b.bad(err)
	}
	b.line, _ = b.r.FieldPos(0)
	need := max(b.iUser, b.iPerm, b.iEmail)
	if len(rec) <= need {
		return baselineRow{}, false, Refused("baseline %s:%d: want %d fields, got %d", b.name, b.line, need+1, len(rec))
	}
	id, err := strconv.ParseInt(strings.TrimSpace(rec[b.iUser]), 10, 64)
	if err != nil || id <= 0 {
		return baselineRow{}, false, Refused("baseline %s:%d: invalid user_id %q", b.name, b.line, rec[b.iUser])
	}
	if id < b.lastUser {
		return baselineRow{}, false, Refused("baseline %s:%d: user_id %d after %d: rows must be in ascending user_id order (as perms export writes them)", b.name, b.line, id, b.lastUser)
	}
	b.lastUser = id
	row := baselineRow{userID: id, perm: strings.TrimSpace(rec[b.iPerm])}
	if b.iEmail >= 0 {
		row.email = rec[b.iEmail]
	}
	b.cur, b.hasCur = row, true
	return row, true, nil
}

func (b *Baseline) next() { b.hasCur = false }

// takeUser consumes every row of user id (which must be the next user).
func (b *Baseline) takeUser(id int64) ([]baselineRow, error) {
	var out []baselineRow
	for {
		r, ok, err := b.peek()
		if err != nil {
			return nil, err
		}
		if !ok || r.userID != id {
			return out, nil
		}
		out = append(out, r)
		b.next()
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
