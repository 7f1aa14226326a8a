package client

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Audit says who is changing things and why. Every change carries one;
// runChange writes it to the operation log and the run, in the change's
// transaction.
type Audit struct {
	Actor   string
	Command string // the command line, secrets removed
	Reason  string
	Target  string // the database changed: profile name or host/database
	// Run is set while a batch runs a line: the batch's run (already
	// recorded) and the line. Nil: the change is a run of its own.
	Run *RunLine
	// Reverts is the run an undo reverses.
	Reverts string
}

// RunLine is a line of a batch run. The run is recorded by the first line
// that goes through the change engine, so a batch that writes nothing
// leaves no run.
type RunLine struct {
	ID        string
	StartedAt time.Time // when the batch started
	Mode      string
	Command   string // the batch's own command line, secrets removed: the run's
	File      string
	SHA256    string // of the batch's input
	Line      int
	// Totals, when set, collects the lines' counts for FinishRun instead
	// of each line adding them to the run's row: a run of --atomic or
	// --dry-run is one transaction, in which thousands of updates of one
	// row would each walk all its earlier versions.
	Totals *RunTotals
}

// RunTotals are a batch run's counts, collected line by line.
type RunTotals struct {
	Changes int64
	Effects Effects
	// Recorded says a line has queued the run's row in the transaction.
	// Rolling back a savepoint restores the totals, and this with them.
	Recorded bool
}

// totalsMu guards RunTotals: lines run side by side (Gather) add to one.
var totalsMu sync.Mutex

// firstRecord marks the run's row queued and reports whether it was not
// yet: the first line that writes records it, the others need not send
// the statement again.
func (t *RunTotals) firstRecord() bool {
	totalsMu.Lock()
	defer totalsMu.Unlock()
	first := !t.Recorded
	t.Recorded = true
	return first
}

func (t *RunTotals) add(changes int64, e Effects) {
	totalsMu.Lock()
	defer totalsMu.Unlock()
	t.Changes += changes
	t.Effects.add(e)
}

// Limits of the free text a change records (api_operationlog's columns).
const (
	maxActor  = 255
	maxReason = 4096
)

// validate refuses free text PostgreSQL would reject or that could fool a
// reader of the log, before any SQL is sent.
func (a Audit) validate() error {
	if err := CheckActor(a.Actor); err != nil {
		return err
	}
	return CheckReason(a.Reason)
}

// CheckActor and CheckReason are the engine's own checks of the audit
// text, for the commands' database-free validation and the batch
// pre-check: a line that the engine would refuse is refused before the
// batch's first line runs.
func CheckActor(s string) error { return CheckText("--actor", s, maxActor) }

// CheckReason: see CheckActor.
func CheckReason(s string) error { return CheckText("--reason", s, maxReason) }

// CheckText refuses a free-text value that is not valid UTF-8, holds
// control or bidirectional-override characters, or is longer than max
// characters.
func CheckText(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return Refused("invalid %s: not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return Refused("invalid %s: %d characters, at most %d", what, n, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r) {
			return Refused("invalid %s: control character %U", what, r)
		}
	}
	return nil
}

// isBidiControl reports the characters that reorder text on screen
// (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C): a name holding one
// can display as something else entirely.
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// Change is one user's change by one action: the fields it changed, each
// with its value before and after, side effects included (blacklisted
// tokens, deleted sessions and devices). Detail holds what the log needs
// beyond the change list, such as the id of a row the change created.
type Change struct {
	UserID int64          `json:"user_id"`
	Email  string         `json:"email"`
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
	Detail map[string]any `json:"-"`
}

// Fields lists the change's field names, sorted.
func (c Change) Fields() []string {
	keys := make([]string, 0, len(c.After))
	for k := range c.After {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pipeline queues a change's statements and its log rows and sends them in
// one round trip (a pgx batch): a batch line is mostly round trips.
type pipeline struct {
	b pgx.Batch
	// expect holds, by statement index, how many rows a statement must
	// affect, and the error when it does not.
	expect map[int]expectation
}

type expectation struct {
	rows int64
	err  error
}

func (p *pipeline) exec(sql string, args ...any) { p.b.Queue(sql, args...) }

// execExpect queues a statement (an INSERT, UPDATE or DELETE without
// RETURNING) that must affect exactly rows rows; any other count fails the
// change with err. The count is checked by the server, which raises an
// error when it is wrong, so that a COMMIT sent in the same round trip
// never runs after a wrong count.
func (p *pipeline) execExpect(rows int64, err error, sql string, args ...any) {
	if p.expect == nil {
		p.expect = map[int]expectation{}
	}
	p.expect[p.b.Len()] = expectation{rows, err}
	checked := "WITH w AS (" + sql + "\nRETURNING 1) SELECT 1 / (count(*) = $" + strconv.Itoa(len(args)+1) + ")::int FROM w"
	p.b.Queue(checked, append(append([]any(nil), args...), rows)...)
}

// expectationFailed reports whether err is a checked statement's wrong
// count (the division by zero execExpect arranges).
func expectationFailed(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "22012"
}

// insertLog is the one INSERT into the operation log.
const insertLog = `
INSERT INTO api_operationlog
    (created_at, actor, action, target_user_id, before, after, detail, reason, command, run_id, batch_file, batch_line)
SELECT now(), $1, $2, t.uid, t.b::jsonb, t.a::jsonb, t.d::jsonb, $3, $4, $5::uuid, $6, $7
FROM unnest($8::bigint[], $9::text[], $10::text[], $11::text[]) AS t(uid, b, a, d)`

// log queues the operation-log rows of changes, one per change (nothing
// when there are none).
func (p *pipeline) log(a Audit, runID, action string, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	ids := make([]int64, len(changes))
	befores := make([]string, len(changes))
	afters := make([]string, len(changes))
	details := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.UserID
		for _, f := range []struct {
			m   map[string]any
			out *string
		}{{c.Before, &befores[i]}, {c.After, &afters[i]}, {c.Detail, &details[i]}} {
			b, err := json.Marshal(nonNil(f.m))
			if err != nil {
				return err
			}
			*f.out = string(b)
		}
	}
	file, line := "", any(nil)
	if a.Run != nil {
		file, line = a.Run.File, a.Run.Line
	}
	p.b.Queue(insertLog, a.Actor, action, a.Reason, a.Command, runID, file, line, ids, befores, afters, details)
	return nil
}

// send runs everything queued, in order, and returns the first error.
func (p *pipeline) send(ctx context.Context, tx DBTX) error {
	if p.b.Len() == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, &p.b)
	if len(p.expect) == 0 {
		return br.Close()
	}
	defer br.Close()
	if err := p.read(br); err != nil {
		return err
	}
	return br.Close()
}

// read reads the results of p's statements from br, where they were sent
// (perhaps ahead of others), and returns the first error, a wrong count
// as its expectation's error.
func (p *pipeline) read(br pgx.BatchResults) error {
	for i := 0; i < p.b.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			if e, ok := p.expect[i]; ok && expectationFailed(err) {
				return e.err
			}
			return err
		}
	}
	return nil
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// LogEntry is one row of the operation log.
type LogEntry struct {
	ID        int64           `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	UserID    *int64          `json:"user_id"`
	Email     *string         `json:"email"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	Detail    json.RawMessage `json:"detail"`
	Reason    string          `json:"reason"`
	Command   string          `json:"command"`
	RunID     *string         `json:"run_id"`
	BatchFile string          `json:"batch_file"`
	BatchLine *int            `json:"batch_line"`
}
